"""The DeepSpeech workloads: official sizes, every workload training through the real runner,
what each variant changes, packed LSTMs ignoring padding, and every perturbation knob."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from sdk import spec
from sdk.errors import PacelineError
from sdk.registry import workloads
from sdk.rulesets import get_ruleset
from sdk.runner import RunOptions, train_once
from sdk.search_space import SearchSpace, generate_search, make_hyperparameters
from sdk.submission import load_submission
from workloads.common.speech import data
from workloads.librispeech_deepspeech import config
from workloads.librispeech_deepspeech.model_pytorch import DeepspeechModel

pytestmark = pytest.mark.usefixtures("torch_one_thread")

NAMES = ["librispeech_deepspeech", "librispeech_deepspeech_tanh",
         "librispeech_deepspeech_no_resnet", "librispeech_deepspeech_norm_and_spec_aug"]
OFFICIAL_PARAMS = {  # AlgoPerf's algoperf/workloads/librispeech_deepspeech/librispeech_pytorch/models.py, AlgoPerf's PyTorch models
    "librispeech_deepspeech": 18_393_600,
    "librispeech_deepspeech_tanh": 18_393_600,
    "librispeech_deepspeech_no_resnet": 18_393_600,
    "librispeech_deepspeech_norm_and_spec_aug": 18_392_576,
}


def _tiny_batch(speech_tiny_dir, rows=3):
    d = data.load_dev(speech_tiny_dir)
    b = d.splits["train"].batch(np.arange(rows), d.num_samples, d.num_targets)
    return {k: tuple(torch.from_numpy(x) for x in v) for k, v in b.items()}


def _variant_overrides(name):
    return workloads().workload_class(name, "dev", "pytorch").variant_overrides


@pytest.mark.parametrize("name", NAMES)
def test_official_size_parameter_count(name):
    with torch.device("meta"):
        model = DeepspeechModel(config.make_config(config.OFFICIAL, _variant_overrides(name)))
    assert sum(p.numel() for p in model.parameters()) == OFFICIAL_PARAMS[name]


@pytest.mark.parametrize("name", NAMES)
def test_trains_through_the_runner(name, speech_tiny_dir):
    w = workloads().create(name, "dev", "pytorch")
    sub = load_submission("nadamw", "pytorch", "external")
    hp = make_hyperparameters({"dropout_rate": 0.1, "label_smoothing": 0.0,
                               "learning_rate": 1e-3, "one_minus_beta1": 0.1, "beta2": 0.999,
                               "weight_decay": 0.0, "warmup_factor": 0.0})
    result = train_once(w, sub, hp, 0, get_ruleset("0.6"),
                        RunOptions(data_dir=speech_tiny_dir, max_global_steps=2, tensorboard=False),
                        trial_dir=None)
    assert result.global_step == 2 and result.status == "max_global_steps"
    assert result.num_evals >= 1 and result.target_metric == "wer"
    assert math.isfinite(result.best_validation_metric)


def test_variants_change_what_the_official_ones_change():
    base = workloads().create("librispeech_deepspeech", "dev", "pytorch")
    expected = {
        "librispeech_deepspeech_tanh": {"use_tanh": True},
        "librispeech_deepspeech_no_resnet": {"enable_residual_connections": False},
        "librispeech_deepspeech_norm_and_spec_aug": {
            "layernorm_everywhere": True, "enable_decoder_layer_norm": False,
            "freq_mask_count": 4, "time_mask_count": 15},
    }
    for name, change in expected.items():
        w = workloads().create(name, "dev", "pytorch")
        cfg, ref = w.model_config, base.model_config
        diff = {k: getattr(cfg, k) for k in vars(ref) if getattr(cfg, k) != getattr(ref, k)}
        assert diff == change, name
    norm_aug = workloads().create("librispeech_deepspeech_norm_and_spec_aug", "dev", "pytorch")
    assert norm_aug.eval_batch_size == base.eval_batch_size // 2  # officially 256 -> 128


def test_norm_and_spec_aug_has_no_batch_norm_statistics():
    cfg = workloads().create("librispeech_deepspeech_norm_and_spec_aug", "dev",
                             "pytorch").model_config
    model = DeepspeechModel(cfg)
    assert not [n for n, _ in model.named_buffers() if "running" in n]
    assert model.ln is None


def test_lstms_see_only_valid_frames(speech_tiny_dir):
    """Changing an utterance's padded audio changes nothing in its valid output frames."""
    torch.manual_seed(0)
    model = DeepspeechModel(config.DEV).eval()
    batch = _tiny_batch(speech_tiny_dir)
    audio, paddings = batch["inputs"]
    noisy = audio.clone()
    noisy[paddings == 1] = 5000.0
    with torch.no_grad():
        a, pa = model(audio, paddings, 0.0)
        b, _ = model(noisy, paddings, 0.0)
    valid = pa == 0
    assert (pa == 1).any()
    torch.testing.assert_close(a[valid], b[valid])


def _knob_settings():
    settings = []
    for knob, rule in config.PERTURBATION_SPACE.items():
        values = rule.get("feasible_points") or [rule["min"], rule["max"]]
        settings += [{knob: v} for v in values]
    space = SearchSpace.from_json(config.PERTURBATION_SPACE)
    settings += [p._asdict() for p in generate_search(space, 4, seed=0)]  # knobs combined
    return settings


@pytest.mark.parametrize("overrides", _knob_settings(), ids=lambda o: json.dumps(o))
def test_every_perturbation_builds_and_trains(overrides, speech_tiny_dir):
    w = workloads().create("librispeech_deepspeech", "dev", "pytorch",
                           model_overrides=overrides)
    w._speech_data(speech_tiny_dir)
    params, state = w.init_model_fn(np.array([0, 1], np.uint32))
    batch = _tiny_batch(speech_tiny_dir)
    before = [p.detach().clone() for p in params.parameters()]
    opt = torch.optim.SGD(params.parameters(), lr=0.05)
    (logits, pads), state = w.model_fn(params, batch, state, spec.ForwardPassMode.TRAIN, None,
                                       update_batch_norm=True)
    loss = w.loss_fn(batch["targets"], (logits, pads))
    (loss["summed"] / loss["n_valid_examples"]).backward()
    opt.step()
    assert torch.isfinite(loss["summed"])
    assert any(not torch.equal(a, b) for a, b in zip(before, params.parameters(), strict=True))


def test_bad_overrides_say_what_is_wrong():
    with pytest.raises(PacelineError, match="Unknown DeepSpeech model override"):
        workloads().create("librispeech_deepspeech", "dev", "pytorch",
                           model_overrides={"lstm_layers": 3})
    with pytest.raises(PacelineError, match="even encoder_dim"):
        config.make_config(config.DEV, {"encoder_dim": 101})


def test_parameter_names_and_types_follow_algoperf(speech_tiny_dir):
    w = workloads().create("librispeech_deepspeech", "dev", "pytorch")
    w._speech_data(speech_tiny_dir)
    w.init_model_fn(np.array([0, 1], np.uint32))
    types = w.model_params_types
    assert types["lstms.0.bn_normalization_layer.weight"] == \
        spec.ParameterType.BATCH_NORM_SCALE
    assert types["subsample.conv1.kernel"] == spec.ParameterType.CONV_WEIGHT
    assert types["ln.scale"] == spec.ParameterType.LAYER_NORM_SCALE
    assert w.is_output_params("lin.bias") and not w.is_output_params("subsample.lin.bias")
