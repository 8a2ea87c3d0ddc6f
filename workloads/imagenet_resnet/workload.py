"""The framework-neutral half of the ImageNet workloads: numbers, splits, sizes, batch-size
rule and the input pipelines (dev: Fashion-MNIST; official: AlgoPerf's ImageNet layout, read
by :mod:`workloads.imagenet_resnet.official_data`). ``imagenet_vit`` builds on this class, as
in AlgoPerf.

    paceline run --scale dev --workload imagenet_resnet --submission nadamw
    paceline run --scale official --workload imagenet_resnet --data-dir ~/data/imagenet/pytorch
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import fields, replace
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from sdk import spec
from sdk.errors import PacelineError
from sdk.rulesets import WorkloadNumbers
from workloads.common import vision
from workloads.common.batching import TrainBatches, data_seed, eval_batches
from workloads.common.family import FamilyWorkload
from workloads.common.image_augment import Augmentation, augment, mixup
from workloads.common.numbers import dev_numbers
from workloads.imagenet_resnet import config, official_data
from workloads.imagenet_resnet.numbers import DEV_NUMBERS

# The NAdamW baseline's official batch size for ImageNet, and the dev sizes it maps to: the
# dev ResNet trains best (per CPU second) on more, smaller steps; the ViT on 128.
OFFICIAL_REFERENCE_BATCH = 1024
DEV_REFERENCE_BATCH = 128
RESNET_DEV_REFERENCE_BATCH = 64
DEV_EVAL_BATCH = 1000
DEV_SIZES = {"train": 59_000, "eval_train": 1_000, "validation": vision.VALIDATION_SIZE,
             "test": vision.TEST_SIZE}
# Grey-level statistics of the training split (0-255 units; checked by the tests).
DEV_MEAN, DEV_STD = (72.93,), (90.02,)
# Official: random-resized crop and flip; dev: a 2-pixel pad-and-crop and flip (a stronger crop
# costs more accuracy than a minute-long run can win back).
DEV_AUGMENTATION = Augmentation(crop_padding=2, flip=True)
# Official sizes (AlgoPerf algoperf/workloads/imagenet_resnet/workload.py): ImageNet train and
# val, ImageNet-v2 as the test set; eval_train is validation rounded up to the eval batch.
OFFICIAL_SIZES = {"train": 1_281_167, "validation": 50_000, "test": 10_000}
RESNET_OFFICIAL_EVAL_BATCH = 1024
EVAL_TRAIN_SEED = 0  # picks the fixed train subset evaluated as ``eval_train`` (official)


class ImageClassificationWorkload(FamilyWorkload):
    """ImageNet classification: Fashion-MNIST standing in for it at dev scale, AlgoPerf's
    ImageNet files at official scale.

    A family subclass sets ``dev_numbers``, ``dev_augmentation``, ``dev_config``,
    ``official_config``, ``official_vit_augmentation`` and ``variants`` (and may change the
    ``batch`` table); framework subclasses implement the model. ``model_config`` is the
    family's config at this scale with ``model_overrides`` applied.
    """

    sizes = {"dev": DEV_SIZES, "official": OFFICIAL_SIZES}
    batch = {"official_reference": OFFICIAL_REFERENCE_BATCH,
             "dev_reference": DEV_REFERENCE_BATCH, "dev_eval": DEV_EVAL_BATCH,
             "official_eval": RESNET_OFFICIAL_EVAL_BATCH}
    loss = spec.LossType.SOFTMAX_CROSS_ENTROPY
    dev_augmentation: ClassVar[Augmentation] = Augmentation()
    dev_config: ClassVar[Any] = None
    official_config: ClassVar[Any] = None
    official_image_size: ClassVar[int] = official_data.CENTER_CROP_SIZE
    # ViT trains with RandAugment and mixup officially; ResNet with crop and flip only
    official_vit_augmentation: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model_config  # noqa: B018 - bad model overrides fail here, with one sentence

    @classmethod
    def numbers_for(cls, version: str) -> WorkloadNumbers:
        if cls.scale != "dev":
            return cls.official_numbers(version)
        if cls.name not in cls.dev_numbers:
            raise PacelineError(f"No dev-scale numbers for {cls.name!r}.")
        return dev_numbers(cls.name, cls.dev_numbers[cls.name], version, cls.framework)

    def _make_config(self) -> Any:
        base = self.dev_config if self.scale == "dev" else self.official_config
        return config_with_overrides(base, self.model_overrides)

    # ---- AlgoPerf properties ---------------------------------------------------------------
    def _size(self, split: str) -> int:
        if self.scale != "dev" and split == "eval_train":
            validation, batch = self._size("validation"), self.eval_batch_size
            return math.ceil(validation / batch) * batch
        return super()._size(split)

    @property
    def train_mean(self) -> tuple[float, ...]:
        return DEV_MEAN if self.scale == "dev" else official_data.MEAN_RGB

    @property
    def train_stddev(self) -> tuple[float, ...]:
        return DEV_STD if self.scale == "dev" else official_data.STDDEV_RGB

    @property
    def num_classes(self) -> int:
        return vision.NUM_CLASSES if self.scale == "dev" else official_data.NUM_CLASSES

    # ---- data --------------------------------------------------------------------------------
    def _data(self, data_dir: str | None) -> dict[str, dict[str, np.ndarray]]:
        key = data_dir or ""
        cache = self.__dict__.setdefault("_data_cache", {})
        if key not in cache:
            cache[key] = vision.load(data_dir)
        return cache[key]

    def _normalise(self, images: np.ndarray) -> np.ndarray:
        """0-255 grey ``[B, H, W]`` -> normalised float32 ``[B, H, W, 1]`` (NHWC)."""
        x = (images.astype(np.float32) - np.float32(DEV_MEAN[0])) / np.float32(DEV_STD[0])
        return x[..., None]

    def _numpy_train_batches(self, data_rng: Any, data_dir: str | None,
                             global_batch_size: int) -> TrainBatches:
        seed = data_seed(data_rng)
        batch_size = self.effective_batch_size(global_batch_size)
        if self.scale != "dev":
            return self._official_train_batches(data_dir, batch_size, seed)
        return AugmentedBatches(self._data(data_dir)["train"], batch_size, seed,
                                self._augment_batch)

    def _augment_batch(self, images: np.ndarray, labels: np.ndarray,
                       rng: np.random.Generator) -> dict[str, np.ndarray]:
        aug = self.dev_augmentation
        inputs = self._normalise(augment(images, aug, rng))
        targets: np.ndarray = labels
        if aug.mixup_alpha > 0:
            inputs, targets = mixup(inputs, labels, self.num_classes, aug.mixup_alpha, rng)
        return {"inputs": inputs, "targets": targets}

    def _eval_batches(self, split: str, num_examples: int, batch_size: int,
                      data_dir: str | None, pad: bool = False) -> Iterator[dict[str, np.ndarray]]:
        if self.scale != "dev":
            return self._official_eval_batches(split, num_examples, batch_size, data_dir, pad)
        return self._dev_eval_batches(split, num_examples, batch_size, data_dir, pad)

    def _dev_eval_batches(self, split: str, num_examples: int, batch_size: int,
                          data_dir: str | None, pad: bool) -> Iterator[dict[str, np.ndarray]]:
        source = self._data(data_dir)["train" if split == "eval_train" else split]
        for batch in eval_batches(source, batch_size, num_examples, pad=pad):
            yield {"inputs": self._normalise(batch["images"]),
                   "targets": np.array(batch["labels"]), "weights": batch["weights"]}


    # ---- official data ---------------------------------------------------------------------
    def _official_dir(self, data_dir: str | None) -> Path:
        if not data_dir:
            raise PacelineError(f"The official {self.name} workload needs --data-dir with "
                                "AlgoPerf's ImageNet (its imagenet/pytorch or, for JAX, "
                                "imagenet/jax folder; docs/workloads/imagenet_resnet.md).")
        return Path(data_dir).expanduser()

    def _official_source(self, data_dir: str | None, name: str) -> Any:
        """The train or val images, listed once per data directory: an ImageFolder
        (PyTorch's layout) or the TFDS split's records (JAX's)."""
        root = self._official_dir(data_dir)
        key = (str(root), name, self.framework)
        cache = self.__dict__.setdefault("_official_sources", {})
        if key not in cache:
            cache[key] = (official_data.TfdsImages(root, official_data.TFDS_SPLITS[name])
                          if self.framework == "jax" else official_data.ImageFolder(root / name))
        return cache[key]

    def _official_eval_batches(self, split: str, num_examples: int, batch_size: int,
                               data_dir: str | None, pad: bool) -> Iterator[dict[str, np.ndarray]]:
        """validation: val/ in order; eval_train: a fixed random subset of train/ (both with
        the eval crop, as upstream's PyTorch pipeline); test: ImageNet-v2."""
        if split == "test":
            return official_data.imagenet_v2_batches(self._official_dir(data_dir),
                                                     num_examples, batch_size, pad)
        source = self._official_source(
            data_dir, official_data.TRAIN_DIR if split == "eval_train" else official_data.VAL_DIR)
        if split == "eval_train":
            indices = np.random.default_rng(EVAL_TRAIN_SEED).permutation(len(source))
            indices = indices[:num_examples]
        else:
            indices = np.arange(min(num_examples, len(source)))
        if self.framework == "jax":
            return official_data.tfds_eval_batches(source, indices, batch_size, pad)
        return official_data.folder_eval_batches(source, indices, batch_size, pad)

    def _official_train_batches(self, data_dir: str | None, batch_size: int,
                                seed: int) -> TrainBatches:
        """Shuffled official training batches (JAX: TFDS records; PyTorch: JPEG folders)."""
        source = self._official_source(data_dir, official_data.TRAIN_DIR)
        if self.framework == "jax":  # record indices; the labels are read from the records
            make = functools.partial(official_data.tfds_train_batch, source,
                                     self.official_vit_augmentation)
            arrays = {"images": np.arange(len(source)), "labels": np.arange(len(source))}
        else:
            make = functools.partial(official_data.train_batch, source,
                                     self.official_vit_augmentation)
            arrays = {"images": np.arange(len(source)), "labels": source.labels}
        return AugmentedBatches(arrays, batch_size, seed, make)


class AugmentedBatches(TrainBatches):
    """:class:`TrainBatches` over images/labels with a per-batch seeded augmentation.

    Batch ``k`` is augmented with ``default_rng([seed, k])`` so a resumed run (``skip``) sees
    exactly the batches an uninterrupted one would.
    """

    def __init__(self, arrays: dict[str, np.ndarray], batch_size: int, seed: int,
                 make_batch: Any) -> None:
        super().__init__(arrays, batch_size, seed)
        self.make_batch = make_batch

    def __next__(self) -> dict[str, Any]:
        index = self.position // self.batch_size
        idx = self.indices()
        rng = np.random.default_rng([self.seed, index, 1])
        batch = self.make_batch(self.arrays["images"][idx], self.arrays["labels"][idx], rng)
        return self.transform(batch) if self.transform is not None else batch


def config_with_overrides(base: Any, overrides: dict[str, Any]) -> Any:
    """``base`` (a frozen dataclass) with ``overrides`` applied, checked field by field."""
    if not overrides:
        return base
    known = {f.name: f for f in fields(base)}
    unknown = sorted(set(overrides) - set(known))
    if unknown:
        raise PacelineError(f"Unknown model override(s) {', '.join(unknown)} for "
                            f"{type(base).__name__}; known: {', '.join(known)}.")
    clean = {}
    for key, value in overrides.items():
        current = getattr(base, key)
        if isinstance(current, tuple):
            value = tuple(value)
        elif isinstance(current, bool):
            if not isinstance(value, bool | np.bool_):
                raise PacelineError(f"Model override {key} must be true or false, not {value!r}.")
            value = bool(value)
        elif isinstance(current, int | float) and not isinstance(value, int | float):
            raise PacelineError(f"Model override {key} must be a number, not {value!r}.")
        elif isinstance(current, float):
            value = float(value)
        elif isinstance(current, int):
            if float(value) != int(value):
                raise PacelineError(f"Model override {key} must be an integer, not {value!r}.")
            value = int(value)
        clean[key] = value
    try:
        return replace(base, **clean)
    except ValueError as exc:
        raise PacelineError(f"Model overrides {clean} are invalid: {exc}") from None


class ImagenetResNetWorkload(ImageClassificationWorkload):
    """``imagenet_resnet`` at dev scale: a bottleneck ResNet on Fashion-MNIST."""

    name = "imagenet_resnet"
    batch = {**ImageClassificationWorkload.batch, "dev_reference": RESNET_DEV_REFERENCE_BATCH}
    dev_numbers = DEV_NUMBERS
    dev_augmentation = DEV_AUGMENTATION
    dev_config = config.DEV
    official_config = config.OFFICIAL
    variants = config.VARIANTS
