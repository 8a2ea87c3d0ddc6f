"""``imagenet_vit`` and its official variants in JAX/Flax (dev scale).

    paceline run --scale dev --framework jax --workload imagenet_vit --submission nadamw
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn

from sdk import spec
from workloads.common.vision_jax import JaxImageWorkloadMixin
from workloads.imagenet_vit import config
from workloads.imagenet_vit.jax_model import ViT
from workloads.imagenet_vit.workload import ImagenetVitWorkload


class ImagenetVitJaxDev(JaxImageWorkloadMixin, ImagenetVitWorkload):
    """ViT (no class token, sin-cos positions, GAP head) on Fashion-MNIST; no model state."""

    scale = "dev"

    def _build_model(self) -> nn.Module:
        return ViT(self.model_config)

    def _call_kwargs(self, train: bool, dropout_rate: float) -> dict[str, Any]:
        return {"train": train, "dropout_rate": dropout_rate}

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return "head" in str(param_key) and "MAPHead" not in str(param_key)


class ImagenetVitGluJaxDev(ImagenetVitJaxDev):
    name = "imagenet_vit_glu"
    variant_overrides = config.VARIANTS[name]


class ImagenetVitPostLNJaxDev(ImagenetVitJaxDev):
    name = "imagenet_vit_post_ln"
    variant_overrides = config.VARIANTS[name]


class ImagenetVitMapJaxDev(ImagenetVitJaxDev):
    name = "imagenet_vit_map"
    variant_overrides = config.VARIANTS[name]
