"""The official ImageNet data of ``imagenet_resnet`` and ``imagenet_vit``, as AlgoPerf's
``datasets/dataset_setup.py --dataset imagenet`` leaves it. PyTorch (``--framework pytorch``,
``<data-dir>`` = its ``imagenet/pytorch`` folder):

    <data-dir>/train/<synset>/*.JPEG           1,281,167 images in 1,000 class folders
    <data-dir>/val/<synset>/*.JPEG             50,000 images (sorted into folders by valprep.sh)
    <data-dir>/imagenet_v2/matched-frequency/3.0.0/imagenet_v2-test.tfrecord-*   ImageNet-v2 (TFDS), the test set

JAX (``--framework jax``, ``<data-dir>`` = its ``imagenet/jax`` folder): the TFDS build
``<data-dir>/imagenet2012/5.1.0/imagenet2012-{train,validation}.tfrecord-*`` (records with the
JPEG bytes and the label) and the same ``imagenet_v2`` folder; JAX crops as AlgoPerf's
``imagenet_jax/input_pipeline.py`` (a distorted bounding box, bicubic resize). Classes are
the sorted folder names (torchvision ``ImageFolder``'s rule, AlgoPerf
``algoperf/workloads/imagenet_resnet/imagenet_pytorch/workload.py``). Images are decoded with
PIL and transformed as upstream does with torchvision: training takes a random-resized crop
(area 8-100%, aspect 3/4-4/3, bilinear) to 224 px and a random horizontal flip (ViT then adds
RandAugment, :mod:`workloads.imagenet_resnet.randaugment`); evaluation resizes the shorter
side to 256 (bilinear) and takes the central 224 px. Pixels are normalised by ImageNet's
mean and standard deviation.

    paceline data check --scale official --data-dir ~/data/imagenet/pytorch
    paceline run --scale official --workload imagenet_resnet --data-dir ~/data/imagenet/pytorch
"""

from __future__ import annotations

import io
import itertools
import math
import struct
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from sdk.errors import PacelineError
from workloads.common import tfrecord
from workloads.common.image_augment import mixup
from workloads.imagenet_resnet.randaugment import randaugment

NUM_CLASSES = 1000
TRAIN_DIR, VAL_DIR = "train", "val"
IMAGENET_V2_DIR = Path("imagenet_v2") / "matched-frequency" / "3.0.0"
IMAGENET2012_DIR = Path("imagenet2012") / "5.1.0"  # the JAX path's TFDS build
TFDS_SPLITS = {"train": "train", "val": "validation"}
# AlgoPerf algoperf/workloads/imagenet_resnet/workload.py: 0-255 statistics, crop settings.
MEAN_RGB = (0.485 * 255, 0.456 * 255, 0.406 * 255)
STDDEV_RGB = (0.229 * 255, 0.224 * 255, 0.225 * 255)
CENTER_CROP_SIZE = 224
RESIZE_SIZE = 256
SCALE_RANGE = (0.08, 1.0)
RATIO_RANGE = (3 / 4, 4 / 3)
# torchvision's ImageFolder accepts these extensions (case-insensitive).
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
MIXUP_ALPHA = 0.2  # ViT only (AlgoPerf algoperf/data_utils.py, mixup_pytorch)
_LOADERS = 8  # threads decoding a batch's images (PIL releases the GIL while decoding)


class ImageFolder:
    """The images of ``root/<class>/<file>``: sorted class folders, sorted files in each."""

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise PacelineError(f"{root} is missing; the official ImageNet workloads read "
                                "AlgoPerf's PyTorch layout (train/ and val/ with one folder "
                                "per class) from --data-dir.")
        self.root = root
        self.classes = sorted(p.name for p in root.iterdir() if p.is_dir())
        paths, labels = [], []
        for label, name in enumerate(self.classes):
            files = sorted(p for p in (root / name).iterdir()
                           if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())
            paths += files
            labels += [label] * len(files)
        if not paths:
            raise PacelineError(f"{root} holds no images in class folders (.JPEG and the "
                                "other ImageFolder extensions).")
        self.paths = paths
        self.labels = np.asarray(labels, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.paths)


def open_rgb(path: Path | bytes) -> Image.Image:
    """An image file (or its encoded bytes) as an RGB PIL image, as ImageFolder's loader."""
    try:
        with Image.open(io.BytesIO(path) if isinstance(path, bytes) else path) as img:
            return img.convert("RGB")
    except (OSError, ValueError) as exc:
        raise PacelineError(f"Cannot decode image {path if isinstance(path, Path) else ''}: "
                            f"{exc}") from None


# ---- transforms (torchvision's, on PIL images) ------------------------------------------
def random_resized_crop_box(width: int, height: int,
                            rng: np.random.Generator) -> tuple[int, int, int, int]:
    """(left, top, crop width, crop height) as ``RandomResizedCrop.get_params`` draws them:
    ten tries at a random area and log-uniform aspect ratio, else a central crop."""
    area = width * height
    log_lo, log_hi = math.log(RATIO_RANGE[0]), math.log(RATIO_RANGE[1])
    for _ in range(10):
        target = area * rng.uniform(*SCALE_RANGE)
        aspect = math.exp(rng.uniform(log_lo, log_hi))
        w = int(round(math.sqrt(target * aspect)))
        h = int(round(math.sqrt(target / aspect)))
        if 0 < w <= width and 0 < h <= height:
            return int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1)), w, h
    ratio = width / height
    w, h = width, height
    if ratio < RATIO_RANGE[0]:
        h = int(round(w / RATIO_RANGE[0]))
    elif ratio > RATIO_RANGE[1]:
        w = int(round(h * RATIO_RANGE[1]))
    return (width - w) // 2, (height - h) // 2, w, h


def train_crop(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Random-resized crop to 224 px (bilinear), then a horizontal flip with probability 1/2."""
    left, top, w, h = random_resized_crop_box(img.width, img.height, rng)
    out = img.crop((left, top, left + w, top + h)).resize(
        (CENTER_CROP_SIZE, CENTER_CROP_SIZE), Image.Resampling.BILINEAR)
    if rng.uniform() < 0.5:
        out = out.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return out


def eval_crop(img: Image.Image) -> Image.Image:
    """``Resize(256)`` (shorter side, bilinear) then ``CenterCrop(224)``."""
    w, h = img.size
    if w <= h:
        size = (RESIZE_SIZE, int(RESIZE_SIZE * h / w))
    else:
        size = (int(RESIZE_SIZE * w / h), RESIZE_SIZE)
    img = img.resize(size, Image.Resampling.BILINEAR)
    left = int(round((size[0] - CENTER_CROP_SIZE) / 2.0))
    top = int(round((size[1] - CENTER_CROP_SIZE) / 2.0))
    return img.crop((left, top, left + CENTER_CROP_SIZE, top + CENTER_CROP_SIZE))


def test_crop(img: Image.Image) -> Image.Image:
    """ImageNet-v2's preprocessing in both frameworks (AlgoPerf's JAX eval crop, upstream
    ``imagenet_jax/input_pipeline.py``): the central square of side ``224/256 * min(H, W)``,
    then a bicubic resize to 224 px."""
    w, h = img.size
    side = int(CENTER_CROP_SIZE / (CENTER_CROP_SIZE + 32) * min(w, h))
    top, left = ((h - side) + 1) // 2, ((w - side) + 1) // 2
    return img.crop((left, top, left + side, top + side)).resize(
        (CENTER_CROP_SIZE, CENTER_CROP_SIZE), Image.Resampling.BICUBIC)


def normalise(images: np.ndarray) -> np.ndarray:
    """uint8 ``[B, H, W, 3]`` -> float32 NHWC, minus the mean, over the standard deviation."""
    mean = np.asarray(MEAN_RGB, np.float32)
    std = np.asarray(STDDEV_RGB, np.float32)
    return (images.astype(np.float32) - mean) / std


def load_batch(load: Callable[[int, np.random.Generator | None], Image.Image],
               indices: np.ndarray, seeds: np.ndarray | None = None) -> np.ndarray:
    """uint8 ``[B, 224, 224, 3]``: ``load(index, rng)`` on a thread pool, one seed per image."""
    rngs = [None] * len(indices) if seeds is None else [np.random.default_rng(int(s))
                                                         for s in seeds]
    with ThreadPoolExecutor(max_workers=_LOADERS) as pool:
        images = list(pool.map(lambda a: np.asarray(load(int(a[0]), a[1]), np.uint8),
                               zip(indices, rngs, strict=True)))
    return np.stack(images) if images else np.zeros((0, CENTER_CROP_SIZE, CENTER_CROP_SIZE, 3),
                                                    np.uint8)


# ---- what --data-dir holds ----------------------------------------------------------------
def _check_folder(root: Path, name: str) -> list[str]:
    folder = root / name
    if not folder.is_dir():
        return [f"{folder} is missing (AlgoPerf's dataset_setup.py extracts the ImageNet "
                f"{name} tar there, one folder per class)."]
    classes = [p for p in folder.iterdir() if p.is_dir()]
    if not classes:
        return [f"{folder} has no class folders (<synset>/*.JPEG)."]
    if not any(f.suffix.lower() in IMAGE_EXTENSIONS for c in classes for f in c.iterdir()):
        return [f"{folder} has class folders but no images in them."]
    return []


def _check_tfds(data_dir: Path) -> list[str]:
    problems = []
    for split in TFDS_SPLITS.values():
        try:
            tfrecord.split_shards(data_dir / IMAGENET2012_DIR, split)
        except tfrecord.TFRecordError as exc:
            problems.append(str(exc))
    return problems


def _check_folders(data_dir: Path) -> list[str]:
    problems = _check_folder(data_dir, TRAIN_DIR) + _check_folder(data_dir, VAL_DIR)
    train, val = data_dir / TRAIN_DIR, data_dir / VAL_DIR
    if not problems:
        train_classes = sorted(p.name for p in train.iterdir() if p.is_dir())
        val_classes = sorted(p.name for p in val.iterdir() if p.is_dir())
        if train_classes != val_classes:
            problems.append(f"{train} and {val} have different class folders ("
                            f"{len(train_classes)} and {len(val_classes)}); labels would not "
                            "match.")
    return problems


def check(data_dir: Path) -> list[str]:
    """What ``data_dir`` lacks for the official ImageNet workloads (empty: usable).

    A folder with ``imagenet2012/5.1.0`` is checked as the JAX layout (every TFDS shard of
    train and validation present), any other as the PyTorch one (train/ and val/ class
    folders with images); both need the ImageNet-v2 TFRecords. Not every image is opened:
    that would take minutes.
    """
    data_dir = Path(data_dir).expanduser()
    if not data_dir.is_dir():
        return [f"{data_dir} is not a directory."]
    if (data_dir / IMAGENET2012_DIR).is_dir():
        problems = _check_tfds(data_dir)
    else:
        problems = _check_folders(data_dir)
    try:
        imagenet_v2_shards(data_dir)
    except PacelineError as exc:
        problems.append(str(exc))
    return problems


# ---- batches --------------------------------------------------------------------------------
def train_batch(folder: ImageFolder, vit: bool, indices: np.ndarray, labels: np.ndarray,
                rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Training examples ``indices`` of ``folder``: crop and flip (ViT: RandAugment after
    them, mixup with alpha 0.2 over the normalised batch, as upstream's ViT pipeline)."""
    def load(i: int, image_rng: np.random.Generator | None) -> Image.Image:
        img = train_crop(open_rgb(folder.paths[i]), image_rng)
        return randaugment(img, image_rng) if vit else img

    seeds = rng.integers(0, 2**63, size=len(indices))
    inputs = normalise(load_batch(load, indices, seeds))
    if vit:
        inputs, soft = mixup(inputs, labels, NUM_CLASSES, MIXUP_ALPHA, rng)
        return {"inputs": inputs, "targets": soft}
    return {"inputs": inputs, "targets": np.asarray(labels, np.int64)}


def pad_size(batch_size: int, total: int) -> int:
    """The rows every padded eval batch of a pass has: the eval batch size, or the whole
    split when it is smaller (one shape per split either way; a tiny split is not blown up
    to 1,024 or 2,048 rows)."""
    return max(1, min(batch_size, total))


def _padded(inputs: np.ndarray, labels: np.ndarray, size: int,
            pad: bool) -> dict[str, np.ndarray]:
    """An eval batch with ``weights``; with ``pad``, grown to ``size`` rows of weight 0."""
    weights = np.ones(len(labels), np.float32)
    extra = size - len(labels) if pad else 0
    if extra > 0:
        inputs = np.concatenate([inputs, np.zeros((extra, *inputs.shape[1:]), inputs.dtype)])
        labels = np.concatenate([labels, np.zeros(extra, labels.dtype)])
        weights = np.concatenate([weights, np.zeros(extra, np.float32)])
    return {"inputs": inputs, "targets": labels, "weights": weights}


def folder_eval_batches(folder: ImageFolder, indices: np.ndarray, batch_size: int,
                        pad: bool) -> Iterator[dict[str, np.ndarray]]:
    """One pass over ``indices`` of ``folder`` with the eval crop."""
    for start in range(0, len(indices), batch_size):
        chunk = indices[start:start + batch_size]
        images = load_batch(lambda i, _: eval_crop(open_rgb(folder.paths[i])), chunk)
        yield _padded(normalise(images), folder.labels[chunk],
                      pad_size(batch_size, len(indices)), pad)


def _test_cropped(examples: list[tuple[bytes, int]], size: int,
                  pad: bool) -> dict[str, np.ndarray]:
    """An eval batch of encoded (image, label) examples with the JAX eval crop."""
    images = load_batch(lambda i, _: test_crop(open_rgb(examples[i][0])),
                        np.arange(len(examples)))
    labels = np.asarray([label for _, label in examples], np.int64)
    return _padded(normalise(images), labels, size, pad)


def imagenet_v2_shards(data_dir: Path) -> list[Path]:
    """The TFDS shards of ImageNet-v2's ``test`` split, sorted, all present."""
    folder = Path(data_dir).expanduser() / IMAGENET_V2_DIR
    try:
        return tfrecord.split_shards(folder, "test", dataset="imagenet_v2")
    except tfrecord.TFRecordError as exc:
        raise PacelineError(f"{exc} The official ImageNet test set is ImageNet-v2 "
                            "matched-frequency as AlgoPerf's dataset_setup.py downloads it "
                            "(TFDS 3.0.0).") from exc


def imagenet_v2_examples(data_dir: Path) -> Iterator[tuple[bytes, int]]:
    """(encoded image, label) of every ImageNet-v2 test example, in shard order."""
    for shard in imagenet_v2_shards(data_dir):
        for record in tfrecord.read_records(shard):
            example = tfrecord.parse_example(record)
            yield bytes(example["image"][0]), int(example["label"][0])


def imagenet_v2_batches(data_dir: Path, num_examples: int, batch_size: int,
                        pad: bool) -> Iterator[dict[str, np.ndarray]]:
    """One pass over the first ``num_examples`` ImageNet-v2 images, with the test crop."""
    total = min(num_examples, sum(tfrecord.count_records(p) for p in imagenet_v2_shards(data_dir)))
    examples = itertools.islice(imagenet_v2_examples(data_dir), num_examples)
    while chunk := list(itertools.islice(examples, batch_size)):
        yield _test_cropped(chunk, pad_size(batch_size, total), pad)


# ---- the JAX path: TFDS imagenet2012 ---------------------------------------------------------
_FRAME = struct.Struct("<QI")  # a TFRecord's length and its masked CRC


def _record_offsets(path: Path) -> list[int]:
    """Where each record of a TFRecord file starts (its frame header), for random access."""
    offsets, position, size = [], 0, path.stat().st_size
    with open(path, "rb") as f:
        while position < size:
            header = f.read(_FRAME.size)
            if len(header) < _FRAME.size:
                raise tfrecord.TFRecordError(f"{path} is truncated at byte {position}.")
            offsets.append(position)
            position += _FRAME.size + _FRAME.unpack(header)[0] + 4
            f.seek(position)
    return offsets


class TfdsImages:
    """The (JPEG, label) examples of a TFDS ``imagenet2012`` split, read by index."""

    def __init__(self, data_dir: Path, split: str) -> None:
        shards = tfrecord.split_shards(Path(data_dir) / IMAGENET2012_DIR, split)
        self.index = [(shard, offset) for shard in shards for offset in _record_offsets(shard)]

    def __len__(self) -> int:
        return len(self.index)

    def example(self, i: int) -> tuple[bytes, int]:
        path, offset = self.index[i]
        with open(path, "rb") as f:
            f.seek(offset)
            length = _FRAME.unpack(f.read(_FRAME.size))[0]
            features = tfrecord.parse_example(f.read(length))
        return bytes(features["image"][0]), int(features["label"][0])


def distorted_crop_box(width: int, height: int,
                       rng: np.random.Generator) -> tuple[int, int, int, int] | None:
    """(left, top, width, height) as ``sample_distorted_bounding_box`` draws it for AlgoPerf's
    JAX pipeline (area 8-100 % and at least 10 % of the image, aspect 3/4-4/3, ten tries);
    None when every try fails (the caller then takes the eval crop)."""
    area = width * height
    for _ in range(10):
        aspect = rng.uniform(*RATIO_RANGE)
        target = area * rng.uniform(max(SCALE_RANGE[0], 0.1), SCALE_RANGE[1])
        h = int(round(math.sqrt(target / aspect)))
        w = int(round(h * aspect))
        if 0 < w <= width and 0 < h <= height and (w, h) != (width, height):
            return int(rng.integers(0, width - w + 1)), int(rng.integers(0, height - h + 1)), w, h
    return None


def jax_train_crop(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """The distorted-box crop resized (bicubic) to 224 px, else the eval crop; then a flip."""
    box = distorted_crop_box(img.width, img.height, rng)
    if box is None:
        out = test_crop(img)
    else:
        left, top, w, h = box
        out = img.crop((left, top, left + w, top + h)).resize(
            (CENTER_CROP_SIZE, CENTER_CROP_SIZE), Image.Resampling.BICUBIC)
    if rng.uniform() < 0.5:
        out = out.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return out


def tfds_train_batch(source: TfdsImages, vit: bool, indices: np.ndarray, labels: np.ndarray,
                     rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Training examples ``indices`` of a TFDS split (``labels`` are read from the records)."""
    del labels
    examples = [source.example(int(i)) for i in indices]
    targets = np.asarray([label for _, label in examples], np.int64)

    def load(i: int, image_rng: np.random.Generator | None) -> Image.Image:
        img = jax_train_crop(open_rgb(examples[i][0]), image_rng)
        return randaugment(img, image_rng) if vit else img

    seeds = rng.integers(0, 2**63, size=len(indices))
    inputs = normalise(load_batch(load, np.arange(len(indices)), seeds))
    if vit:
        inputs, soft = mixup(inputs, targets, NUM_CLASSES, MIXUP_ALPHA, rng)
        return {"inputs": inputs, "targets": soft}
    return {"inputs": inputs, "targets": targets}


def tfds_eval_batches(source: TfdsImages, indices: np.ndarray, batch_size: int,
                      pad: bool) -> Iterator[dict[str, np.ndarray]]:
    """One pass over ``indices`` of a TFDS split with the JAX eval crop."""
    for start in range(0, len(indices), batch_size):
        examples = [source.example(int(i)) for i in indices[start:start + batch_size]]
        yield _test_cropped(examples, pad_size(batch_size, len(indices)), pad)
