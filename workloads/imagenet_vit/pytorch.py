"""``imagenet_vit`` in PyTorch (dev scale): the workload class; the
registry rows (``entries.py``) make the classes of the base workload and its official variants.

    paceline run --scale dev --workload imagenet_vit --submission nadamw
    paceline run --scale dev --workload imagenet_vit_map --submission nadamw
"""

from __future__ import annotations

import torch
from torch import nn

from sdk import spec
from workloads.common.variants import row_classes
from workloads.common.vision_torch_workload import TorchImageWorkloadMixin
from workloads.imagenet_vit.entries import ROWS
from workloads.imagenet_vit.model_pytorch import ViT
from workloads.imagenet_vit.workload import ImagenetVitWorkload


class ImagenetVitPyTorchWorkload(TorchImageWorkloadMixin, ImagenetVitWorkload):
    """ViT (no class token, sin-cos positions, GAP head) on Fashion-MNIST.

    Dropout (default ``model_config.dropout_rate``, 0.0 as the official) acts after the
    position embedding, on attention probabilities, inside the MLP and on both residual
    branches.
    """


    def _build_model(self) -> nn.Module:
        return ViT(self.model_config)

    def _forward(self, model: nn.Module, inputs: torch.Tensor, dropout_rate: float) -> torch.Tensor:
        return model(inputs, dropout_rate=dropout_rate)

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key in ("head.weight", "head.bias")


__getattr__ = row_classes(__name__, ROWS, ImagenetVitPyTorchWorkload)
