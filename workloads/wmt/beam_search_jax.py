"""Beam search for the official wmt workloads in JAX: the search of beam_search.py (AlgoPerf's
algoperf/workloads/wmt/wmt_jax/decode.py) over the Flax model's cached single-token decoder.

    from workloads.wmt.beam_search_jax import beam_search
    best = beam_search(params, config, inputs)   # [batch, 255] ids of each best translation

4 beams, at most 255 tokens after the start token 0, length penalty ((5 + len) / 6) ** 0.6;
each step keeps the best 2 x 4 extensions, the 4 best without EOS stay live and those with
EOS compete for the 4 finished slots; the search stops once no live beam can beat the
finished ones (see beam_search.py). One jitted function runs a step; the cache rows follow
their beams, and cross-attention reads the encoder output projected once per batch.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from workloads.wmt.config import TransformerConfig
from workloads.wmt.model_jax import Transformer, decoder_cache

NEG = -1.0e7


def length_penalty(alpha: float, length: Any) -> Any:
    return ((5.0 + length) / 6.0) ** alpha


def _gather(seqs: jax.Array, index: jax.Array) -> jax.Array:
    return jnp.take_along_axis(seqs, index[..., None], axis=1)


def advance(beams: dict[str, jax.Array], log_probs: jax.Array, step: jax.Array, eos: int,
            alpha: float) -> tuple[dict[str, jax.Array], jax.Array]:
    """One search step from next-token ``log_probs`` [B, K, V]; also each new live beam's
    parent beam."""
    batch, k, vocab = log_probs.shape
    total = (log_probs + beams["live_logp"][..., None]).reshape(batch, k * vocab)
    top_logp, top_index = jax.lax.top_k(total, 2 * k)
    parent, token = top_index // vocab, top_index % vocab
    candidates = _gather(beams["live_seqs"], parent)
    candidates = jax.lax.dynamic_update_slice(candidates, token[..., None], (0, 0, step + 1))
    finished = token == eos
    alive_logp, pick = jax.lax.top_k(top_logp + finished * NEG, k)
    scores = top_logp / length_penalty(alpha, step + 1) + (~finished) * NEG
    done_scores, keep = jax.lax.top_k(
        jnp.concatenate([beams["done_scores"], scores], axis=1), k)
    new = {"live_seqs": _gather(candidates, pick), "live_logp": alive_logp,
           "done_seqs": _gather(jnp.concatenate([beams["done_seqs"], candidates], 1), keep),
           "done_scores": done_scores,
           "done_flags": jnp.take_along_axis(
               jnp.concatenate([beams["done_flags"], finished], 1), keep, axis=1)}
    return new, jnp.take_along_axis(parent, pick, axis=1)


def terminated(beams: dict[str, jax.Array], alpha: float, max_len: int) -> jax.Array:
    best_live = beams["live_logp"][:, :1] / length_penalty(alpha, max_len)
    worst_done = beams["done_scores"].min(axis=1, keepdims=True)
    worst_done = jnp.where(beams["done_flags"], worst_done, NEG)
    return (worst_done > best_live).all()


@functools.partial(jax.jit, static_argnames=("config", "eos", "alpha"))
def search_step(params: Any, cache: Any, beams: dict[str, jax.Array], step: jax.Array,
                encoded: jax.Array, rows: jax.Array, config: TransformerConfig, eos: int,
                alpha: float) -> tuple[Any, dict[str, jax.Array]]:
    """Feed each live beam's token at ``step``, extend the beams, reorder the cache."""
    batch, k, _ = beams["live_seqs"].shape
    tokens = jax.lax.dynamic_slice_in_dim(beams["live_seqs"], step, 1, axis=2)
    logits, variables = Transformer(config, decode=True).apply(
        {"params": params, "cache": cache}, encoded, rows, tokens.reshape(batch * k, 1),
        mutable=["cache"], method=Transformer.decode_logits)
    log_probs = jax.nn.log_softmax(logits[:, 0].astype(jnp.float32)).reshape(batch, k, -1)
    beams, parents = advance(beams, log_probs, step, eos, alpha)
    order = (jnp.arange(batch)[:, None] * k + parents).reshape(-1)
    cache = jax.tree_util.tree_map(lambda x: x[order] if x.ndim >= 2 else x,
                                   variables["cache"])
    return cache, beams


@functools.partial(jax.jit, static_argnames=("config",))
def _encode(params: Any, rows: jax.Array, config: TransformerConfig) -> jax.Array:
    return Transformer(config).apply({"params": params}, rows, method=Transformer.encode)


def _start(params: Any, config: TransformerConfig, rows: jax.Array, batch: int, k: int,
           max_len: int) -> tuple[jax.Array, Any, dict[str, jax.Array]]:
    encoded = _encode(params, rows, config)
    cache = decoder_cache(params, config, rows, max_len)
    seqs = jnp.zeros((batch, k, max_len), jnp.int32)
    live_logp = jnp.full((batch, k), NEG).at[:, 0].set(0.0)
    beams = {"live_seqs": seqs, "live_logp": live_logp, "done_seqs": seqs,
             "done_scores": jnp.full((batch, k), NEG),
             "done_flags": jnp.zeros((batch, k), bool)}
    return encoded, cache, beams


def beam_search(params: Any, config: TransformerConfig, inputs: Any, beam_size: int = 4,
                alpha: float = 0.6, eos: int = 2, max_len: int = 256) -> np.ndarray:
    """[B, max_len - 1]: the best translation of each row of ``inputs`` (start token dropped)."""
    inputs = jnp.asarray(inputs, jnp.int32)
    batch = inputs.shape[0]
    rows = jnp.repeat(inputs, beam_size, axis=0)
    encoded, cache, beams = _start(params, config, rows, batch, beam_size, max_len)
    step = 0
    while step < max_len - 1 and not bool(terminated(beams, alpha, max_len)):
        cache, beams = search_step(params, cache, beams, jnp.asarray(step), encoded, rows,
                                   config, eos, alpha)
        step += 1
    any_done = beams["done_flags"].any(axis=1)[:, None]
    best = jnp.where(any_done, beams["done_seqs"][:, 0], beams["live_seqs"][:, 0])
    return np.asarray(best[:, 1:])
