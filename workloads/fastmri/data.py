"""fastmri dev data: single-coil k-space slices of real brain MRI templates.

    paceline data prepare fastmri                  # into the cache (needs mricron-data)
    paceline data prepare fastmri --data-dir DIR   # or into DIR; then run with --data-dir DIR

**Source.** The anatomical templates of the Debian package ``mricron-data``
(``/usr/share/mricron/templates``; BSD-3-clause per its copyright file, MRIcron by Chris
Rorden): ``ch2.nii.gz`` (the Colin27 head, T1, 1 mm), ``ch2bet.nii.gz`` (the same brain, skull
stripped), ``ch2better.nii.gz`` (the same brain re-processed at 0.5 mm) and
``inia19-t1-brain.nii.gz`` (the INIA19 rhesus macaque T1 brain template, 0.5 mm). The label
atlases in that folder (AAL, Brodmann, JHU, AICHA, HarvardOxford, NeuroMaps) are not used.
These are only two brains, one human and one macaque: the dev task is a faithful miniature
of the reconstruction problem, not a clinical data set.

**Splits by slab, no leakage.** Colin27 volumes are cut into axial slices every 1 mm,
INIA19 into coronal slices every 0.5 mm (its brain is about half the size). A slice's split
depends on its position along the slicing axis, in world millimetres, within a repeating
period (:data:`SLABS`; 50 mm for Colin27, 25 mm for INIA19): the first 60% of each period is
train, 66-78% validation, 84-96% test, and the rest are gaps, so no two slices of different
splits are closer than the gap (3 mm in Colin27). All slices of a subject are parallel, so
no voxel is shared between splits, and the three Colin27 volumes share one slab grid in the
same world space, so the same anatomy never appears in two splits. (Slices of other
orientations would cross the slabs and share voxels with evaluation slices.)

**Slices.** Each slice is resampled, with a Gaussian anti-alias filter, to
:data:`IMAGE_SIZE` x :data:`IMAGE_SIZE` pixels over a square field of view 8% larger than
the volume's foreground in that orientation; slices whose foreground (pixels above 10% of the
volume maximum) covers less than :data:`MIN_FOREGROUND` of the image are dropped. Intensities
are scaled so each volume's maximum is 1. Each slice then gets a smooth random phase
(constant + linear + quadratic, up to about pi across the image) and complex Gaussian noise
of standard deviation :data:`NOISE_STD`, as a real single-coil acquisition has; the fully
sampled k-space is the centred orthonormal 2-D FFT of that complex image, and the target is
the magnitude of its inverse (the official ``reconstruction_esc`` role). All draws use
``default_rng([SEED, volume, axis, position])``, so preparation is deterministic.

**Layout** (what ``--data-dir`` must hold; files of your own MRI data work too):
``train/*.npz``, ``validation/*.npz`` and ``test/*.npz``, one file per stack of slices, each
with ``kspace`` ``[slices, H, W]`` complex64 (centred, orthonormal FFT), ``target``
``[slices, h, w]`` float32 (the fully sampled magnitude; ``h, w <= H, W``, centre crop) and
``volume_max`` (float32 scalar: the maximum of the target over the whole source volume,
SSIM's data range).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sdk.errors import PacelineError
from workloads.common import data_cache
from workloads.fastmri import kspace as ks

NAME = "fastmri"
TEMPLATE_DIR = Path("/usr/share/mricron/templates")
SPLITS = ("train", "validation", "test")
SEED = 20_250_101
IMAGE_SIZE = 64
FOV_MARGIN = 1.08
MIN_FOREGROUND = 0.10
FOREGROUND_LEVEL = 0.10
NOISE_STD = 0.02
PHASE_MAX = np.pi / 2  # per polynomial term; the phase spans about pi across the image
AXES = {0: "sagittal", 1: "coronal", 2: "axial"}
LICENSE = "BSD-3-clause (Debian mricron-data: MRIcron templates, Chris Rorden)"


@dataclass(frozen=True)
class Cut:
    """Parallel slices of a volume along ``axis`` every ``spacing_mm`` (world millimetres,
    on the grid through ``origin_mm``), assigned to splits by ``slabs``: fractions
    ``[start, stop)`` of a ``period_mm`` period; positions in no slab are gaps."""

    axis: int
    spacing_mm: float
    slabs: tuple[tuple[str, float, float], ...]
    period_mm: float = 1.0
    origin_mm: float = 0.0

    def split_of(self, position_mm: float) -> str | None:
        phase = ((position_mm - self.origin_mm) / self.period_mm) % 1.0
        for split, lo, hi in self.slabs:
            if lo <= phase < hi:
                return split
        return None


# Slab split along the slicing axis, in fractions of a period: the first 60% train, then a
# gap, validation, a gap, test and a last gap (3 mm wide in Colin27).
SLABS = (("train", 0.0, 0.60), ("validation", 0.66, 0.78), ("test", 0.84, 0.96))
COLIN27 = (Cut(2, 1.0, SLABS, period_mm=50.0, origin_mm=-72.0),)  # axial, every 1 mm
INIA19 = (Cut(1, 0.5, SLABS, period_mm=25.0, origin_mm=-57.5),)  # coronal, every 0.5 mm
# name -> (file, subject, cuts)
VOLUMES = {
    "ch2": ("ch2.nii.gz", "colin27", COLIN27),
    "ch2bet": ("ch2bet.nii.gz", "colin27", COLIN27),
    "ch2better": ("ch2better.nii.gz", "colin27", COLIN27),
    "inia19": ("inia19-t1-brain.nii.gz", "inia19", INIA19),
}


def _read_volume(path: Path) -> tuple[np.ndarray, np.ndarray]:
    import nibabel

    image = nibabel.load(str(path))
    return np.asanyarray(image.dataobj).astype(np.float32), np.asarray(image.affine)


def _square_fov(volume: np.ndarray, axis: int) -> tuple[np.ndarray, float]:
    """Centre (rows, cols) and side, in voxels, of the slices' field of view."""
    fg = volume > FOREGROUND_LEVEL * volume.max()
    plane = fg.any(axis=axis)  # in-plane axes in increasing order
    rows, cols = np.nonzero(plane.T)  # image rows = second in-plane axis, cols = first
    centre = np.array([(rows.min() + rows.max()) / 2, (cols.min() + cols.max()) / 2])
    side = FOV_MARGIN * max(rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)
    return centre, float(side)


def _resample(plane: np.ndarray, centre: np.ndarray, side: float) -> np.ndarray:
    """``plane`` (rows, cols) -> IMAGE_SIZE^2 over the square FOV, Gaussian anti-aliased."""
    from scipy import ndimage

    step = side / IMAGE_SIZE
    smooth = ndimage.gaussian_filter(plane, sigma=0.5 * step, mode="constant")
    offsets = (np.arange(IMAGE_SIZE) - (IMAGE_SIZE - 1) / 2) * step
    rr, cc = np.meshgrid(centre[0] + offsets, centre[1] + offsets, indexing="ij")
    out = ndimage.map_coordinates(smooth, [rr, cc], order=1, mode="constant", cval=0.0)
    return out[::-1]  # superior / anterior at the top


def _phase(rng: np.random.Generator) -> np.ndarray:
    u = np.linspace(-1.0, 1.0, IMAGE_SIZE)
    vv, uu = np.meshgrid(u, u, indexing="ij")
    a0 = rng.uniform(0.0, 2 * np.pi)
    a1, a2, a3 = rng.uniform(-PHASE_MAX, PHASE_MAX, 3)
    return a0 + a1 * uu + a2 * vv + a3 * (uu**2 + vv**2)


def volume_slices(name: str, template_dir: Path = TEMPLATE_DIR
                  ) -> list[dict[str, np.ndarray | str | int]]:
    """The kept slices of one volume: one stack per (cut, split), magnitudes scaled so the
    volume's maximum is 1, with world positions."""
    file, _, cuts = VOLUMES[name]
    path = template_dir / file
    if not path.is_file():
        raise PacelineError(
            f"MRI template {path} is missing; install the Debian package mricron-data "
            "(`sudo apt-get install mricron-data`) or pass --data-dir with prepared files."
        )
    volume, affine = _read_volume(path)
    vmax = volume.max()
    stacks = []
    for cut in cuts:
        centre, side = _square_fov(volume, cut.axis)
        planes = np.moveaxis(volume, cut.axis, 0)  # a view: planes[i] is plane i
        images: dict[str, list[np.ndarray]] = {s: [] for s in SPLITS}
        positions: dict[str, list[float]] = {s: [] for s in SPLITS}
        for index in range(planes.shape[0]):
            position = float(affine[cut.axis, cut.axis] * index + affine[cut.axis, 3])
            steps = (position - cut.origin_mm) / cut.spacing_mm
            split = cut.split_of(position) if abs(steps - round(steps)) < 1e-6 else None
            if split is None:
                continue
            plane = np.ascontiguousarray(planes[index].T)  # rows = second in-plane axis
            image = _resample(plane, centre, side) / vmax
            if (image > FOREGROUND_LEVEL).mean() < MIN_FOREGROUND:
                continue
            images[split].append(image)
            positions[split].append(position)
        for split in SPLITS:
            if images[split]:
                stacks.append({"split": split, "axis": cut.axis,
                               "image": np.asarray(images[split], np.float32),
                               "position_mm": np.asarray(positions[split], np.float32)})
    return stacks


def build_dev(folder: Path, template_dir: Path = TEMPLATE_DIR,
              volumes: tuple[str, ...] = tuple(VOLUMES)) -> dict:
    """Write ``<split>/<volume>_<orientation>.npz`` stacks into ``folder`` (deterministic).

    ``volumes`` can be narrowed (tests); slice draws depend only on the volume's own name.
    """
    from workloads.common.progress import tqdm  # plain lines when not on a terminal

    counts: dict[str, int] = dict.fromkeys(SPLITS, 0)
    for split in SPLITS:
        (folder / split).mkdir()
    for name in tqdm(volumes, desc="fastmri volumes", unit="volume", leave=False):
        v = list(VOLUMES).index(name)
        stacks = volume_slices(name, template_dir)
        scale = max(float(s["image"].max()) for s in stacks)
        acquired = []
        for stack in stacks:
            slices = []
            for image, position in zip(stack["image"], stack["position_mm"], strict=True):
                rng = np.random.default_rng([SEED, v, stack["axis"],
                                             int(round(position * 10)) + 100_000])
                noise = rng.normal(0.0, NOISE_STD, (2, IMAGE_SIZE, IMAGE_SIZE))
                slices.append(image / scale * np.exp(1j * _phase(rng)) + noise[0] + 1j * noise[1])
            acquired.append(np.asarray(slices, np.complex128))
        volume_max = max(float(np.abs(a).max()) for a in acquired)
        for stack, image in zip(stacks, acquired, strict=True):
            data_cache.save_npz(
                folder / stack["split"], f"{name}_{AXES[stack['axis']]}", compress=True,
                kspace=ks.centered_fft2(image).astype(np.complex64),
                target=np.abs(image).astype(np.float32),
                volume_max=np.float32(volume_max),
                position_mm=stack["position_mm"],
            )
            counts[stack["split"]] += len(image)
    return {"source": str(template_dir), "volumes": {k: v[0] for k, v in VOLUMES.items()},
            "license": LICENSE, "image_size": IMAGE_SIZE, "slices": counts}


def prepare(data_dir: str | None = None, force: bool = False) -> Path:
    """Build the dev slices into the cache or ``data_dir`` (``paceline data prepare``)."""
    return data_cache.prepare(NAME, build_dev, data_dir, force=force)


def read_split(folder: Path, split: str) -> dict[str, np.ndarray]:
    """Every slice of ``split``: ``kspace``, ``target``, per-slice ``volume_max``, ``volume``.

    Files are read in sorted name order (as the official pipeline sorts its h5 files).
    """
    files = sorted((folder / split).glob("*.npz"))
    if not files:
        raise PacelineError(f"No fastmri {split} files in {folder / split}; run `paceline data "
                            "prepare fastmri` or pass a --data-dir laid out as "
                            "docs/workloads/fastmri.md describes.")
    parts: dict[str, list[np.ndarray]] = {"kspace": [], "target": [], "volume_max": [],
                                          "volume": []}
    for v, path in enumerate(files):
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in ("kspace", "target", "volume_max") if k not in f.files]
            if missing:
                raise PacelineError(f"{path} lacks the array(s) {', '.join(missing)}.")
            kspace, target = f["kspace"].astype(np.complex64), f["target"].astype(np.float32)
            if kspace.ndim != 3 or target.ndim != 3 or len(kspace) != len(target):
                raise PacelineError(f"{path}: kspace and target must be [slices, H, W] "
                                    "arrays with the same number of slices.")
            if target.shape[1] > kspace.shape[1] or target.shape[2] > kspace.shape[2]:
                raise PacelineError(f"{path}: the target is larger than the k-space.")
            parts["kspace"].append(kspace)
            parts["target"].append(target)
            parts["volume_max"].append(np.full(len(target), float(f["volume_max"]), np.float32))
            parts["volume"].append(np.full(len(target), v, np.int32))
    shapes = {(k.shape[1:], t.shape[1:]) for k, t in zip(parts["kspace"], parts["target"],
                                                         strict=True)}
    if len(shapes) != 1:
        raise PacelineError(f"fastmri {split} files have different slice shapes {shapes}; "
                            "all volumes of a split must share one k-space and target shape.")
    return {k: np.concatenate(v) for k, v in parts.items()}


def load(data_dir: str | None) -> dict[str, dict[str, np.ndarray]]:
    """The three splits as raw arrays; without ``data_dir`` the cache is prepared if needed."""
    # the user's own slices, or the folder paceline prepared in data_dir, or the cache
    folder = data_cache.source_dir(NAME, data_dir, prepare)
    return {split: read_split(folder, split) for split in SPLITS}
