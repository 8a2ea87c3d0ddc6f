"""``imagenet_resnet`` and its official variants in PyTorch (dev scale).

    paceline run --scale dev --workload imagenet_resnet --submission nadamw
    paceline run --scale dev --workload imagenet_resnet_silu --submission nadamw
"""

from __future__ import annotations

from torch import nn

from sdk import spec
from workloads.common.vision_torch_workload import TorchImageWorkloadMixin
from workloads.imagenet_resnet import config
from workloads.imagenet_resnet.torch_model import ResNet
from workloads.imagenet_resnet.workload import ImagenetResNetWorkload


class ImagenetResNetPyTorchDev(TorchImageWorkloadMixin, ImagenetResNetWorkload):
    """ResNet (bottleneck, BN, v1.5) on Fashion-MNIST; no dropout, as the official model."""

    scale = "dev"
    _default_dropout_rate = 0.0  # no dropout, as the official model
    channels_last = True

    def _build_model(self) -> nn.Module:
        return ResNet(self.model_config)

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key in ("fc.weight", "fc.bias")


class ImagenetResNetSiLUPyTorchDev(ImagenetResNetPyTorchDev):
    name = "imagenet_resnet_silu"
    variant_overrides = config.VARIANTS[name]


class ImagenetResNetGELUPyTorchDev(ImagenetResNetPyTorchDev):
    name = "imagenet_resnet_gelu"
    variant_overrides = config.VARIANTS[name]


class ImagenetResNetLargeBNScalePyTorchDev(ImagenetResNetPyTorchDev):
    name = "imagenet_resnet_large_bn_init"
    variant_overrides = config.VARIANTS[name]
