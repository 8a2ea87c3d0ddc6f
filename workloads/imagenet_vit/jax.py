"""``imagenet_vit`` in JAX/Flax (dev scale): the workload class; the
registry rows (``entries.py``) make the classes of the base workload and its official variants.

    paceline run --scale dev --framework jax --workload imagenet_vit --submission nadamw
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn

from sdk import spec
from workloads.common.variants import row_classes
from workloads.common.vision_jax import JaxImageWorkloadMixin
from workloads.imagenet_vit.entries import ROWS
from workloads.imagenet_vit.model_jax import ViT
from workloads.imagenet_vit.workload import ImagenetVitWorkload


class ImagenetVitJaxWorkload(JaxImageWorkloadMixin, ImagenetVitWorkload):
    """ViT (no class token, sin-cos positions, GAP head) on Fashion-MNIST; no model state."""


    def _build_model(self) -> nn.Module:
        return ViT(self.model_config)

    def _call_kwargs(self, train: bool, dropout_rate: float) -> dict[str, Any]:
        return {"train": train, "dropout_rate": dropout_rate}

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return "head" in str(param_key) and "MAPHead" not in str(param_key)


__getattr__ = row_classes(__name__, ROWS, ImagenetVitJaxWorkload)
