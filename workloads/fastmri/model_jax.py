"""fastMRI's U-Net in Flax (NHWC), built from the same :class:`UNetConfig`.

The output layer is the final 1x1 convolution, ``Conv_0`` at the top level (as upstream's JAX
model names it).
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from workloads.fastmri.config import UNetConfig


def _activation(cfg: UNetConfig) -> Any:
    if cfg.activation == "leaky_relu":
        return lambda x: jax.nn.leaky_relu(x, cfg.leaky_relu_slope)
    return {"relu": jax.nn.relu, "tanh": jnp.tanh,
            "gelu": lambda x: jax.nn.gelu(x, approximate=True), "silu": jax.nn.silu
            }[cfg.activation]


def _kernel_init(scale: float) -> Any:
    base = nn.initializers.lecun_normal()  # truncated normal, std sqrt(1 / fan_in)
    return lambda key, shape, dtype=jnp.float32: scale * base(key, shape, dtype)


def instance_norm(x: jax.Array, eps: float = 1e-5) -> jax.Array:
    """Per-example, per-channel normalisation over H, W (no affine), as upstream's JAX code."""
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = jnp.maximum((x * x).mean(axis=(1, 2), keepdims=True) - mean * mean, 0.0)
    return (x - mean) / jnp.sqrt(var + eps)


class Norm(nn.Module):
    kind: str

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        if self.kind == "instance":
            return instance_norm(x)
        if self.kind == "layer":  # over (H, W, C) per example, per-channel scale and bias
            return nn.LayerNorm(reduction_axes=(1, 2, 3), epsilon=1e-6)(x)
        return x


def channel_dropout(x: jax.Array, rate: Any, rng: jax.Array | None) -> jax.Array:
    """Dropout2d: whole channels of an example, with a possibly traced rate."""
    if rng is None:
        return x
    keep = jax.random.bernoulli(rng, 1.0 - rate, (x.shape[0], 1, 1, x.shape[-1]))
    return jnp.where(keep, x / jnp.maximum(1.0 - rate, 1e-12), 0.0)


class ConvBlock(nn.Module):
    features: int
    cfg: UNetConfig

    @nn.compact
    def __call__(self, x: jax.Array, rate: Any, rng: jax.Array | None) -> jax.Array:
        act = _activation(self.cfg)
        for i in range(2):
            x = nn.Conv(self.features, (3, 3), padding=1, use_bias=False,
                        kernel_init=_kernel_init(self.cfg.init_scale))(x)
            x = act(Norm(self.cfg.norm)(x))
            x = channel_dropout(x, rate, None if rng is None else jax.random.fold_in(rng, i))
        return x


class TransposeConvBlock(nn.Module):
    features: int
    cfg: UNetConfig

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = nn.ConvTranspose(self.features, (2, 2), strides=(2, 2), use_bias=False,
                             kernel_init=_kernel_init(self.cfg.init_scale))(x)
        return _activation(self.cfg)(Norm(self.cfg.transpose_norm)(x))


class UNet(nn.Module):
    """Input ``[B, H, W]`` zero-filled magnitudes; output ``[B, H, W]``."""

    cfg: UNetConfig

    @nn.compact
    def __call__(self, x: jax.Array, dropout_rate: Any = 0.0,
                 dropout_rng: jax.Array | None = None) -> jax.Array:
        cfg = self.cfg
        pool = nn.avg_pool if cfg.pooling == "avg" else nn.max_pool

        def rng_for(i: int) -> jax.Array | None:
            return None if dropout_rng is None else jax.random.fold_in(dropout_rng, i)

        out = x[..., None]
        skips, ch, block = [], cfg.num_channels, 0
        for level in range(cfg.num_pool_layers):
            out = ConvBlock(ch * 2**level, cfg)(out, dropout_rate, rng_for(block))
            block += 1
            skips.append(out)
            out = pool(out, (2, 2), strides=(2, 2))
        out = ConvBlock(ch * 2**cfg.num_pool_layers, cfg)(out, dropout_rate, rng_for(block))
        for level in reversed(range(cfg.num_pool_layers)):
            block += 1
            skip = skips.pop()
            out = TransposeConvBlock(ch * 2**level, cfg)(out)
            pad_h, pad_w = skip.shape[1] - out.shape[1], skip.shape[2] - out.shape[2]
            if pad_h or pad_w:
                out = jnp.pad(out, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="reflect")
            out = jnp.concatenate([out, skip], axis=-1)
            out = ConvBlock(ch * 2**level, cfg)(out, dropout_rate, rng_for(block))
        out = nn.Conv(cfg.out_chans, (1, 1), kernel_init=_kernel_init(cfg.init_scale),
                      name="Conv_0")(out)
        return out[..., 0]


def ssim(outputs: jax.Array, targets: jax.Array, mean: jax.Array, std: jax.Array,
         volume_max: jax.Array) -> jax.Array:
    """Per-example SSIM, the same computation as :func:`workloads.fastmri.ssim.ssim`."""
    ones = jnp.ones_like(volume_max)
    data_range = jnp.where(volume_max == 0, ones, volume_max).reshape(-1, 1, 1)
    x = outputs * std[:, None, None] + mean[:, None, None]
    y = targets * std[:, None, None] + mean[:, None, None]

    def box(im: jax.Array) -> jax.Array:
        h, w = im.shape[1:]
        p = jnp.pad(im, ((0, 0), (3, 3), (3, 3)), mode="symmetric")
        rows = sum(p[:, 3:3 + h, j:j + w] for j in range(7)) / 7.0
        p = jnp.pad(rows, ((0, 0), (3, 3), (0, 0)), mode="symmetric")
        return sum(p[:, i:i + h, :] for i in range(7)) / 7.0

    cov_norm = 49.0 / 48.0
    ux, uy = box(x), box(y)
    vx = cov_norm * (box(x * x) - ux * ux)
    vy = cov_norm * (box(y * y) - uy * uy)
    vxy = cov_norm * (box(x * y) - ux * uy)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    return jnp.clip(s[:, 3:-3, 3:-3].mean(axis=(1, 2)), -1.0, 1.0)
