"""MNIST in PyTorch (both scales).

    paceline run --workload mnist --submission nadamw
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from sdk import spec
from sdk.frameworks.init_utils import pytorch_default_init
from workloads.common.vision_torch_workload import TorchClassifierMixin
from workloads.mnist.workload import MnistWorkload


class MnistNet(nn.Module):
    """Flatten 28x28 -> Linear 784->128 -> sigmoid -> Linear 128->10 (101,770 parameters)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(OrderedDict([
            ("layer1", nn.Linear(28 * 28, 128)),
            ("layer1_sig", nn.Sigmoid()),
            ("layer2", nn.Linear(128, 10)),
        ]))
        for module in self.modules():
            if isinstance(module, nn.Linear):
                pytorch_default_init(module)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.reshape(x.shape[0], -1))


class MnistPyTorchWorkload(TorchClassifierMixin, MnistWorkload):
    """The MLP above; no dropout and no model state."""

    _default_dropout_rate = 0.0  # MNIST has no dropout

    def _build_model(self) -> MnistNet:
        return MnistNet()

    def _forward(self, model: nn.Module, inputs: torch.Tensor, dropout_rate: float) -> torch.Tensor:
        del dropout_rate
        return model(inputs)

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key.startswith("net.layer2.")


class MnistPyTorchDev(MnistPyTorchWorkload):
    scale = "dev"


class MnistPyTorchOfficial(MnistPyTorchWorkload):
    scale = "official"
