"""Fashion-MNIST, the dev-scale stand-in for ImageNet in ``imagenet_resnet`` and
``imagenet_vit``: reading, splitting, preparing into the cache, and loading.

    paceline data prepare imagenet_resnet      # (the same data serves imagenet_vit)

Source: the 70,000 real 28x28 grey images of Fashion-MNIST (Zalando Research, MIT licence),
as the Debian package ``dataset-fashion-mnist`` installs them in
``/usr/share/datasets/fashion-mnist/``, or from any folder holding the four standard idx files::

    train-images-idx3-ubyte[.gz]  train-labels-idx1-ubyte[.gz]
    t10k-images-idx3-ubyte[.gz]   t10k-labels-idx1-ubyte[.gz]

Splits (fixed seed, stratified by class), mirroring ImageNet's roles:

* ``train``: the training file minus the validation images (59,000);
* ``validation``: 1,000 images (100 per class) held out of the training file (ImageNet's val
  set is a held-out sample of the training distribution);
* ``test``: 1,000 images (100 per class) of the separate ``t10k`` file (standing in for
  ImageNet-v2, a separately collected test set).

The evaluation sets are small so that evals stay under 10% of a run's wall time.

The prepared folder holds ``train.npz``, ``validation.npz`` and ``test.npz`` with ``images``
(uint8 ``[N, 28, 28]``) and ``labels`` (int64 ``[N]``), written byte-for-byte reproducibly.
``--data-dir`` may point at such a prepared folder, at a folder with the raw idx files (split in
memory, nothing written), or at an empty folder to prepare into.
"""

from __future__ import annotations

import functools
import gzip
import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from sdk.errors import PacelineError
from workloads.common import data_cache

DATASET = "fashion_mnist"
SOURCE_DIR = Path("/usr/share/datasets/fashion-mnist")
SOURCE_ENV = "PACELINE_FASHION_MNIST_DIR"  # another folder with the raw idx files
SPLIT_SEED = 20240521
SPLITS = ("train", "validation", "test")
NUM_CLASSES = 10
IMAGE_SIZE = 28
VALIDATION_SIZE = 1000  # held out of the training file
TEST_SIZE = 1000  # drawn from the t10k file
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
LICENSE = "MIT (Fashion-MNIST, Zalando Research; Debian package dataset-fashion-mnist)"
# Activation names the ImageNet model configs accept ("gelu" is the tanh approximation, as in
# AlgoPerf's ResNet-GELU and ViT); the frameworks map them to functions.
ACTIVATION_NAMES = ("relu", "silu", "gelu", "gelu_exact", "leaky_relu", "elu", "tanh")


def _find_idx(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    return None


def has_raw_files(folder: Path) -> bool:
    """Whether ``folder`` holds the four Fashion-MNIST idx files."""
    return all(_find_idx(folder, stem) for stem in IDX_FILES.values())


def source_dir() -> Path:
    """Where the raw idx files are read from: ``$PACELINE_FASHION_MNIST_DIR`` or Debian's."""
    folder = Path(os.environ.get(SOURCE_ENV, SOURCE_DIR)).expanduser()
    if not has_raw_files(folder):
        raise PacelineError(
            f"Fashion-MNIST idx files not found in {folder}; install the Debian package "
            "(apt-get install dataset-fashion-mnist) or pass --data-dir (or set "
            f"{SOURCE_ENV}) to a folder with {', '.join(IDX_FILES.values())} (.gz allowed)."
        )
    return folder


def read_idx(path: Path) -> np.ndarray:
    """An idx (optionally gzipped) file of unsigned bytes as an array."""
    raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise PacelineError(f"{path} is not an unsigned-byte idx file.")
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(dims)):
        raise PacelineError(f"{path} is truncated: expected {dims}, got {data.size} bytes.")
    return data.reshape(dims)


def _stratified_take(labels: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """``total`` indices, the same number per class, in a random order."""
    per_class = total // NUM_CLASSES
    picks = [rng.permutation(np.flatnonzero(labels == c))[:per_class] for c in range(NUM_CLASSES)]
    return rng.permutation(np.concatenate(picks))


def split_raw(folder: Path) -> dict[str, dict[str, np.ndarray]]:
    """The three splits from the raw idx files in ``folder`` (deterministic)."""
    arrays = {key: read_idx(_find_idx(folder, stem)) for key, stem in IDX_FILES.items()}
    for part in ("train", "test"):
        images, labels = arrays[f"{part}_images"], arrays[f"{part}_labels"]
        if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) != len(labels):
            raise PacelineError(f"The {part} idx files in {folder} are not 28x28 images with "
                                "one label each.")
    rng = np.random.default_rng(SPLIT_SEED)
    train_labels = arrays["train_labels"].astype(np.int64)
    val_idx = _stratified_take(train_labels, VALIDATION_SIZE, rng)
    keep = np.ones(len(train_labels), bool)
    keep[val_idx] = False
    train_idx = rng.permutation(np.flatnonzero(keep))
    test_labels = arrays["test_labels"].astype(np.int64)
    test_idx = _stratified_take(test_labels, TEST_SIZE, rng)
    return {
        "train": {"images": arrays["train_images"][train_idx], "labels": train_labels[train_idx]},
        "validation": {"images": arrays["train_images"][val_idx],
                       "labels": train_labels[val_idx]},
        "test": {"images": arrays["test_images"][test_idx], "labels": test_labels[test_idx]},
    }


def save_npz_reproducibly(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """``np.savez_compressed`` with fixed zip timestamps, so reruns give identical bytes."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[name]),
                                      allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


def build(folder: Path, source: Path | None = None) -> dict:
    """Write the prepared splits into ``folder`` (the ``data_cache.prepare`` build step)."""
    from workloads.common.progress import tqdm  # plain lines when not on a terminal

    source = source or source_dir()
    with tqdm(total=1 + len(SPLITS), desc="fashion_mnist", unit="step", leave=False) as bar:
        splits = split_raw(source)
        bar.update()
        for name in SPLITS:
            save_npz_reproducibly(folder / f"{name}.npz", splits[name])
            bar.update()
    return {"source": str(source), "license": LICENSE, "split_seed": SPLIT_SEED,
            "sizes": {name: len(splits[name]["labels"]) for name in SPLITS}}


def prepare(data_dir: str | None = None, force: bool = False) -> Path:
    """Build the splits into the cache or ``data_dir`` (``paceline data prepare``)."""
    return data_cache.prepare(DATASET, build, data_dir, force=force)


def load(data_dir: str | None = None) -> dict[str, dict[str, np.ndarray]]:
    """All splits as numpy arrays, preparing the cache on first use."""
    if data_dir:  # the user's raw idx files are split in memory; else prepared inside it
        folder = data_cache.readable_dir(DATASET, data_dir)
        if not data_cache.is_prepared(folder) and has_raw_files(folder):
            return split_raw(folder)
    folder = prepare(data_dir).resolve()
    if not _current(folder):
        if data_dir:
            raise PacelineError(f"{folder} was prepared with other split sizes than this "
                                "version uses; prepare it again with `paceline data prepare "
                                "imagenet_resnet --force --data-dir DIR`.")
        folder = prepare(force=True).resolve()
    return _load_prepared(str(folder), (folder / data_cache.MARKER).stat().st_mtime_ns)


def _current(folder: Path) -> bool:
    """Whether a prepared folder has this version's split sizes."""
    try:
        sizes = json.loads((folder / "info.json").read_text())["sizes"]
    except (OSError, ValueError, KeyError):
        return False
    return sizes.get("validation") == VALIDATION_SIZE and sizes.get("test") == TEST_SIZE


@functools.lru_cache(maxsize=2)
def _load_prepared(folder: str, stamp: int) -> dict[str, dict[str, np.ndarray]]:
    """The prepared splits of ``folder``, read once per preparation (read-only arrays)."""
    del stamp  # part of the cache key: a re-prepared folder is read again
    out = {}
    for name in SPLITS:
        data = data_cache.load_npz(Path(folder), name)
        for array in data.values():
            array.flags.writeable = False
        out[name] = {"images": data["images"], "labels": data["labels"]}
    return out
