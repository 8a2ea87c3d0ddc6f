"""The framework-neutral half of ``imagenet_vit``: numbers and augmentation.

Data, splits, sizes and the batch-size rule are the ImageNet ones
(:mod:`workloads.imagenet_resnet.workload`); training adds RandAugment and mixup, as the
official ViT pipeline does, and the official eval batch is 2,048 (AlgoPerf
``algoperf/workloads/imagenet_vit/workload.py``).

    paceline run --scale dev --workload imagenet_vit --submission nadamw
    paceline run --scale official --workload imagenet_vit --data-dir ~/data/imagenet/pytorch
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
OFFICIAL_EVAL_BATCH = 2048


class ImagenetVitWorkload(ImageClassificationWorkload):
    """``imagenet_vit``: ViT-S/16 on ImageNet; dev: a small ViT on Fashion-MNIST."""

    name = "imagenet_vit"
    batch = {**ImageClassificationWorkload.batch, "official_eval": OFFICIAL_EVAL_BATCH}
    dev_numbers = DEV_NUMBERS
    dev_augmentation = DEV_AUGMENTATION
    dev_config = config.DEV
    official_config = config.OFFICIAL
    official_vit_augmentation = True
    variants = config.VARIANTS
