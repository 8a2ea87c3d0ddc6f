"""The MNIST model in PyTorch: AlgoPerf's two-layer MLP."""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from sdk.frameworks.init_utils import pytorch_default_init


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
