"""fastmri at dev scale: k-space and masks, SSIM against hand-computed cases, the brain
template slices (splits without leakage, determinism), U-Net sizes, batches and runs.

Needs the Debian package mricron-data (scripts/setup.sh installs it); tests that read the
templates skip without it.
"""

from __future__ import annotations

import math
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest
import torch

from sdk import spec
from sdk.errors import PacelineError
from sdk.registry import workloads
from sdk.rulesets import get_ruleset
from sdk.runner import RunOptions, train_once
from sdk.submission import load_submission
from workloads.common import data_cache
from workloads.fastmri import config, data, workload
from workloads.fastmri import kspace as ks
from workloads.fastmri.model_pytorch import UNet
from workloads.fastmri.ssim import box_filter, ssim

NAMES = ("fastmri", "fastmri_model_size", "fastmri_tanh", "fastmri_layernorm")
OFFICIAL_PARAMS = {"fastmri": 7_756_097, "fastmri_model_size": 7_692_929,
                   "fastmri_tanh": 7_756_097, "fastmri_layernorm": 7_761_985}
SMALL_VOLUMES = ("ch2bet", "inia19")
HP = namedtuple("HP", ["learning_rate", "one_minus_beta1", "beta2", "weight_decay",
                       "warmup_factor", "label_smoothing", "dropout_rate"])(
    1e-3, 0.1, 0.999, 0.0, 0.05, 0.0, 0.0)
needs_templates = pytest.mark.skipif(not (data.TEMPLATE_DIR / "ch2bet.nii.gz").is_file(),
                                     reason="Debian package mricron-data is not installed")


def _build_small(folder: Path) -> dict:
    return data.build_dev(folder, volumes=SMALL_VOLUMES)


@pytest.fixture(scope="session")
def small_dir(tmp_path_factory) -> str:
    if not (data.TEMPLATE_DIR / "ch2bet.nii.gz").is_file():
        pytest.skip("Debian package mricron-data is not installed")
    folder = tmp_path_factory.mktemp("fastmri") / "slices"
    return str(data_cache.prepare("fastmri", _build_small, str(folder)))


def _workload(name: str = "fastmri", **kwargs):
    return workloads().create(name, "dev", "pytorch", **kwargs)


# ---- model ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_official_size_parameter_counts(name):
    overrides = config.VARIANTS.get(name, {}).get("official", {})
    with torch.device("meta"):  # shapes only: no memory, no init
        model = UNet(config.make_config("official", overrides))
    assert sum(p.numel() for p in model.parameters()) == OFFICIAL_PARAMS[name]


def test_official_parameter_names_and_output_layer():
    with torch.device("meta"):
        model = UNet(config.OFFICIAL)
    names = [n for n, _ in model.named_parameters()]
    assert names[0] == "down_sample_layers.0.conv_layers.0.weight"
    assert names[-2:] == ["up_conv.3.1.weight", "up_conv.3.1.bias"]
    w = _workload("fastmri_model_size")
    dev = UNet(w.model_config)
    assert [n for n, _ in dev.named_parameters() if w.is_output_params(n)] == [
        "up_conv.2.1.weight", "up_conv.2.1.bias"]


def test_layernorm_variant_keeps_instance_norm_in_transposed_blocks():
    model = UNet(config.make_config("dev", config.VARIANTS["fastmri_layernorm"]["dev"]))
    assert isinstance(model.conv.conv_layers[1], torch.nn.GroupNorm)
    assert isinstance(model.up_transpose_conv[0].layers[1], torch.nn.InstanceNorm2d)


def test_odd_sizes_are_reflect_padded_back_to_the_input_size():
    model = UNet(config.make_config("dev", {"num_channels": 2}))
    assert model(torch.randn(1, 37, 29)).shape == (1, 37, 29)


@pytest.mark.parametrize("knob", sorted(config.PERTURBATION_SPACE))
def test_every_perturbation_builds_and_trains(knob):
    spec_ = config.PERTURBATION_SPACE[knob]
    values = spec_["choices"] if "choices" in spec_ else spec_["range"]
    x, y = torch.randn(2, 32, 32), torch.randn(2, 32, 32)
    for value in values:
        w = _workload(model_overrides={knob: value})
        model, _ = w.init_model_fn(np.array([1, 1], np.uint32))
        out, _ = w.model_fn(model, {"inputs": x}, None, spec.ForwardPassMode.TRAIN, None, True)
        loss = w.loss_fn(y, out)
        (loss["summed"] / loss["n_valid_examples"]).backward()
        assert out.shape == (2, 32, 32) and torch.isfinite(out).all(), (knob, value)


def test_bad_override_is_one_clear_error():
    with pytest.raises(PacelineError, match="norm must be one of"):
        config.make_config("dev", {"norm": "batch"})
    with pytest.raises(PacelineError, match="Unknown fastmri model override"):
        config.make_config("dev", {"channels": 8})


# ---- k-space and masks ----------------------------------------------------------------------
def test_fft_pair_is_exact_and_full_mask_gives_the_magnitude():
    rng = np.random.default_rng(0)
    image = rng.normal(size=(3, 16, 12)) + 1j * rng.normal(size=(3, 16, 12))
    np.testing.assert_allclose(ks.centered_ifft2(ks.centered_fft2(image)), image, atol=1e-12)
    full = ks.zero_filled_magnitude(ks.centered_fft2(image), np.ones(12), (16, 12))
    np.testing.assert_allclose(full, np.abs(image), rtol=1e-5)
    crop = ks.zero_filled_magnitude(ks.centered_fft2(image), np.ones(12), (8, 6))
    np.testing.assert_allclose(crop, np.abs(image)[:, 4:12, 3:9], rtol=1e-5)


@pytest.mark.parametrize("width,n_low,start", [(64, 5, 30), (368, 29, 170), (320, 25, 148)])
def test_column_mask_follows_the_official_rule(width, n_low, start):
    mask = ks.column_mask(width, np.ones(width))  # no random columns
    assert mask.sum() == n_low and mask[start:start + n_low].all()
    draws = np.random.default_rng(1).random((2000, width))
    kept = np.mean([ks.column_mask(width, u).sum() for u in draws])
    assert kept == pytest.approx(width / 4, rel=0.02)  # 4x acceleration


def test_normalisation_uses_the_zero_filled_statistics_and_clips():
    zf = np.array([[[0.0, 1.0], [2.0, 3.0]]], np.float32)
    target = np.array([[[0.0, 1.0], [2.0, 100.0]]], np.float32)
    inputs, targets, mean, std = ks.normalise(zf, target)
    assert mean[0] == pytest.approx(1.5) and std[0] == pytest.approx(math.sqrt(1.25))
    np.testing.assert_allclose(inputs[0].ravel(), (np.arange(4) - 1.5) / math.sqrt(1.25),
                               rtol=1e-6)
    assert targets[0, 1, 1] == 6.0  # clipped


# ---- SSIM -----------------------------------------------------------------------------------
def _ssim_by_loops(x: np.ndarray, y: np.ndarray, data_range: float) -> float:
    """SSIM written out window by window (symmetric padding, 7x7, 49/48, 3-pixel crop)."""
    px, py = np.pad(x, 3, mode="symmetric"), np.pad(y, 3, mode="symmetric")
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    values = []
    for i in range(3, x.shape[0] - 3):
        for j in range(3, x.shape[1] - 3):
            a, b = px[i:i + 7, j:j + 7], py[i:i + 7, j:j + 7]
            ua, ub = a.mean(), b.mean()
            va, vb = a.var(ddof=1), b.var(ddof=1)
            cov = ((a - ua) * (b - ub)).sum() / 48
            values.append((2 * ua * ub + c1) * (2 * cov + c2) /
                          ((ua**2 + ub**2 + c1) * (va + vb + c2)))
    return float(np.mean(values))


def test_ssim_matches_a_window_by_window_computation():
    rng = np.random.default_rng(3)
    x = rng.random((12, 11))
    y = x + 0.3 * rng.random((12, 11))
    got = ssim(torch.tensor(x[None]), torch.tensor(y[None]), volume_max=torch.tensor([1.7]))
    assert float(got[0]) == pytest.approx(_ssim_by_loops(x, y, 1.7), abs=1e-5)


def test_ssim_hand_computed_cases():
    x = torch.rand(2, 10, 10)
    assert ssim(x, x).tolist() == pytest.approx([1.0, 1.0])
    a, b, rng_ = 0.4, 0.9, 2.0  # constant images: SSIM = (2ab + C1) / (a^2 + b^2 + C1)
    c1 = (0.01 * rng_) ** 2
    got = ssim(torch.full((1, 9, 9), a), torch.full((1, 9, 9), b), volume_max=torch.tensor([rng_]))
    # (float32 window statistics leave variances of ~1e-7, as upstream's do)
    assert float(got[0]) == pytest.approx((2 * a * b + c1) / (a * a + b * b + c1), abs=1e-4)
    # de-normalisation: (x * std + mean) for both images before comparing
    mean, std = torch.tensor([5.0]), torch.tensor([2.0])
    x1, y1 = torch.rand(1, 9, 9), torch.rand(1, 9, 9)
    assert float(ssim(x1, y1, mean, std, torch.tensor([3.0]))[0]) == pytest.approx(
        float(ssim(x1 * 2 + 5, y1 * 2 + 5, volume_max=torch.tensor([3.0]))[0]), rel=1e-5)
    # a zero volume_max (padding) counts as 1; values are clipped to [-1, 1]
    assert float(ssim(x1, y1, volume_max=torch.tensor([0.0]))[0]) == pytest.approx(
        float(ssim(x1, y1, volume_max=torch.tensor([1.0]))[0]))
    assert float(ssim(x1, -x1 * 50, volume_max=torch.tensor([1e-4]))[0]) >= -1.0


def test_box_filter_uses_symmetric_padding():
    img = torch.arange(1.0, 8.0).reshape(1, 1, 7).expand(1, 7, 7).contiguous()
    out = box_filter(img)
    # column 0 averages [3, 2, 1, 1, 2, 3, 4] (symmetric padding repeats the edge)
    assert float(out[0, 3, 0]) == pytest.approx(16 / 7)


# ---- data -------------------------------------------------------------------------------------
@needs_templates
def test_slab_splits_share_no_anatomy_and_have_the_documented_sizes():
    totals = dict.fromkeys(data.SPLITS, 0)
    by_subject: dict[str, dict[str, list]] = {}
    for name, (_, subject, cuts) in data.VOLUMES.items():
        for stack in data.volume_slices(name):
            totals[stack["split"]] += len(stack["image"])
            by_subject.setdefault(subject, {}).setdefault(stack["split"], []).extend(
                stack["position_mm"])
        assert all(cut.axis == cuts[0].axis for cut in cuts)  # parallel slices only
    for subject, splits in by_subject.items():
        gap = {"colin27": 3.0, "inia19": 1.5}[subject] - 1e-6  # 6% of the slab period
        for a in data.SPLITS:
            for b in data.SPLITS:
                if a < b:
                    distance = np.abs(np.subtract.outer(splits[a], splits[b])).min()
                    assert distance >= gap, (subject, a, b)
    assert totals == workload.DEV_SIZES


@needs_templates
def test_preparation_is_deterministic_and_laid_out_as_documented(tmp_path, small_dir):
    again = data_cache.prepare("fastmri", _build_small, str(tmp_path / "again"))
    files = sorted(p.relative_to(small_dir) for p in Path(small_dir).glob("*/*.npz"))
    assert [str(f) for f in files] == [f"{s}/{v}.npz" for s in sorted(data.SPLITS)
                                       for v in ("ch2bet_axial", "inia19_coronal")]
    for f in files:
        assert (Path(small_dir) / f).read_bytes() == (again / f).read_bytes(), f
    with np.load(Path(small_dir) / "train" / "inia19_coronal.npz") as npz:
        assert npz["kspace"].dtype == np.complex64 and npz["target"].dtype == np.float32
        assert npz["kspace"].shape[1:] == (64, 64) and npz["volume_max"].shape == ()
        # the target is the magnitude of the fully sampled k-space
        np.testing.assert_allclose(np.abs(ks.centered_ifft2(npz["kspace"])), npz["target"],
                                   atol=1e-5)


def test_user_data_dir_with_oversampled_kspace(tmp_path):
    """Files of other shapes work: k-space 80x72 is cropped to a 64x64 target."""
    rng = np.random.default_rng(0)
    for split, n in (("train", 6), ("validation", 3), ("test", 2)):
        (tmp_path / split).mkdir()
        image = rng.random((n, 80, 72)) * np.exp(1j * rng.random((n, 80, 72)))
        data_cache.save_npz(tmp_path / split, "vol", kspace=ks.centered_fft2(image)
                            .astype(np.complex64),
                            target=np.abs(image[:, 8:72, 4:68]).astype(np.float32),
                            volume_max=np.float32(1.0))
    w = _workload()
    batch = next(w._build_input_queue(np.array([1, 2], np.uint32), "train", str(tmp_path), 8))
    assert batch["inputs"].shape == (2, 64, 64) and w.num_train_examples == 6
    assert w.num_eval_train_examples == 6  # capped by the training set


def test_missing_or_malformed_data_is_one_clear_error(tmp_path):
    with pytest.raises(PacelineError, match="does not exist"):
        data.load(str(tmp_path / "nowhere"))
    (tmp_path / "train").mkdir()
    with pytest.raises(PacelineError, match="No fastmri train files"):
        data.load(str(tmp_path))
    data_cache.save_npz(tmp_path / "train", "bad", kspace=np.zeros((2, 8, 8), np.complex64))
    with pytest.raises(PacelineError, match="lacks"):
        data.read_split(tmp_path, "train")
    with pytest.raises(PacelineError, match="mricron-data"):
        data.volume_slices("ch2", template_dir=tmp_path)


@needs_templates
def test_batches_masks_and_dev_batch_size(small_dir):
    w = _workload()
    assert w.effective_batch_size(32) == 8 and w.effective_batch_size(64) == 16
    queue = w._build_input_queue(np.array([4, 2], np.uint32), "train", small_dir, 32)
    batch = next(queue)
    assert set(batch) == {"inputs", "targets", "mean", "std", "volume_max"}
    assert batch["inputs"].shape == (8, 64, 64) and batch["inputs"].dtype == torch.float32
    assert batch["mean"].shape == (8,) and float(batch["inputs"].abs().max()) <= 6.0
    # train masks: one per slice from the data rng, computed once (fixed across epochs)
    again = w._build_input_queue(np.array([4, 2], np.uint32), "train", small_dir, 32)
    other = w._build_input_queue(np.array([5, 2], np.uint32), "train", small_dir, 32)
    assert np.array_equal(queue.arrays["inputs"], again.arrays["inputs"])
    assert not np.array_equal(queue.arrays["inputs"], other.arrays["inputs"])
    # eval: one fixed mask for every slice, last batch shorter, weights present
    evals = list(w._build_input_queue(None, "validation", small_dir, 16))
    assert sum(len(b["inputs"]) for b in evals) == w.num_validation_examples
    assert float(evals[0]["weights"].sum()) == len(evals[0]["inputs"])


def test_loss_is_the_per_example_mean_absolute_error_with_masking():
    w = _workload()
    target = torch.zeros(3, 4, 4)
    out = torch.stack([torch.full((4, 4), v) for v in (1.0, -2.0, 5.0)])
    loss = w.loss_fn(target, out, torch.tensor([1.0, 1.0, 0.0]))
    assert loss["per_example"].tolist() == [1.0, 2.0, 0.0]
    assert float(loss["summed"]) == 3.0 and float(loss["n_valid_examples"]) == 2.0


@needs_templates
def test_eval_metrics_are_means_over_the_split(small_dir):
    w = _workload()
    w._build_input_queue(np.array([0, 0], np.uint32), "train", small_dir, 32)
    model, _ = w.init_model_fn(np.array([3, 3], np.uint32))
    metrics = w._eval_model_on_split("test", w.num_test_examples, 5, model, None, None,
                                     small_dir)
    arrays = w._eval_arrays("test", small_dir)
    with torch.no_grad():
        out = model(torch.from_numpy(arrays["inputs"]))
    per = ssim(out, torch.from_numpy(arrays["targets"]), torch.from_numpy(arrays["mean"]),
               torch.from_numpy(arrays["std"]), torch.from_numpy(arrays["volume_max"]))
    assert metrics["ssim"] == pytest.approx(float(per.mean()), rel=1e-5)
    l1 = (out - torch.from_numpy(arrays["targets"])).abs().mean()
    assert metrics["loss"] == pytest.approx(float(l1), rel=1e-5)


def test_numbers_tables_for_both_ruleset_versions():
    for name in NAMES:
        w05, w06 = _workload(name), _workload(name, ruleset_version="0.6")
        assert w05.target_metric_name == "ssim" and not w05.metric_minimized
        # v0.6 halved the step hint, and its budget bought ~2.7 step hints of V100 baseline steps
        assert w06.max_allowed_runtime_sec == pytest.approx(
            w05.max_allowed_runtime_sec * 18_094 / 36_189 * _share(w06), abs=0.01)
        assert 0.5 < w05.validation_target_value < 1.0

def _share(workload) -> float:  # noqa: ANN001
    """The step share the v0.6 budget bought in the workload's framework (sdk/rulesets.py)."""
    from sdk.rulesets import get_ruleset

    return get_ruleset("0.6").baseline_step_share(workload.name, workload.framework)



# ---- training through the runner --------------------------------------------------------------
@needs_templates
@pytest.mark.parametrize("name", NAMES)
def test_a_few_steps_through_the_runner(name, small_dir, tmp_path):
    result = train_once(_workload(name), load_submission("nadamw", "pytorch", "external"), HP,
                        1, get_ruleset("0.5"),
                        RunOptions(data_dir=small_dir, max_global_steps=2, tensorboard=False),
                        tmp_path / "trial")
    assert result.status == "max_global_steps" and result.global_step == 2
    assert -1.0 <= result.best_validation_metric <= 1.0


def test_v05_dropout_rate_given_at_init_is_used():
    w = _workload()
    batch = {"inputs": torch.randn(2, 32, 32)}
    w.set_init_dropout(0.5, None)
    model, _ = w.init_model_fn(np.array([2, 2], np.uint32))
    a, b = (w.model_fn(model, batch, None, spec.ForwardPassMode.TRAIN, None, True)[0]
            for _ in range(2))
    assert not torch.equal(a, b)
    c, d = (w.model_fn(model, batch, None, spec.ForwardPassMode.EVAL, None, False)[0]
            for _ in range(2))
    assert torch.equal(c, d)


# ---- JAX ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_jax_official_size_parameter_counts(name):
    import jax
    import jax.numpy as jnp

    from workloads.fastmri.model_jax import UNet as FlaxUNet

    overrides = config.VARIANTS.get(name, {}).get("official", {})
    model = FlaxUNet(config.make_config("official", overrides))
    shapes = jax.eval_shape(model.init, jax.random.PRNGKey(0), jnp.zeros((1, 320, 320)))
    assert sum(math.prod(x.shape) for x in jax.tree_util.tree_leaves(shapes)) == \
        OFFICIAL_PARAMS[name]
    assert "Conv_0" in shapes["params"]


def test_jax_ssim_matches_pytorch():
    import jax.numpy as jnp

    from workloads.fastmri.model_jax import ssim as jax_ssim

    rng = np.random.default_rng(0)
    x = rng.random((3, 20, 17)).astype(np.float32)
    y = (x + 0.3 * rng.random((3, 20, 17))).astype(np.float32)
    extra = [np.array(v, np.float32) for v in ([0.1, 0.2, 0.3], [1, 2, 0.5], [1.5, 0, 3])]
    got = jax_ssim(*(jnp.asarray(a) for a in (x, y, *extra)))
    want = ssim(*(torch.from_numpy(a) for a in (x, y, *extra)))
    np.testing.assert_allclose(np.asarray(got), want.numpy(), atol=1e-5)


@pytest.mark.slow  # compiling the train and eval steps takes tens of CPU seconds
def test_jax_a_few_steps_through_the_runner(small_dir, tmp_path):
    w = workloads().create("fastmri", "dev", "jax")
    result = train_once(w, load_submission("nadamw", "jax", "external"), HP, 1,
                        get_ruleset("0.5"), RunOptions(data_dir=small_dir, max_global_steps=2,
                                                       tensorboard=False),
                        tmp_path / "trial")
    assert result.status == "max_global_steps"
    assert -1.0 <= result.best_validation_metric <= 1.0
