"""The framework-neutral half of ``imagenet_vit`` at dev scale: numbers and augmentation.

Data, splits, sizes and the batch-size rule are the ImageNet ones
(:mod:`workloads.imagenet_resnet.workload`); training adds RandAugment and mixup, as the
official ViT pipeline does.

    paceline run --scale dev --workload imagenet_vit --submission nadamw
"""

from __future__ import annotations

from workloads.common.image_augment import Augmentation
from workloads.imagenet_resnet.workload import ImageClassificationWorkload
from workloads.imagenet_vit import config
from workloads.imagenet_vit.numbers import DEV_NUMBERS

# Official: random-resized crop, flip, RandAugment (2 ops at magnitude 10 of 10), mixup with
# alpha 0.2. Dev: the ResNet's pad-and-crop and flip, RandAugment with 2 ops at magnitude 3,
# mixup with alpha 0.2 (full strength would leave a minute-long run far from converged).
DEV_AUGMENTATION = Augmentation(crop_padding=2, flip=True, randaugment_ops=2,
                                randaugment_magnitude=3.0, mixup_alpha=0.2)


class ImagenetVitWorkload(ImageClassificationWorkload):
    """``imagenet_vit`` at dev scale: a small ViT on Fashion-MNIST."""

    name = "imagenet_vit"
    dev_numbers = DEV_NUMBERS
    dev_augmentation = DEV_AUGMENTATION
    dev_config = config.DEV
    variants = config.VARIANTS
