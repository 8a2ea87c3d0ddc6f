"""DLRM-small in Flax, built from the same :class:`~workloads.criteo1tb.config.DlrmConfig`.

Parameter names follow AlgoPerf's JAX model: one ``embedding_table`` and ``Dense_0`` ...
``Dense_<n-1>`` (bottom layers first, the logit layer last).
"""

from __future__ import annotations

import math
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from workloads.criteo1tb.config import DlrmConfig

_ACTIVATIONS = {
    "relu": jax.nn.relu,
    "gelu": lambda x: jax.nn.gelu(x, approximate=True),
    "silu": jax.nn.silu,
    "tanh": jnp.tanh,
    "leaky_relu": lambda x: jax.nn.leaky_relu(x, 0.2),
}


def _normal(std: float) -> Any:
    return lambda key, shape, dtype=jnp.float32: std * jax.random.normal(key, shape, dtype)


def _uniform(limit: float) -> Any:
    return lambda key, shape, dtype=jnp.float32: jax.random.uniform(key, shape, dtype, -limit,
                                                                    limit)


def dropout(x: jax.Array, rate: Any, rng: jax.Array | None) -> jax.Array:
    """Inverted dropout whose rate may be a traced value (0 keeps everything)."""
    if rng is None:
        return x
    keep = jax.random.bernoulli(rng, 1.0 - rate, x.shape)
    return jnp.where(keep, x / jnp.maximum(1.0 - rate, 1e-12), 0.0)


class DlrmSmall(nn.Module):
    """Input ``[B, 39]`` float32; output ``[B, 1]`` logits. ``dropout_rng=None`` = no dropout."""

    cfg: DlrmConfig

    @nn.compact
    def __call__(self, x: jax.Array, dropout_rate: Any = 0.0,
                 dropout_rng: jax.Array | None = None) -> jax.Array:
        cfg = self.cfg
        act = _ACTIVATIONS[cfg.activation]
        s = cfg.mlp_init_scale
        dense = x[:, :cfg.num_dense_features]
        sparse = x[:, cfg.num_dense_features:]
        layer = 0

        def linear(h: jax.Array, width: int, top: bool) -> jax.Array:
            nonlocal layer
            fan_in = h.shape[-1]
            kernel = (_normal(math.sqrt(2.0 / (fan_in + width)) * s) if top
                      else _uniform(math.sqrt(6.0 / (fan_in + width)) * s))
            out = nn.Dense(width, kernel_init=kernel,
                           bias_init=_normal(math.sqrt(1.0 / width) * s),
                           name=f"Dense_{layer}")(h)
            layer += 1
            return out

        h = dense
        for width in cfg.mlp_bottom_dims:
            y = act(linear(h, width, top=False))
            if cfg.use_layer_norm:
                y = nn.LayerNorm(epsilon=cfg.layer_norm_eps)(y)
            h = h + y if cfg.use_resnet and h.shape[-1] == width else y
        scale = cfg.embedding_init_scale
        table = self.param("embedding_table",
                           lambda key, shape: scale * jax.random.uniform(key, shape),
                           (cfg.vocab_size, cfg.embed_dim))
        ids = jnp.mod(sparse.astype(jnp.int32), cfg.vocab_size)
        emb = jnp.take(table, ids, axis=0)  # [B, 26, D]
        if cfg.use_layer_norm and not cfg.use_resnet:
            emb = nn.LayerNorm(epsilon=cfg.layer_norm_eps)(emb)
        if cfg.use_resnet:
            z = jnp.concatenate([h, emb.reshape(emb.shape[0], -1)], axis=1)
        else:
            stacked = jnp.concatenate([h[:, None, :], emb], axis=1)
            gram = jnp.einsum("bid,bjd->bij", stacked, stacked)
            rows, cols = jnp.triu_indices(cfg.num_sparse_features + 1)
            z = jnp.concatenate([h, gram[:, rows, cols]], axis=1)
        n_top = len(cfg.mlp_top_dims)
        for i, width in enumerate(cfg.mlp_top_dims):
            if i == n_top - 1:
                return linear(z, width, top=True)
            y = act(linear(z, width, top=True))
            if cfg.use_layer_norm:
                y = nn.LayerNorm(epsilon=cfg.layer_norm_eps)(y)
            if i == n_top - 2:
                y = dropout(y, dropout_rate, dropout_rng)
            z = z + y if cfg.use_resnet and z.shape[-1] == width else y
        return z


def output_param_key(cfg: DlrmConfig) -> str:
    """The top-level parameter key of the logit layer."""
    return f"Dense_{len(cfg.mlp_bottom_dims) + len(cfg.mlp_top_dims) - 1}"
