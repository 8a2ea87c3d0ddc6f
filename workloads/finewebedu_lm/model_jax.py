"""The finewebedu_lm decoder-only Transformer in JAX/Flax linen (one module for every config).

The same model as ``model_pytorch`` (AlgoPerf algoperf/workloads/finewebedu_lm/
finewebedu_lm_jax/models.py): pre-LN blocks of causal self-attention with rotary positions
and QK-norm, a SiLU-GLU feed-forward block, RMSNorm, the token embedding reused as the
output projection. Parameters are float32; the forward pass runs in ``compute_dtype``.

    >>> import jax, jax.numpy as jnp
    >>> from workloads.finewebedu_lm.config import DEV
    >>> variables = DecoderLM(DEV).init(jax.random.PRNGKey(0), jnp.zeros((1, 16), jnp.int32))
"""

from __future__ import annotations

import math

import flax.linen as nn
import jax
import jax.numpy as jnp

from workloads.finewebedu_lm.config import LmConfig

ACTIVATIONS = {"silu": nn.silu, "gelu": nn.gelu, "relu": nn.relu, "tanh": jnp.tanh}


def rope_tables(head_dim: int, length: int, theta: float) -> jax.Array:
    """``(length, head_dim / 2, 2)`` cosines and sines of each position's rotation angles."""
    inv_freq = 1.0 / theta ** (jnp.arange(0, head_dim, 2, dtype=jnp.float32) / head_dim)
    angles = jnp.outer(jnp.arange(length, dtype=jnp.float32), inv_freq)
    return jnp.stack([jnp.cos(angles), jnp.sin(angles)], axis=-1)


def apply_rope(x: jax.Array, tables: jax.Array) -> jax.Array:
    """Rotate each adjacent pair of ``x``'s last axis (``(B, L, H, Dh)``) by its angle."""
    pairs = x.astype(jnp.float32).reshape(*x.shape[:-1], -1, 2)
    cos, sin = tables[: x.shape[1], None, :, 0], tables[: x.shape[1], None, :, 1]
    real, imag = pairs[..., 0], pairs[..., 1]
    rotated = jnp.stack([real * cos - imag * sin, imag * cos + real * sin], axis=-1)
    return rotated.reshape(x.shape).astype(x.dtype)


def _dense(cfg: LmConfig, features: int, name: str, std: float) -> nn.Dense:
    return nn.Dense(features, use_bias=False, name=name, dtype=cfg.compute_dtype,
                    kernel_init=nn.initializers.normal(std))


def _residual_std(cfg: LmConfig) -> float:
    return cfg.init_std / math.sqrt(2 * cfg.num_layers)


def _norm(cfg: LmConfig, name: str) -> nn.RMSNorm:
    return nn.RMSNorm(epsilon=cfg.norm_eps, dtype=cfg.compute_dtype, name=name)


class Attention(nn.Module):
    """Causal multi-head self-attention with rotary positions and optional QK-norm."""

    cfg: LmConfig

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        cfg = self.cfg
        batch, length, width = x.shape
        heads = (batch, length, cfg.num_heads, cfg.head_dim)
        q, k, v = (_dense(cfg, width, n, cfg.init_std)(x).reshape(heads)
                   for n in ("query", "key", "value"))
        tables = rope_tables(cfg.head_dim, cfg.seq_len, cfg.rope_theta)
        q, k = apply_rope(q, tables), apply_rope(k, tables)
        scale = None
        if cfg.qk_norm:
            q = q / (jnp.linalg.norm(q, axis=-1, keepdims=True) + cfg.qk_norm_eps)
            k = k / (jnp.linalg.norm(k, axis=-1, keepdims=True) + cfg.qk_norm_eps)
            start = math.log2(cfg.seq_len ** 2 - cfg.seq_len)
            attn_scale = self.param("attn_scale", nn.initializers.constant(start), ())
            q, scale = q * attn_scale.astype(q.dtype), 1.0
        out = jax.nn.dot_product_attention(q, k, v, is_causal=True, scale=scale)
        return _dense(cfg, width, "out", _residual_std(cfg))(out.reshape(x.shape))


class FeedForward(nn.Module):
    """``W2 (act(Wa x) * Wb x)`` with GLU (``Wa``, ``Wb`` fused in ``fc1``), else ``W2 act(W1 x)``."""

    cfg: LmConfig

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        cfg = self.cfg
        act = ACTIVATIONS[cfg.activation]
        h = _dense(cfg, (2 if cfg.glu else 1) * cfg.hidden_dim, "fc1", cfg.init_std)(x)
        if cfg.glu:
            gate, value = jnp.split(h, 2, axis=-1)
            h = act(gate) * value
        else:
            h = act(h)
        return _dense(cfg, cfg.model_dim, "fc2", _residual_std(cfg))(h)


class Block(nn.Module):
    """One layer: attention then feed-forward, each a residual branch (pre- or post-LN)."""

    cfg: LmConfig

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        cfg = self.cfg
        attn_norm, mlp_norm = _norm(cfg, "ln_attn"), _norm(cfg, "ln_mlp")
        attn, mlp = Attention(cfg, name="attention"), FeedForward(cfg, name="mlp")
        if cfg.pre_ln:
            x = x + attn(attn_norm(x))
            return x + mlp(mlp_norm(x))
        x = attn_norm(x + attn(x))
        return mlp_norm(x + mlp(x))


class DecoderLM(nn.Module):
    """Token ids ``(B, L)`` -> next-token logits ``(B, L, vocab)``."""

    cfg: LmConfig

    @nn.compact
    def __call__(self, tokens: jax.Array) -> jax.Array:
        cfg = self.cfg
        embed = nn.Embed(cfg.vocab_size, cfg.model_dim, dtype=cfg.compute_dtype, name="embed",
                         embedding_init=nn.initializers.normal(cfg.init_std))
        x = embed(tokens)
        for i in range(cfg.num_layers):
            x = Block(cfg, name=f"layer_{i}")(x)
        if cfg.pre_ln:
            x = _norm(cfg, "ln_out")(x)
        if cfg.tie_embeddings:
            return embed.attend(x)
        return _dense(cfg, cfg.vocab_size, "lm_head", cfg.init_std)(x)
