"""Greedy decoding for the dev wmt workloads in JAX: the decoding of model_pytorch.py's
``greedy_decode`` over the Flax model's cached single-token decoder.

    from workloads.wmt.greedy_jax import greedy_decode
    ids = greedy_decode(params, config, inputs, eos=2)   # [batch, <= longest source + 10]

Padding (id 0) is never predicted; a row that has produced EOS emits 0 from then on, and
decoding stops once every row has, or after the longest source + 10 tokens (capped at the
model's ``max_len``), exactly as the PyTorch dev workload decodes. One jitted call runs a step.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from workloads.wmt.config import TransformerConfig
from workloads.wmt.model_jax import Transformer, decoder_cache

NEG_INF = -1e10
DECODE_EXTRA_TOKENS = 10  # dev targets are at most 6 tokens longer than their sources


def decode_length(inputs: np.ndarray, max_len: int) -> int:
    """Most tokens greedy decoding produces for a batch: its longest source + 10."""
    longest = int((inputs > 0).sum(axis=1).max()) if inputs.size else 0
    return min(max_len, longest + DECODE_EXTRA_TOKENS)


@functools.partial(jax.jit, static_argnames=("config",))
def _encode(params: Any, inputs: jax.Array, config: TransformerConfig) -> jax.Array:
    return Transformer(config).apply({"params": params}, inputs, method=Transformer.encode)


@functools.partial(jax.jit, static_argnames=("config",))
def _step(params: Any, cache: Any, token: jax.Array, encoded: jax.Array, inputs: jax.Array,
          config: TransformerConfig) -> tuple[Any, jax.Array]:
    """Feed ``token`` [B, 1]; the updated cache and each row's most likely next token."""
    logits, variables = Transformer(config, decode=True).apply(
        {"params": params, "cache": cache}, encoded, inputs, token, mutable=["cache"],
        method=Transformer.decode_logits)
    logits = logits[:, -1].at[:, 0].set(NEG_INF)
    return variables["cache"], jnp.argmax(logits, axis=-1).astype(jnp.int32)


def greedy_decode(params: Any, config: TransformerConfig, inputs: Any, eos: int
                  ) -> np.ndarray:
    """[B, <= decode_length] token ids of each row's greedy translation (0 after EOS)."""
    source = np.asarray(inputs)
    length = decode_length(source, config.max_len)
    rows = jnp.asarray(source, jnp.int32)
    encoded = _encode(params, rows, config)
    cache = decoder_cache(params, config, rows, length)
    token = jnp.zeros((rows.shape[0], 1), jnp.int32)
    finished = np.zeros(rows.shape[0], bool)
    out = []
    for _ in range(length):
        cache, best = _step(params, cache, token, encoded, rows, config)
        best = np.where(finished, 0, np.asarray(best))
        out.append(best)
        finished |= best == eos
        if finished.all():
            break
        token = jnp.asarray(best[:, None])
    return np.stack(out, axis=1) if out else np.zeros((rows.shape[0], 0), np.int64)
