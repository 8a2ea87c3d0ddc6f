"""Dev data of the ImageNet workloads: Fashion-MNIST (see :mod:`workloads.common.vision`).

    paceline data prepare imagenet_vit
"""

from workloads.common.vision import load, prepare

__all__ = ["load", "prepare"]
