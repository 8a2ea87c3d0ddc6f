"""fastMRI's U-Net in PyTorch, built from a :class:`~workloads.fastmri.config.UNetConfig`.

The official config gives AlgoPerf's model exactly (7,756,097 parameters):

    >>> from workloads.fastmri import config
    >>> sum(p.numel() for p in UNet(config.OFFICIAL).parameters())
    7756097
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from sdk.frameworks.init_utils import pytorch_default_init
from workloads.fastmri.config import UNetConfig


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "instance":
        return nn.InstanceNorm2d(channels)  # eps 1e-5, no affine, no running statistics
    if kind == "layer":
        return nn.GroupNorm(1, channels, eps=1e-6)  # per sample over (C, H, W), affine
    return nn.Identity()


def _activation(cfg: UNetConfig) -> nn.Module:
    if cfg.activation == "leaky_relu":
        return nn.LeakyReLU(cfg.leaky_relu_slope)
    return {"relu": nn.ReLU(), "tanh": nn.Tanh(), "gelu": nn.GELU(approximate="tanh"),
            "silu": nn.SiLU()}[cfg.activation]


class ChannelDropout(nn.Module):
    """Dropout2d whose rate is given at call time."""

    def forward(self, x: torch.Tensor, dropout_rate: float) -> torch.Tensor:
        return F.dropout2d(x, dropout_rate, training=self.training)


class ConvBlock(nn.Module):
    """[Conv3x3 (no bias) -> norm -> activation -> Dropout2d] x 2 (``conv_layers.0..7``)."""

    def __init__(self, in_chans: int, out_chans: int, cfg: UNetConfig) -> None:
        super().__init__()
        self.conv_layers = nn.ModuleList([
            nn.Conv2d(in_chans, out_chans, kernel_size=3, padding=1, bias=False),
            _norm(cfg.norm, out_chans),
            _activation(cfg),
            ChannelDropout(),
            nn.Conv2d(out_chans, out_chans, kernel_size=3, padding=1, bias=False),
            _norm(cfg.norm, out_chans),
            _activation(cfg),
            ChannelDropout(),
        ])

    def forward(self, x: torch.Tensor, dropout_rate: float) -> torch.Tensor:
        for layer in self.conv_layers:
            x = layer(x, dropout_rate) if isinstance(layer, ChannelDropout) else layer(x)
        return x


class TransposeConvBlock(nn.Module):
    """ConvTranspose 2x2 stride 2 (no bias) -> norm -> activation (no dropout)."""

    def __init__(self, in_chans: int, out_chans: int, cfg: UNetConfig) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.ConvTranspose2d(in_chans, out_chans, kernel_size=2, stride=2, bias=False),
            _norm(cfg.transpose_norm, out_chans),
            _activation(cfg),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class Head(nn.Module):
    """The last decoder level: ConvBlock(2C -> C) then Conv1x1 C -> out with bias."""

    def __init__(self, in_chans: int, chans: int, cfg: UNetConfig) -> None:
        super().__init__()
        self.add_module("0", ConvBlock(in_chans, chans, cfg))
        self.add_module("1", nn.Conv2d(chans, cfg.out_chans, kernel_size=1))

    def forward(self, x: torch.Tensor, dropout_rate: float) -> torch.Tensor:
        return self.get_submodule("1")(self.get_submodule("0")(x, dropout_rate))


class UNet(nn.Module):
    """Input ``[B, H, W]`` (or ``[B, 1, H, W]``) zero-filled magnitudes; output ``[B, H, W]``.

    Module names follow AlgoPerf's (``down_sample_layers``, ``conv``, ``up_transpose_conv``,
    ``up_conv``), so the output layer is ``up_conv.<P-1>.1``.
    """

    def __init__(self, cfg: UNetConfig) -> None:
        super().__init__()
        self.cfg = cfg
        ch = cfg.num_channels
        self.down_sample_layers = nn.ModuleList([ConvBlock(cfg.in_chans, ch, cfg)])
        for _ in range(cfg.num_pool_layers - 1):
            self.down_sample_layers.append(ConvBlock(ch, ch * 2, cfg))
            ch *= 2
        self.conv = ConvBlock(ch, ch * 2, cfg)
        self.up_transpose_conv = nn.ModuleList()
        self.up_conv = nn.ModuleList()
        for level in range(cfg.num_pool_layers):
            self.up_transpose_conv.append(TransposeConvBlock(ch * 2, ch, cfg))
            if level < cfg.num_pool_layers - 1:
                self.up_conv.append(ConvBlock(ch * 2, ch, cfg))
                ch //= 2
            else:
                self.up_conv.append(Head(ch * 2, ch, cfg))
        for module in self.modules():
            if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
                pytorch_default_init(module)
                if cfg.init_scale != 1.0:
                    with torch.no_grad():
                        module.weight.mul_(cfg.init_scale)

    def forward(self, x: torch.Tensor, dropout_rate: float = 0.0) -> torch.Tensor:
        squeeze = x.dim() == 3
        out = x.unsqueeze(1) if squeeze else x
        pool = F.avg_pool2d if self.cfg.pooling == "avg" else F.max_pool2d
        skips = []
        for layer in self.down_sample_layers:
            out = layer(out, dropout_rate)
            skips.append(out)
            out = pool(out, kernel_size=2, stride=2)
        out = self.conv(out, dropout_rate)
        for up, conv in zip(self.up_transpose_conv, self.up_conv, strict=True):
            skip = skips.pop()
            out = up(out)
            # odd sizes: reflect-pad one pixel on the right/bottom to match the skip
            pad_w = skip.shape[-1] - out.shape[-1]
            pad_h = skip.shape[-2] - out.shape[-2]
            if pad_w or pad_h:
                out = F.pad(out, [0, pad_w, 0, pad_h], mode="reflect")
            out = conv(torch.cat([out, skip], dim=1), dropout_rate)
        return out.squeeze(1) if squeeze else out


def output_param_names(cfg: UNetConfig) -> tuple[str, str]:
    """Names of the output layer's parameters (for ``is_output_params``)."""
    last = f"up_conv.{cfg.num_pool_layers - 1}.1"
    return f"{last}.weight", f"{last}.bias"
