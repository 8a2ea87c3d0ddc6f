"""``imagenet_resnet`` and its official variants in JAX/Flax (dev scale).

    paceline run --scale dev --framework jax --workload imagenet_resnet --submission nadamw
"""

from __future__ import annotations

import flax.linen as nn

from sdk import spec
from workloads.common.vision_jax import JaxImageWorkloadMixin
from workloads.imagenet_resnet import config
from workloads.imagenet_resnet.jax_model import ResNet
from workloads.imagenet_resnet.workload import ImagenetResNetWorkload


class ImagenetResNetJaxDev(JaxImageWorkloadMixin, ImagenetResNetWorkload):
    """ResNet (bottleneck, BN, v1.5) on Fashion-MNIST; model state = BN ``batch_stats``."""

    scale = "dev"
    _default_dropout_rate = 0.0  # no dropout, as the official model

    def _build_model(self) -> nn.Module:
        return ResNet(self.model_config)

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return "Dense_0" in str(param_key)


class ImagenetResNetSiLUJaxDev(ImagenetResNetJaxDev):
    name = "imagenet_resnet_silu"
    variant_overrides = config.VARIANTS[name]


class ImagenetResNetGELUJaxDev(ImagenetResNetJaxDev):
    name = "imagenet_resnet_gelu"
    variant_overrides = config.VARIANTS[name]


class ImagenetResNetLargeBNScaleJaxDev(ImagenetResNetJaxDev):
    name = "imagenet_resnet_large_bn_init"
    variant_overrides = config.VARIANTS[name]
