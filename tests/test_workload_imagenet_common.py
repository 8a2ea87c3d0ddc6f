"""Behaviour shared by the eight dev ImageNet workloads (ResNet and ViT, base and variants):
registration, numbers, batch-size rule, input queues, eval metric, model overrides and a few
training steps through the real runner.

    .venv/bin/python -m pytest tests/test_workload_imagenet_common.py -q
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from sdk import spec
from sdk.errors import PacelineError
from sdk.registry import workloads
from sdk.rulesets import get_ruleset
from sdk.runner import RunOptions, train_once
from sdk.search_space import make_hyperparameters
from sdk.submission import load_submission
from workloads.common import vision
from workloads.imagenet_resnet import config as resnet_config
from workloads.imagenet_resnet import workload as base_workload
from workloads.imagenet_vit import config as vit_config

RESNETS = ["imagenet_resnet", "imagenet_resnet_silu", "imagenet_resnet_gelu",
           "imagenet_resnet_large_bn_init"]
VITS = ["imagenet_vit", "imagenet_vit_glu", "imagenet_vit_post_ln", "imagenet_vit_map"]
ALL = RESNETS + VITS
NADAMW_FIRST_POINT = {"dropout_rate": 0.0, "label_smoothing": 0.1,
                      "learning_rate": 0.001308209823469072, "one_minus_beta1": 0.02686663061,
                      "beta2": 0.9981232922116359, "weight_decay": 0.16375311233774334,
                      "warmup_factor": 0.1}

pytestmark = pytest.mark.skipif(not vision.has_raw_files(vision.SOURCE_DIR),
                                reason="Debian package dataset-fashion-mnist not installed")


@pytest.fixture(scope="module", autouse=True)
def prepared() -> None:
    vision.prepare()  # once into the cache; a no-op when already prepared


@pytest.fixture
def small_evals(monkeypatch: pytest.MonkeyPatch) -> None:
    """Evaluate on 300 examples per split so runner tests stay fast."""
    for split in ("eval_train", "validation", "test"):
        monkeypatch.setitem(base_workload.DEV_SIZES, split, 300)


def create(name: str, **kwargs):  # noqa: ANN201
    return workloads().create(name, "dev", "pytorch", **kwargs)


def test_registered_with_bases_and_shared_data() -> None:
    for name in ALL:
        entry = workloads().entry(name)
        assert entry.classes["dev"]["pytorch"]
        if name in ("imagenet_resnet", "imagenet_vit"):
            assert entry.base is None and entry.scored
        assert entry.prepare and entry.prepare.endswith("data:prepare")
    assert {workloads().entry(n).base for n in RESNETS[1:]} == {"imagenet_resnet"}
    assert {workloads().entry(n).base for n in VITS[1:]} == {"imagenet_vit"}
    assert set(ALL) <= set(workloads().names(scale="dev"))


@pytest.mark.parametrize("name", ALL)
def test_numbers_per_version(name: str) -> None:
    v05, v06 = create(name).numbers, create(name, ruleset_version="0.6").numbers
    assert v05.target_metric_name == "accuracy" and not v05.metric_minimized
    assert 0 < v05.test_target_value <= 1 and 0 < v05.validation_target_value <= 1
    base = get_ruleset("0.5").workloads[base_workload_name(name)]
    base06 = get_ruleset("0.6").workloads[base_workload_name(name)]
    # the step-hint ratio times the step share the v0.6 baseline got in its budget
    framework = create(name).framework
    share = get_ruleset("0.6").baseline_step_share(name, framework)
    ratio = base06.step_hint / base.step_hint * share
    assert v06.max_allowed_runtime_sec == pytest.approx(v05.max_allowed_runtime_sec * ratio,
                                                        abs=0.01)
    assert v06.validation_target_value == v05.validation_target_value
    family = RESNETS if name in RESNETS else VITS
    first = create(family[0]).numbers
    assert (v05.max_allowed_runtime_sec, v05.eval_period_time_sec, v05.step_hint) == (
        first.max_allowed_runtime_sec, first.eval_period_time_sec, first.step_hint)


def base_workload_name(name: str) -> str:
    return "imagenet_resnet" if "resnet" in name else "imagenet_vit"


@pytest.mark.parametrize("name,dev", [("imagenet_resnet", 64), ("imagenet_resnet_silu", 64),
                                      ("imagenet_vit", 128), ("imagenet_vit_map", 128)])
def test_official_batch_sizes_scale_to_dev(name: str, dev: int) -> None:
    w = create(name)
    assert w.effective_batch_size(1024) == dev
    assert w.effective_batch_size(512) == dev // 2
    assert w.effective_batch_size(1) == 1


@pytest.mark.parametrize("name", ["imagenet_resnet_silu", "imagenet_vit"])
def test_train_queue_shapes_dtypes_and_resume(name: str) -> None:
    w = create(name)
    rng = np.array([7, 9], dtype=np.uint32)
    queue = w._build_input_queue(rng, "train", None, 512)
    first, second, third = next(queue), next(queue), next(queue)
    n = w.effective_batch_size(512)
    assert first["inputs"].shape == (n, 1, 28, 28) and first["inputs"].dtype == torch.float32
    if w.dev_augmentation.mixup_alpha:
        assert first["targets"].shape == (n, 10) and first["targets"].dtype == torch.float32
        torch.testing.assert_close(first["targets"].sum(1), torch.ones(n))
    else:
        assert first["targets"].shape == (n,) and first["targets"].dtype == torch.int64
    assert not torch.equal(first["inputs"], second["inputs"])
    again = w._build_input_queue(rng, "train", None, 512)
    again.skip(2)
    resumed = next(again)
    torch.testing.assert_close(resumed["inputs"], third["inputs"])
    torch.testing.assert_close(resumed["targets"], third["targets"])


def test_eval_queue_is_unaugmented_and_weighted() -> None:
    w = create("imagenet_vit")
    batches = list(w._build_input_queue(None, "validation", None, 700))
    n = vision.VALIDATION_SIZE
    assert [len(b["targets"]) for b in batches] == [700] * (n // 700) + [n % 700] * (n % 700 > 0)
    assert all(b["targets"].dtype == torch.int64 for b in batches)
    assert all(torch.equal(b["weights"], torch.ones(len(b["targets"]))) for b in batches)
    raw = vision.load(None)["validation"]["images"][:700].astype(np.float32)
    expected = (raw - base_workload.DEV_MEAN[0]) / base_workload.DEV_STD[0]
    np.testing.assert_allclose(batches[0]["inputs"][:, 0].numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("name", ["imagenet_resnet", "imagenet_vit_map"])
def test_eval_accuracy_and_loss_against_hand_computation(name: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A model that is right on every third example: accuracy and loss known exactly."""
    w = create(name)
    labels = torch.as_tensor(vision.load(None)["validation"]["labels"])

    def fake_forward(model, inputs, dropout_rate):  # noqa: ANN001, ANN202
        # recover each example's index from its position in the eval pass
        start = fake_forward.seen
        fake_forward.seen += len(inputs)
        idx = torch.arange(start, start + len(inputs))
        truth = labels[idx]
        guess = torch.where(idx % 3 == 0, truth, (truth + 1) % 10)
        return 4.0 * torch.nn.functional.one_hot(guess, 10).float()

    fake_forward.seen = 0
    monkeypatch.setattr(w, "_forward", fake_forward)
    params, state = w.init_model_fn(np.array([0, 1], dtype=np.uint32))
    n = vision.VALIDATION_SIZE
    right = len(range(0, n, 3))  # examples 0, 3, 6, ...
    metrics = w._eval_model_on_split("validation", n, 768, params, state, None, None)
    assert metrics["accuracy"] == pytest.approx(right / n)
    # each example: CE of logits (4 on one class, 0 elsewhere)
    p_right = np.exp(4) / (np.exp(4) + 9)
    expected_loss = -(right * np.log(p_right) + (n - right) * np.log(1 / (np.exp(4) + 9))) / n
    assert metrics["loss"] == pytest.approx(expected_loss, rel=1e-5)


def test_loss_fn_by_hand_with_mask_smoothing_and_soft_labels() -> None:
    w = create("imagenet_resnet")
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [5.0, 5.0, 5.0]])
    labels = torch.tensor([0, 2, 1])
    mask = torch.tensor([1.0, 1.0, 0.0])
    out = w.loss_fn(labels, logits, mask, label_smoothing=0.3)
    logp = torch.log_softmax(logits, -1)
    target = torch.full((3, 3), 0.1)
    target[0, 0], target[1, 2], target[2, 1] = 0.8, 0.8, 0.8
    per = -(target * logp).sum(-1) * mask
    torch.testing.assert_close(out["per_example"], per)
    torch.testing.assert_close(out["summed"], per.sum())
    assert float(out["n_valid_examples"]) == 2.0
    soft = torch.tensor([[0.5, 0.5, 0.0]])
    out = w.loss_fn(soft, logits[:1])
    assert float(out["summed"]) == pytest.approx(float(-(0.5 * logp[0, 0] + 0.5 * logp[0, 1])))


def _override_cases(space: dict, seed: int) -> list[dict]:
    """Every knob at every choice / both ends, plus random combinations."""
    cases = []
    for knob, how in space.items():
        values = how["choices"] if "choices" in how else (how["low"], how["high"])
        cases += [{knob: v} for v in values]
    rng = random.Random(seed)
    for _ in range(4):
        cases.append({k: (rng.choice(h["choices"]) if "choices" in h
                          else rng.uniform(h["low"], h["high"])) for k, h in space.items()})
    return cases


@pytest.mark.parametrize("name,space", [("imagenet_resnet", resnet_config.PERTURBATION_SPACE),
                                        ("imagenet_vit", vit_config.PERTURBATION_SPACE)])
def test_every_perturbation_builds_and_trains(name: str, space: dict) -> None:
    x = torch.randn(4, 1, 28, 28)
    y = torch.tensor([0, 1, 2, 3])
    for overrides in _override_cases(space, seed=len(name)):
        w = create(name, model_overrides=overrides)
        model, state = w.init_model_fn(np.array([0, 3], dtype=np.uint32))
        logits, _ = w.model_fn(model, {"inputs": x}, state, spec.ForwardPassMode.TRAIN, None,
                               update_batch_norm=True)
        assert logits.shape == (4, 10), overrides
        w.loss_fn(y, logits)["summed"].backward()
        assert all(torch.isfinite(p.grad).all() for p in model.parameters()
                   if p.grad is not None), overrides


def test_bad_overrides_are_one_sentence_errors() -> None:
    with pytest.raises(PacelineError, match="Unknown model override"):
        create("imagenet_resnet", model_overrides={"colour": "red"})
    with pytest.raises(PacelineError, match="must be true or false"):
        create("imagenet_vit", model_overrides={"use_glu": "yes"})
    with pytest.raises(PacelineError, match="must be a number"):
        create("imagenet_resnet", model_overrides={"bn_init_scale": "big"})
    with pytest.raises(PacelineError, match="Unknown activation 'swish'"):
        create("imagenet_resnet", model_overrides={"activation": "swish"})
    with pytest.raises(PacelineError, match="pooling must be"):
        create("imagenet_vit", model_overrides={"pooling": "cls"})


def test_variant_overrides_compose_with_model_overrides() -> None:
    w = create("imagenet_resnet_large_bn_init", model_overrides={"activation": "silu"})
    assert w.model_config.bn_init_scale == 8.0 and w.model_config.activation == "silu"
    assert w.model_overrides == {"bn_init_scale": 8.0, "activation": "silu"}


@pytest.mark.parametrize("name", ALL)
def test_few_steps_through_the_runner(name: str, small_evals: None, tmp_path: Path) -> None:
    w = create(name)
    submission = load_submission("nadamw", "pytorch", "external")
    result = train_once(w, submission, make_hyperparameters(NADAMW_FIRST_POINT), 3,
                        get_ruleset("0.5"), RunOptions(max_global_steps=2, tensorboard=False),
                        tmp_path / "trial")
    assert result.status == "max_global_steps" and result.global_step == 2
    assert result.num_evals >= 1 and 0.0 <= result.best_validation_metric <= 1.0
    rows = (tmp_path / "trial" / "eval_measurements.csv").read_text().splitlines()
    header = rows[0].split(",")
    for column in ("train/accuracy", "validation/accuracy", "test/accuracy", "test/loss"):
        assert column in header


def test_paceline_run_cli(small_evals: None, tmp_path: Path) -> None:
    from sdk.cli.main import main

    code = main(["run", "--scale", "dev", "--workload", "imagenet_resnet_gelu", "--submission",
                 "nadamw", "--max-global-steps", "2", "--experiment-dir", str(tmp_path),
                 "--no-tensorboard", "--seed", "1"])
    assert code == 0
    assert list(tmp_path.rglob("imagenet_resnet_gelu_pytorch/trial_1/eval_measurements.csv"))


def test_combinations_are_distinct_models() -> None:
    """The official variants really change the model they claim to change."""
    sizes = {}
    for name in ALL:
        w = create(name)
        model, _ = w.init_model_fn(np.array([0, 0], dtype=np.uint32))
        sizes[name] = sum(p.numel() for p in model.parameters())
    assert sizes["imagenet_vit_glu"] > sizes["imagenet_vit"]
    assert sizes["imagenet_vit_map"] > sizes["imagenet_vit"]
    assert sizes["imagenet_vit_post_ln"] < sizes["imagenet_vit"]
    assert len({sizes[n] for n in RESNETS}) == 1
