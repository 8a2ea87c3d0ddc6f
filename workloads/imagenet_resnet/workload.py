"""The framework-neutral half of the ImageNet workloads at dev scale: numbers, splits, sizes,
batch-size rule and the input pipeline. ``imagenet_vit`` builds on this class, as in AlgoPerf.

    paceline run --scale dev --workload imagenet_resnet --submission nadamw
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields, replace
from typing import Any, ClassVar

import numpy as np

from sdk import spec
from sdk.errors import PacelineError
from sdk.rulesets import WorkloadNumbers
from workloads.common import vision
from workloads.common.batching import TrainBatches, data_seed, eval_batches
from workloads.common.family import FamilyWorkload
from workloads.common.image_augment import Augmentation, augment, mixup
from workloads.imagenet_resnet import config
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


class ImageClassificationWorkload(FamilyWorkload):
    """Image classification on Fashion-MNIST standing in for ImageNet (dev scale only).

    A family subclass sets ``dev_numbers``, ``dev_augmentation``, ``dev_config`` and
    ``variants`` (and may change the ``batch`` table); framework subclasses implement the
    model. ``model_config`` is the family's dev config with ``model_overrides`` applied.
    """

    sizes = {"dev": DEV_SIZES}
    batch = {"official_reference": OFFICIAL_REFERENCE_BATCH,
             "dev_reference": DEV_REFERENCE_BATCH, "dev_eval": DEV_EVAL_BATCH}
    loss = spec.LossType.SOFTMAX_CROSS_ENTROPY
    dev_augmentation: ClassVar[Augmentation] = Augmentation()
    dev_config: ClassVar[Any] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model_config  # noqa: B018 - bad model overrides fail here, with one sentence

    @classmethod
    def numbers_for(cls, version: str) -> WorkloadNumbers:
        if cls.name not in cls.dev_numbers:
            raise PacelineError(f"No dev-scale numbers for {cls.name!r}.")
        return cls.dev_numbers[cls.name][version]

    def _make_config(self) -> Any:
        return config_with_overrides(self.dev_config, self.model_overrides)

    # ---- AlgoPerf properties ---------------------------------------------------------------
    @property
    def train_mean(self) -> tuple[float, ...]:
        return DEV_MEAN

    @property
    def train_stddev(self) -> tuple[float, ...]:
        return DEV_STD

    @property
    def num_classes(self) -> int:
        return vision.NUM_CLASSES

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
        source = self._data(data_dir)["train" if split == "eval_train" else split]
        for batch in eval_batches(source, batch_size, num_examples, pad=pad):
            yield {"inputs": self._normalise(batch["images"]),
                   "targets": np.array(batch["labels"]), "weights": batch["weights"]}


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
    variants = config.VARIANTS
