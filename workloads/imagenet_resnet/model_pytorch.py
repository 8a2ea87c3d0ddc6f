"""The bottleneck ResNet in PyTorch, built from a :class:`ResNetConfig`.

Parameter names follow AlgoPerf's PyTorch ResNet (``conv1``, ``bn1``, ``layer<k>.<i>.conv1``,
``...downsample.conv``, ``fc``), so a submission that treats parameters by name or type sees
the same thing here as on the official workload. With ``config.OFFICIAL`` the model is
ResNet-50 v1.5 with 25,557,032 trainable parameters.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from sdk.frameworks.init_utils import pytorch_default_init
from workloads.common.vision_torch import activation
from workloads.imagenet_resnet.config import ResNetConfig


def _conv(c_in: int, c_out: int, kernel: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False)


class Bottleneck(nn.Module):
    """1x1 -> BN -> act -> 3x3 (stride) -> BN -> act -> 1x1 (x expansion) -> BN, + shortcut, act."""

    def __init__(self, c_in: int, width: int, stride: int, cfg: ResNetConfig) -> None:
        super().__init__()
        c_out = width * cfg.expansion

        def bn(channels: int) -> nn.BatchNorm2d:
            return nn.BatchNorm2d(channels, eps=cfg.bn_eps, momentum=cfg.bn_momentum)

        self.conv1, self.bn1 = _conv(c_in, width, 1), bn(width)
        self.conv2, self.bn2 = _conv(width, width, 3, stride), bn(width)
        self.conv3, self.bn3 = _conv(width, c_out, 1), bn(c_out)
        self.act_fnc = activation(cfg.activation)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(OrderedDict([
                ("conv", _conv(c_in, c_out, 1, stride)), ("bn", bn(c_out)),
            ]))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.act_fnc(self.bn1(self.conv1(x)))
        out = self.act_fnc(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return self.act_fnc(out + shortcut)


class ResNet(nn.Module):
    """Stem, four (or ``len(stage_depths)``) stages of bottleneck blocks, GAP, linear."""

    def __init__(self, cfg: ResNetConfig) -> None:
        super().__init__()
        if len(cfg.stage_widths) != len(cfg.stage_depths):
            raise ValueError("stage_widths and stage_depths must have the same length.")
        stem_width, widths = cfg.widths()
        self.conv1 = nn.Conv2d(cfg.in_channels, stem_width, cfg.stem_kernel,
                               stride=cfg.stem_stride, padding=cfg.stem_kernel // 2, bias=False)
        self.bn1 = nn.BatchNorm2d(stem_width, eps=cfg.bn_eps, momentum=cfg.bn_momentum)
        self.act_fnc = activation(cfg.activation)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1) if cfg.stem_pool else nn.Identity()
        c_in = stem_width
        for k, (width, depth) in enumerate(zip(widths, cfg.stage_depths, strict=True)):
            blocks = []
            for i in range(depth):
                stride = 2 if (k > 0 and i == 0) else 1
                blocks.append(Bottleneck(c_in, width, stride, cfg))
                c_in = width * cfg.expansion
            self.add_module(f"layer{k + 1}", nn.Sequential(*blocks))
        self.num_stages = len(widths)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c_in, cfg.num_classes)
        self._init(cfg)

    def _init(self, cfg: ResNetConfig) -> None:
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                pytorch_default_init(module)
                with torch.no_grad():
                    module.weight.mul_(cfg.conv_init_scale)
            elif isinstance(module, nn.BatchNorm2d):
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        nn.init.normal_(self.fc.weight, std=cfg.fc_init_std)
        nn.init.zeros_(self.fc.bias)
        for module in self.modules():
            if isinstance(module, Bottleneck):
                nn.init.constant_(module.bn3.weight, cfg.bn_init_scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.act_fnc(self.bn1(self.conv1(x))))
        for k in range(self.num_stages):
            x = getattr(self, f"layer{k + 1}")(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))
