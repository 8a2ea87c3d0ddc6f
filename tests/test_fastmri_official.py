"""fastmri at official scale: AlgoPerf's exact U-Nets (parameter counts without allocating),
the knee_singlecoil HDF5 reader on small files the tests write in AlgoPerf's layout, the
data check, and `paceline run --scale official` end to end.

    nice -n 15 .venv/bin/python -m pytest -q tests/test_fastmri_official.py
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from sdk import spec
from sdk.cli.main import main
from sdk.errors import PacelineError
from sdk.registry import workloads
from sdk.rulesets import get_ruleset
from workloads.fastmri import official_data

NAMES = ("fastmri", "fastmri_model_size", "fastmri_tanh", "fastmri_layernorm")
# AlgoPerf's measured trainable parameters (PyTorch = JAX for this family)
OFFICIAL_PARAMS = {"fastmri": 7_756_097, "fastmri_model_size": 7_692_929,
                   "fastmri_tanh": 7_756_097, "fastmri_layernorm": 7_761_985}
SMALL_K, SMALL_TARGET = 48, 32  # k-space rows and target side of the run-test volumes


def image_of(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A complex test image: blobs with a gentle phase under strong noise (so that an
    untrained U-Net is far from the SSIM target and a run goes on to its step limit)."""
    yy, xx = np.mgrid[:height, :width] / np.array([height, width])[:, None, None]
    blobs = sum(np.exp(-((yy - rng.uniform(0.2, 0.8)) ** 2 + (xx - rng.uniform(0.2, 0.8)) ** 2)
                       / 0.02) for _ in range(3))
    noise = rng.normal(0.0, 0.5, (2, height, width))
    return (blobs * np.exp(1j * (yy + xx)) + noise[0] + 1j * noise[1]).astype(np.complex64)


def centred_fft(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[-2:]
    k = np.fft.fft2(np.fft.ifftshift(image, axes=(-2, -1)), axes=(-2, -1))
    return np.fft.fftshift(k, axes=(-2, -1)) / np.sqrt(h * w)


def write_volume(path: Path, rng: np.random.Generator, slices: int, k_rows: int, width: int,
                 side: int, with_max: bool = True) -> None:
    """One volume as fastMRI's knee_singlecoil files hold it: kspace [slices, k_rows, width]
    complex64, reconstruction_esc [slices, side, side] float32 (the cropped magnitude) and
    the attribute max (the target's maximum) unless ``with_max`` is false."""
    images = np.stack([image_of(rng, k_rows, width) for _ in range(slices)])
    top, left = (k_rows - side) // 2, (width - side) // 2
    target = np.abs(images[:, top:top + side, left:left + side]).astype(np.float32)
    with h5py.File(path, "w") as f:
        f.create_dataset("kspace", data=centred_fft(images).astype(np.complex64))
        f.create_dataset("reconstruction_esc", data=target)
        if with_max:
            f.attrs["max"] = target.max()
        f.attrs["acquisition"] = "CORPD_FBK"


def write_official_dir(root: Path, val_volumes: int = 102) -> Path:
    """AlgoPerf's fastmri folder with small slices: 2 training volumes (3 + 2 slices, two
    k-space widths) and ``val_volumes`` single-slice validation-folder volumes."""
    rng = np.random.default_rng(0)
    for sub in ("knee_singlecoil_train", "knee_singlecoil_val", "knee_singlecoil_test"):
        (root / sub).mkdir(parents=True)
    write_volume(root / "knee_singlecoil_train" / "file1000001.h5", rng, 3, SMALL_K, 40,
                 SMALL_TARGET)
    write_volume(root / "knee_singlecoil_train" / "file1000000.h5", rng, 2, SMALL_K, 36,
                 SMALL_TARGET, with_max=False)
    for v in range(val_volumes):
        write_volume(root / "knee_singlecoil_val" / f"file{1001000 + v}.h5", rng, 1, SMALL_K,
                     36, SMALL_TARGET)
    return root


@pytest.fixture(scope="module")
def official_dir(tmp_path_factory) -> Path:
    return write_official_dir(tmp_path_factory.mktemp("fastmri") / "fastmri")


# ---- models and numbers -----------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_official_pytorch_models_have_algoperfs_parameter_counts(name):
    w = workloads().create(name, "official", "pytorch")
    with torch.device("meta"):  # shapes only: nothing is allocated or initialised for real
        model, state = w.init_model_fn(np.array([0, 1], np.uint32))
    assert sum(p.numel() for p in model.parameters()) == OFFICIAL_PARAMS[name]
    assert state is None
    outputs = [n for n, _ in model.named_parameters() if w.is_output_params(n)]
    assert outputs == [f"up_conv.{w.model_config.num_pool_layers - 1}.1.weight",
                       f"up_conv.{w.model_config.num_pool_layers - 1}.1.bias"]


@pytest.mark.parametrize("name", NAMES)
def test_official_jax_models_have_algoperfs_parameter_counts(name):
    import jax

    w = workloads().create(name, "official", "jax")
    # traced, never executed: shapes only
    params = jax.eval_shape(lambda rng: w.init_model_fn(rng)[0], jax.random.PRNGKey(0))
    assert sum(leaf.size for leaf in jax.tree_util.tree_leaves(params)) == OFFICIAL_PARAMS[name]
    assert "Conv_0" in params and w.is_output_params("Conv_0")


def jax_outputs_with_and_without_dropout(scale: str) -> tuple[np.ndarray, np.ndarray]:
    """A small U-Net's training output at dropout 0.5 and its evaluation output."""
    import jax

    w = workloads().create("fastmri", scale, "jax",
                           model_overrides={"num_channels": 4, "num_pool_layers": 2})
    params, state = w.init_model_fn(jax.random.PRNGKey(0))
    batch = {"inputs": jax.random.normal(jax.random.PRNGKey(1), (2, 16, 16))}

    @jax.jit
    def both(params: dict, batch: dict) -> tuple[jax.Array, jax.Array]:
        train, _ = w.model_fn(params, batch, state, spec.ForwardPassMode.TRAIN,
                              jax.random.PRNGKey(2), True, dropout_rate=0.5)
        evaluated, _ = w.model_fn(params, batch, state, spec.ForwardPassMode.EVAL, None, False)
        return train, evaluated

    return tuple(np.asarray(out) for out in both(params, batch))


def test_official_jax_ignores_the_dropout_rate_as_upstream():
    assert workloads().create("fastmri", "official", "jax")._dropout_rate(0.5) == 0.0
    assert workloads().create("fastmri", "dev", "jax")._dropout_rate(0.5) == 0.5


@pytest.mark.slow  # about 20 s of CPU: two U-Nets initialised and compiled
def test_official_jax_dropout_is_a_no_op_as_upstream():
    np.testing.assert_array_equal(*jax_outputs_with_and_without_dropout("official"))
    assert not np.allclose(*jax_outputs_with_and_without_dropout("dev"))  # dev applies it


@pytest.mark.parametrize("framework", ["pytorch", "jax"])
@pytest.mark.parametrize("name", NAMES)
def test_official_numbers_are_the_rulesets(name, framework):
    w = workloads().create(name, "official", framework)
    for version in ("0.5", "0.6"):
        assert w.numbers_for(version) == get_ruleset(version).workloads[name]
    assert w.eval_batch_size == 256 and w.effective_batch_size(32) == 32
    assert w.loss_type == spec.LossType.MEAN_ABSOLUTE_ERROR
    assert w.model_config.dropout_rate == 0.0  # AlgoPerf's DROPOUT_RATE for fastmri
    assert (w.num_train_examples, w.num_validation_examples, w.num_test_examples) == (
        34_742, 3_554, 3_581)
    assert w.num_eval_train_examples == 3_584  # validation rounded up to whole eval batches


# ---- the reader -------------------------------------------------------------------------------
def test_a_full_size_slice_is_processed_as_upstream(tmp_path):
    path = tmp_path / "file1000033.h5"
    write_volume(path, np.random.default_rng(1), 2, 640, 368, 320)
    volume = official_data.read_volume_header(path)
    assert (volume.slices, volume.kspace_shape, volume.target_shape) == (2, (640, 368),
                                                                         (320, 320))
    split = official_data.OfficialSplit("validation", [volume])
    uniform = np.random.default_rng(5).random(368)
    batch = split.examples(np.array([1, 0]), lambda index, width: uniform)
    assert batch["inputs"].shape == batch["targets"].shape == (2, 320, 320)
    with h5py.File(path) as f:
        assert batch["volume_max"].tolist() == [f.attrs["max"]] * 2
    # by hand: mask the columns, centred inverse FFT times sqrt(H*W), crop, magnitude, then
    # normalise both images by the zero-filled image's mean and (population) std, clip to 6
    with h5py.File(path) as f:
        kspace, target = f["kspace"][1], f["reconstruction_esc"][1]
    n_low = int(368 * 0.08)
    keep = uniform < (368 / 4 - n_low) / (368 - n_low)
    keep[(368 - n_low + 1) // 2:(368 - n_low + 1) // 2 + n_low] = True
    image = np.fft.fftshift(np.fft.ifft2(np.fft.ifftshift(kspace * keep))) * np.sqrt(640 * 368)
    zero_filled = np.abs(image[160:480, 24:344])
    mean, std = zero_filled.mean(), zero_filled.std()
    np.testing.assert_allclose(batch["inputs"][0], np.clip((zero_filled - mean) / std, -6, 6),
                               atol=2e-4)
    np.testing.assert_allclose(batch["targets"][0], np.clip((target - mean) / std, -6, 6),
                               atol=2e-4)
    np.testing.assert_allclose([batch["mean"][0], batch["std"][0]], [mean, std], rtol=1e-5)
    # every column kept: the zero-filled image is the target itself
    full = split.examples(np.array([0]), lambda index, width: np.zeros(width))
    np.testing.assert_allclose(full["inputs"], full["targets"], atol=1e-4)


def test_splits_follow_upstream(official_dir):
    index = official_data.load_index(official_dir)
    assert [len(index[s]) for s in ("train", "validation", "test")] == [5, 100, 2]
    assert [v.path.name for v in index["train"].volumes] == ["file1000000.h5", "file1000001.h5"]
    assert index["train"].volumes[0].volume_max == 0.0  # no 'max' attribute: 0, as upstream
    assert index["validation"].volumes[-1].path.name == "file1001099.h5"
    assert [v.path.name for v in index["test"].volumes] == ["file1001100.h5", "file1001101.h5"]
    batch = index["test"].examples(np.array([1, 0]), lambda i, w: np.zeros(w))
    maxima = []
    for name in ("file1001101.h5", "file1001100.h5"):
        with h5py.File(official_dir / "knee_singlecoil_val" / name) as f:
            maxima.append(f.attrs["max"])
    assert batch["volume_max"].tolist() == maxima


@pytest.mark.parametrize("framework", ["pytorch", "jax"])
def test_the_workload_counts_the_folders_slices(official_dir, framework):
    w = workloads().create("fastmri", "official", framework)
    queue = w._build_input_queue(np.array([3, 4], np.uint32), "train", str(official_dir), 4)
    batch = next(queue)
    assert tuple(batch["inputs"].shape) == (4, SMALL_TARGET, SMALL_TARGET)
    assert (w.num_train_examples, w.num_validation_examples, w.num_test_examples,
            w.num_eval_train_examples) == (5, 100, 2, 5)
    evals = list(w._build_input_queue(np.array([0, 0], np.uint32), "validation",
                                      str(official_dir), 256))
    assert len(evals) == 1 and float(evals[0]["weights"].sum()) == 100
    # validation and test share one fixed mask (seed 0) per k-space width, as upstream
    arrays = w._eval_arrays("test", str(official_dir))
    fixed = official_data.load_index(official_dir)["test"].examples(
        np.arange(2), lambda i, width: np.random.default_rng(0).random(width))
    np.testing.assert_array_equal(arrays["inputs"], fixed["inputs"])


def test_check_says_what_is_missing(official_dir, tmp_path):
    assert official_data.check(official_dir) == []
    assert official_data.check(tmp_path / "nowhere") == [f"{tmp_path / 'nowhere'} is not a "
                                                         "directory."]
    empty = tmp_path / "empty"
    (empty / "knee_singlecoil_val").mkdir(parents=True)
    problems = official_data.check(empty)
    assert len(problems) == 2
    assert "knee_singlecoil_train is missing" in problems[0]
    assert "knee_singlecoil_val holds no .h5 volumes" in problems[1]
    few = write_official_dir(tmp_path / "few", val_volumes=3)
    assert official_data.check(few) == [f"{few / 'knee_singlecoil_val'} holds 3 volumes; the "
                                        "test split is the volumes after the first 100 in "
                                        "sorted order, so it needs more."]


def test_check_names_unusable_volumes(tmp_path):
    root = write_official_dir(tmp_path / "fastmri")
    (root / "knee_singlecoil_train" / "file1000002.h5").write_bytes(b"not hdf5")
    with h5py.File(root / "knee_singlecoil_val" / "file1001050.h5", "w") as f:
        f.create_dataset("kspace", data=np.zeros((1, 8, 8), np.complex64))
    problems = official_data.check(root)
    assert len(problems) == 2
    assert "file1000002.h5 is not a readable HDF5 file" in problems[0]
    assert problems[1].endswith("file1001050.h5 lacks the dataset(s) reconstruction_esc.")
    with pytest.raises(PacelineError, match="not a readable HDF5 file"):
        official_data.load_index(root)


# ---- paceline run --scale official ------------------------------------------------------------
# tests/submissions/adam_{pytorch,jax}: Adam, which asserts that it is given the workload's loss
# type (mean absolute error: test_official_numbers_are_the_rulesets)
SUBMISSIONS = Path(__file__).parent / "submissions"

ALGOPERF_FASTMRI_COLUMNS = {"global_step", "score", "accumulated_submission_time",
                            "train/ssim", "train/loss", "validation/ssim", "validation/loss",
                            "validation/num_examples", "test/ssim", "test/loss",
                            "test/num_examples", "total_duration"}


def run_official(tmp_path: Path, data_dir: Path, name: str, framework: str, *extra: str) -> int:
    submission = SUBMISSIONS / f"adam_{framework}" / "submission.py"
    return main(["run", "--scale", "official", "--workload", name, "--framework", framework,
                 "--submission", str(submission), "--ruleset", "self", "--data-dir",
                 str(data_dir), "--max-global-steps", "3", "--seed", "1", "--no-progress",
                 "--no-tensorboard", "--no-checkpoints", "--experiment-dir",
                 str(tmp_path / "exp"), *extra])


def check_trial_logs(tmp_path: Path, name: str, framework: str) -> None:
    """Trained 3 steps, evaluated, and logged in AlgoPerf's trial layout."""
    trials = list((tmp_path / "exp").rglob(f"{name}_{framework}/trial_1"))
    assert len(trials) == 1, trials
    trial = trials[0]
    with open(trial / "eval_measurements.csv") as f:
        rows = list(csv.DictReader(f))
    assert ALGOPERF_FASTMRI_COLUMNS <= set(rows[0])
    assert rows[-1]["global_step"] == "3"
    assert rows[-1]["validation/num_examples"] == "100" and rows[-1]["test/num_examples"] == "2"
    for key in ("train/ssim", "validation/ssim", "test/ssim", "validation/loss"):
        assert -1.0 <= float(rows[-1][key]) <= 1.0 or key.endswith("loss"), key
    assert float(rows[-1]["validation/loss"]) != float(rows[0]["validation/loss"])
    meta = json.loads((trial / "meta_data_0.json").read_text())
    assert meta["workload.validation_target_value"] == pytest.approx(
        get_ruleset("0.5").workloads[name].validation_target_value)
    assert meta["paceline.scale"] == "official"


@pytest.mark.slow  # about 20 s of CPU: a whole trial process with two full evaluations
def test_paceline_run_official_pytorch(tmp_path, official_dir):
    assert run_official(tmp_path, official_dir, "fastmri", "pytorch") == 0
    check_trial_logs(tmp_path, "fastmri", "pytorch")


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES[1:])
def test_paceline_run_official_pytorch_variants(tmp_path, official_dir, name):
    assert run_official(tmp_path, official_dir, name, "pytorch") == 0
    check_trial_logs(tmp_path, name, "pytorch")


@pytest.mark.slow  # a whole trial process: JAX compilation and two full evaluations
@pytest.mark.parametrize("name", NAMES)
def test_paceline_run_official_jax(tmp_path, official_dir, name):
    assert run_official(tmp_path, official_dir, name, "jax") == 0
    check_trial_logs(tmp_path, name, "jax")


def test_official_run_without_usable_data_is_one_sentence(tmp_path, capsys):
    submission = SUBMISSIONS / "adam_pytorch" / "submission.py"
    base = ["run", "--scale", "official", "--workload", "fastmri", "--submission",
            str(submission), "--ruleset", "self", "--no-progress", "--max-global-steps", "1"]
    assert main([*base, "--experiment-dir", str(tmp_path / "a")]) == 2
    assert "need --data-dir" in capsys.readouterr().err
    assert main([*base, "--experiment-dir", str(tmp_path / "b"), "--data-dir",
                 str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "knee_singlecoil_train is missing" in err and "Traceback" not in err
