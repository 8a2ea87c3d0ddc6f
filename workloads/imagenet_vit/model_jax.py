"""The Vision Transformer in Flax, built from a :class:`ViTConfig`.

Module names follow AlgoPerf's JAX ViT (``conv_patch_extract``, ``Transformer/encoderblock_<i>``
with ``LayerNorm_0``, ``MultiHeadDotProductAttention_1``, ``LayerNorm_2``, ``MlpBlock_3``,
``encoder_layernorm``, ``MAPHead_0``, ``pre_logits``, ``head``); inputs are NHWC. As in
AlgoPerf's JAX model, attention probabilities get no dropout.
"""

from __future__ import annotations

import functools
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from workloads.common.vision_jax import Dropout, activation
from workloads.imagenet_vit.config import ViTConfig


def posemb_sincos_2d(h: int, w: int, width: int, temperature: float = 10_000.0) -> np.ndarray:
    """Fixed 2-D sin-cos position embedding ``[1, h*w, width]`` (as the PyTorch model's)."""
    quarter = width // 4
    omega = 1.0 / temperature ** (np.arange(quarter) / max(quarter - 1, 1))
    rows, cols = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    x = cols.reshape(-1)[:, None] * omega[None, :]
    y = rows.reshape(-1)[:, None] * omega[None, :]
    return np.concatenate([np.sin(x), np.cos(x), np.sin(y), np.cos(y)], axis=1)[None]


def _attention(temperature: float) -> Any:
    def attend(query: jax.Array, key: jax.Array, value: jax.Array, **kwargs: Any) -> jax.Array:
        return nn.dot_product_attention(query / temperature, key, value, **kwargs)

    return attend


class MlpBlock(nn.Module):
    mlp_dim: int
    act: str
    use_glu: bool = False

    @nn.compact
    def __call__(self, x: jax.Array, train: bool, dropout_rate: Any) -> jax.Array:
        inits = {"kernel_init": nn.initializers.xavier_uniform(),
                 "bias_init": nn.initializers.normal(stddev=1e-6)}
        width = x.shape[-1]
        h = activation(self.act)(nn.Dense(self.mlp_dim, **inits)(x))
        if self.use_glu:
            h = h * nn.Dense(self.mlp_dim, **inits)(h)
        h = Dropout()(h, dropout_rate, deterministic=not train)
        return nn.Dense(width, **inits)(h)


class Encoder1DBlock(nn.Module):
    mlp_dim: int
    cfg: ViTConfig

    @nn.compact
    def __call__(self, x: jax.Array, train: bool, dropout_rate: Any) -> jax.Array:
        cfg = self.cfg
        ln = functools.partial(nn.LayerNorm, epsilon=cfg.layer_norm_eps)
        attn = nn.MultiHeadDotProductAttention(
            num_heads=cfg.num_heads, kernel_init=nn.initializers.xavier_uniform(),
            deterministic=True, attention_fn=_attention(cfg.attention_temperature),
            name="MultiHeadDotProductAttention_1")
        mlp = MlpBlock(self.mlp_dim, cfg.activation, cfg.use_glu, name="MlpBlock_3")

        def drop(t: jax.Array) -> jax.Array:
            return Dropout()(t, dropout_rate, deterministic=not train)

        if cfg.post_layer_norm:
            x = ln(name="LayerNorm_0")(x + drop(attn(x)))
            return ln(name="LayerNorm_2")(x + drop(mlp(x, train, dropout_rate)))
        x = x + drop(attn(ln(name="LayerNorm_0")(x)))
        return x + drop(mlp(ln(name="LayerNorm_2")(x), train, dropout_rate))


class Encoder(nn.Module):
    mlp_dim: int
    cfg: ViTConfig

    @nn.compact
    def __call__(self, x: jax.Array, train: bool, dropout_rate: Any) -> jax.Array:
        for i in range(self.cfg.depth):
            x = Encoder1DBlock(self.mlp_dim, self.cfg, name=f"encoderblock_{i}")(
                x, train, dropout_rate)
        if self.cfg.post_layer_norm:
            return x
        return nn.LayerNorm(epsilon=self.cfg.layer_norm_eps, name="encoder_layernorm")(x)


class MAPHead(nn.Module):
    """Multi-head attention pooling: a learned probe attends over the tokens, then LN-MLP."""

    mlp_dim: int
    cfg: ViTConfig

    @nn.compact
    def __call__(self, x: jax.Array, train: bool, dropout_rate: Any) -> jax.Array:
        n, _, width = x.shape
        probe = self.param("probe", nn.initializers.xavier_uniform(), (1, 1, width), x.dtype)
        probe = jnp.tile(probe, [n, 1, 1])
        x = nn.MultiHeadDotProductAttention(
            num_heads=self.cfg.num_heads, kernel_init=nn.initializers.xavier_uniform(),
            deterministic=True, attention_fn=_attention(self.cfg.attention_temperature))(probe, x)
        y = nn.LayerNorm(epsilon=self.cfg.layer_norm_eps)(x)
        # AlgoPerf's JAX MAP head calls its MLP without dropout in training too (upstream
        # algoperf/workloads/imagenet_vit/imagenet_jax/models.py); kept, as its quirk.
        del train
        x = x + MlpBlock(self.mlp_dim, self.cfg.activation)(y, False, dropout_rate)
        return x[:, 0]


class ViT(nn.Module):
    cfg: ViTConfig

    @nn.compact
    def __call__(self, x: jax.Array, train: bool = True, dropout_rate: Any = 0.0) -> jax.Array:
        cfg = self.cfg
        width, mlp_dim = cfg.sizes()
        x = nn.Conv(width, (cfg.patch_size,) * 2, strides=(cfg.patch_size,) * 2,
                    padding="VALID", name="conv_patch_extract")(x)
        n, h, w, c = x.shape
        x = x.reshape(n, h * w, c) + jnp.asarray(posemb_sincos_2d(h, w, c), x.dtype)
        x = Dropout()(x, dropout_rate, deterministic=not train)
        x = Encoder(mlp_dim, cfg, name="Transformer")(x, train, dropout_rate)
        if cfg.pooling == "map":
            x = MAPHead(mlp_dim, cfg, name="MAPHead_0")(x, train, dropout_rate)
        else:
            x = jnp.mean(x, axis=1)
        if cfg.rep_size:
            x = jnp.tanh(nn.Dense(width, name="pre_logits")(x))
        init = {"kernel_init": nn.initializers.zeros} if cfg.head_zeroinit else {}
        return nn.Dense(cfg.num_classes, name="head", **init)(x)
