"""The official fastMRI knee single-coil data, as AlgoPerf's ``datasets/dataset_setup.py``
leaves it on disk, read with h5py (no TensorFlow).

    paceline run --scale official --workload fastmri --data-dir DIR --submission nadamw

``DIR`` is AlgoPerf's ``<data_dir>/fastmri``:

* ``knee_singlecoil_train/*.h5``: the training volumes (34,742 slices);
* ``knee_singlecoil_val/*.h5``: in sorted name order, the first 100 volumes are the
  validation split (3,554 slices) and the rest the test split (3,581 slices), as AlgoPerf
  ``algoperf/workloads/fastmri/input_pipeline.py`` splits them;
* ``knee_singlecoil_test/`` is not used (upstream does not read it either).

Each file is one volume: dataset ``kspace`` ``[slices, 640, W]`` complex64, dataset
``reconstruction_esc`` ``[slices, 320, 320]`` float32 (the target) and attribute ``max`` (the
volume's maximum, SSIM's data range; 0 when absent, as upstream). Every slice is one example,
processed exactly as upstream (``workloads.fastmri.kspace``): column mask, zero-filled
magnitude cropped to the target's shape, instance normalisation, clip to +-6.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sdk.errors import PacelineError
from workloads.fastmri import kspace as ks

TRAIN_DIR, VAL_DIR = "knee_singlecoil_train", "knee_singlecoil_val"
NUM_VALIDATION_VOLUMES = 100  # upstream: sorted(val files)[:100] validation, [100:] test
MAX_REPORTED = 10  # per-file problems `check` lists before summing up the rest
_READERS = 8  # threads preparing a batch's slices

# A function ``(slice index in its split, k-space width) -> uniform draws [width]`` that fixes
# each slice's column mask.
Uniforms = Callable[[int, int], np.ndarray]


@dataclass(frozen=True)
class Volume:
    """One HDF5 file: its path, slice count, k-space and target shapes, ``max`` attribute."""

    path: Path
    slices: int
    kspace_shape: tuple[int, int]
    target_shape: tuple[int, int]
    volume_max: float


def read_volume_header(path: Path) -> Volume:
    """The shapes and ``max`` of one volume; PacelineError (one sentence) if unusable."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            missing = [k for k in ("kspace", "reconstruction_esc") if k not in f]
            if missing:
                raise PacelineError(f"{path} lacks the dataset(s) {', '.join(missing)}.")
            kspace, target = f["kspace"], f["reconstruction_esc"]
            volume_max = float(f.attrs.get("max", 0.0))
            kshape, tshape = kspace.shape, target.shape
            complex_kspace = np.issubdtype(kspace.dtype, np.complexfloating)
    except OSError as e:
        raise PacelineError(f"{path} is not a readable HDF5 file ({e}).") from None
    if len(kshape) != 3 or len(tshape) != 3 or kshape[0] != tshape[0] or not complex_kspace:
        raise PacelineError(f"{path}: kspace must be complex [slices, H, W] and "
                            "reconstruction_esc [slices, h, w] with as many slices.")
    if tshape[1] > kshape[1] or tshape[2] > kshape[2]:
        raise PacelineError(f"{path}: reconstruction_esc is larger than the k-space.")
    return Volume(path, int(kshape[0]), tuple(kshape[1:]), tuple(tshape[1:]), volume_max)


def volume_files(data_dir: Path) -> dict[str, list[Path]]:
    """The sorted ``.h5`` files of each split (train, validation, test)."""
    train = sorted((data_dir / TRAIN_DIR).glob("*.h5"))
    val = sorted((data_dir / VAL_DIR).glob("*.h5"))
    return {"train": train, "validation": val[:NUM_VALIDATION_VOLUMES],
            "test": val[NUM_VALIDATION_VOLUMES:]}


def process_slice(kspace: np.ndarray, target: np.ndarray, volume_max: float,
                  uniform: np.ndarray) -> dict[str, np.ndarray]:
    """One model-ready example from a raw slice (upstream's ``_process_example``)."""
    mask = ks.column_mask(kspace.shape[-1], uniform)
    zero_filled = ks.zero_filled_magnitude(kspace[None], mask, target.shape)
    inputs, targets, mean, std = ks.normalise(zero_filled, target[None].astype(np.float32))
    return {"inputs": inputs[0], "targets": targets[0], "mean": mean[0], "std": std[0],
            "volume_max": np.float32(volume_max)}


class OfficialSplit:
    """The slices of one split, indexed over its volumes and read from disk per batch."""

    def __init__(self, name: str, volumes: list[Volume]) -> None:
        self.name = name
        self.volumes = volumes
        self.starts = np.cumsum([0] + [v.slices for v in volumes])
        shapes = {v.target_shape for v in volumes}
        if len(shapes) > 1:
            raise PacelineError(f"The fastmri {name} volumes have different target shapes "
                                f"{sorted(shapes)}; every reconstruction_esc must share one.")

    def __len__(self) -> int:
        return int(self.starts[-1])

    def _read_volume(self, v: int, rows: list[tuple[int, int]],
                     uniforms: Uniforms) -> list[tuple[int, dict[str, np.ndarray]]]:
        """``(batch row, example)`` for the slices ``rows`` (batch row, slice) of volume v."""
        import h5py

        volume = self.volumes[v]
        out = []
        with h5py.File(volume.path, "r") as f:
            for row, i in rows:
                index = int(self.starts[v]) + i
                out.append((row, process_slice(
                    f["kspace"][i], f["reconstruction_esc"][i], volume.volume_max,
                    uniforms(index, volume.kspace_shape[1]))))
        return out

    def examples(self, indices: np.ndarray, uniforms: Uniforms) -> dict[str, np.ndarray]:
        """The examples ``indices`` (slice numbers in this split), stacked in that order."""
        volumes = np.searchsorted(self.starts, indices, side="right") - 1
        by_volume: dict[int, list[tuple[int, int]]] = {}
        for row, (index, v) in enumerate(zip(indices, volumes, strict=True)):
            by_volume.setdefault(int(v), []).append((row, int(index - self.starts[v])))
        rows: list[dict[str, np.ndarray] | None] = [None] * len(indices)
        with ThreadPoolExecutor(max_workers=_READERS) as pool:
            for done in pool.map(lambda item: self._read_volume(*item, uniforms),
                                 by_volume.items()):
                for row, example in done:
                    rows[row] = example
        return {k: np.stack([r[k] for r in rows]) for k in rows[0]} if rows else {}


def all_examples(split: OfficialSplit, indices: np.ndarray, uniforms: Uniforms,
                 chunk: int = 256) -> dict[str, np.ndarray]:
    """``split.examples(indices)`` built ``chunk`` slices at a time into preallocated arrays
    (an official evaluation split is a few GB once processed)."""
    out: dict[str, np.ndarray] = {}
    for start in range(0, len(indices), chunk):
        part = split.examples(indices[start:start + chunk], uniforms)
        for key, value in part.items():
            if key not in out:
                out[key] = np.empty((len(indices), *value.shape[1:]), value.dtype)
            out[key][start:start + len(value)] = value
    return out


def load_index(data_dir: str | Path | None) -> dict[str, OfficialSplit]:
    """The three splits of an official data directory; PacelineError if it is unusable."""
    if not data_dir:
        raise PacelineError("The official fastmri workloads need --data-dir with AlgoPerf's "
                            "fastMRI knee_singlecoil_train and knee_singlecoil_val folders "
                            "(see docs/workloads/fastmri.md).")
    folder = Path(data_dir).expanduser()
    problems = _layout_problems(folder)
    if problems:
        raise PacelineError(problems[0])
    return {split: OfficialSplit(split, [read_volume_header(p) for p in paths])
            for split, paths in volume_files(folder).items()}


def _layout_problems(folder: Path) -> list[str]:
    if not folder.is_dir():
        return [f"{folder} is not a directory."]
    problems = []
    for sub in (TRAIN_DIR, VAL_DIR):
        if not (folder / sub).is_dir():
            problems.append(f"{folder / sub} is missing (AlgoPerf's dataset_setup.py "
                            f"--fastmri makes it).")
        elif not any((folder / sub).glob("*.h5")):
            problems.append(f"{folder / sub} holds no .h5 volumes.")
    val = len(list((folder / VAL_DIR).glob("*.h5"))) if (folder / VAL_DIR).is_dir() else 0
    if 0 < val <= NUM_VALIDATION_VOLUMES:
        problems.append(f"{folder / VAL_DIR} holds {val} volumes; the test split is the "
                        f"volumes after the first {NUM_VALIDATION_VOLUMES} in sorted order, "
                        "so it needs more.")
    return problems


def check(data_dir: Path) -> list[str]:
    """What ``data_dir`` lacks for the official fastmri workloads, one sentence per problem
    (``paceline data check --scale official``); empty when it is usable."""
    folder = Path(data_dir).expanduser()
    problems = _layout_problems(folder)
    if not folder.is_dir():
        return problems
    bad = []
    for paths in volume_files(folder).values():
        for path in paths:
            try:
                read_volume_header(path)
            except PacelineError as e:
                bad.append(str(e))
    if len(bad) > MAX_REPORTED:
        bad = bad[:MAX_REPORTED] + [f"{len(bad) - MAX_REPORTED} more volumes are unusable."]
    return problems + bad
