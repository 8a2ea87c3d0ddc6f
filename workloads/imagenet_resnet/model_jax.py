"""The bottleneck ResNet in Flax, built from a :class:`ResNetConfig`.

Module names follow AlgoPerf's JAX ResNet (``Conv_init``, ``BatchNorm_init``,
``BottleneckResNetBlock_<i>`` with ``Conv_proj``/``BatchNorm_proj`` shortcuts, ``Dense_0``);
inputs are NHWC. With ``config.OFFICIAL`` it has ResNet-50's 25,557,032 parameters.
"""

from __future__ import annotations

import functools
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from workloads.common.vision_jax import activation
from workloads.imagenet_resnet.config import ResNetConfig


def conv_init(cfg: ResNetConfig) -> Any:
    """LeCun-normal (truncated), std times ``conv_init_scale``."""
    return nn.initializers.variance_scaling(cfg.conv_init_scale ** 2, "fan_in",
                                            "truncated_normal")


class BottleneckResNetBlock(nn.Module):
    """1x1 -> BN -> act -> 3x3 (stride) -> BN -> act -> 1x1 (x expansion) -> BN, + shortcut."""

    width: int
    strides: tuple[int, int]
    cfg: ResNetConfig
    norm: Any

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        act = activation(self.cfg.activation)
        conv = functools.partial(nn.Conv, use_bias=False, kernel_init=conv_init(self.cfg))
        out_channels = self.width * self.cfg.expansion
        y = act(self.norm()(conv(self.width, (1, 1))(x)))
        y = act(self.norm()(conv(self.width, (3, 3), self.strides, padding=((1, 1), (1, 1)))(y)))
        y = conv(out_channels, (1, 1))(y)
        y = self.norm(scale_init=nn.initializers.constant(self.cfg.bn_init_scale))(y)
        residual = x
        if residual.shape != y.shape:
            residual = conv(out_channels, (1, 1), self.strides, name="Conv_proj")(x)
            residual = self.norm(name="BatchNorm_proj")(residual)
        return act(residual + y)


class ResNet(nn.Module):
    """Stem, stages of bottleneck blocks, global average pooling, dense classifier."""

    cfg: ResNetConfig

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True) -> jax.Array:
        cfg = self.cfg
        norm = functools.partial(nn.BatchNorm, use_running_average=not train,
                                 momentum=1.0 - cfg.bn_momentum, epsilon=cfg.bn_eps)
        stem_width, widths = cfg.widths()
        pad = cfg.stem_kernel // 2
        x = nn.Conv(stem_width, (cfg.stem_kernel,) * 2, (cfg.stem_stride,) * 2,
                    padding=((pad, pad), (pad, pad)), use_bias=False,
                    kernel_init=conv_init(cfg), name="Conv_init")(x)
        x = activation(cfg.activation)(norm(name="BatchNorm_init")(x))
        if cfg.stem_pool:
            x = nn.max_pool(x, (3, 3), strides=(2, 2), padding=((1, 1), (1, 1)))
        for k, (width, depth) in enumerate(zip(widths, cfg.stage_depths, strict=True)):
            for i in range(depth):
                strides = (2, 2) if k > 0 and i == 0 else (1, 1)
                x = BottleneckResNetBlock(width, strides, cfg, norm)(x)
        x = jnp.mean(x, axis=(1, 2))
        return nn.Dense(cfg.num_classes,
                        kernel_init=nn.initializers.normal(stddev=cfg.fc_init_std))(x)
