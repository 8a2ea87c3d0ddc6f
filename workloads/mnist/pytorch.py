"""MNIST in PyTorch (both scales): the workload class; the registry rows (``entries.py``)
make its dev and official classes.

    paceline run --workload mnist --submission nadamw
"""

from __future__ import annotations

import torch
from torch import nn

from sdk import spec
from workloads.common.variants import row_classes
from workloads.common.vision_torch_workload import TorchClassifierMixin
from workloads.mnist.entries import ROWS
from workloads.mnist.model_pytorch import MnistNet
from workloads.mnist.workload import MnistWorkload


class MnistPyTorchWorkload(TorchClassifierMixin, MnistWorkload):
    """The MLP of ``model_pytorch``; no dropout and no model state."""

    _default_dropout_rate = 0.0  # MNIST has no dropout

    def _build_model(self) -> MnistNet:
        return MnistNet()

    def _forward(self, model: nn.Module, inputs: torch.Tensor, dropout_rate: float) -> torch.Tensor:
        del dropout_rate
        return model(inputs)

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key.startswith("net.layer2.")


__getattr__ = row_classes(__name__, ROWS, MnistPyTorchWorkload)
