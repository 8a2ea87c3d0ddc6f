"""Beam search for the official wmt workloads in PyTorch: how AlgoPerf translates for BLEU.

    from workloads.wmt.beam_search import beam_search
    best = beam_search(model, inputs)   # [batch, 255] token ids of each best translation

The search of AlgoPerf's algoperf/workloads/wmt/wmt_pytorch/decode.py (a port of Flax's WMT
example): 4 beams, sequences of at most 256 slots of which the first is the start token 0.
Each step extends every live beam by every token and keeps the best 2 x 4 candidates; of
those, the 4 best that did not just emit EOS stay live, and the ones that did compete for the
4 finished slots with score log p / ((5 + length) / 6) ** 0.6. The search stops at 255 tokens
or once every sentence has 4 finished beams all better than its best live beam could still
become; a sentence with no finished beam falls back to its best live one. Keys and values of
the decoder's self-attention are cached and follow their beams.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from workloads.wmt.model_pytorch import NEG_INF, Transformer

NEG = -1.0e7  # the score of an empty or excluded slot (upstream's NEG_INF)


def length_penalty(alpha: float, length: int) -> float:
    return ((5.0 + length) / 6.0) ** alpha


@dataclass
class Beams:
    """Per sentence: live beams (sorted best first) and the finished ones kept so far."""

    live_seqs: torch.Tensor  # [B, K, L]
    live_logp: torch.Tensor  # [B, K]
    done_seqs: torch.Tensor  # [B, K, L]
    done_scores: torch.Tensor  # [B, K]
    done_flags: torch.Tensor  # [B, K]

    @classmethod
    def start(cls, batch: int, beams: int, length: int, device: torch.device) -> Beams:
        live_logp = torch.full((batch, beams), NEG, device=device)
        live_logp[:, 0] = 0.0
        seqs = torch.zeros(batch, beams, length, dtype=torch.long, device=device)
        return cls(seqs, live_logp, seqs.clone(), torch.full_like(live_logp, NEG),
                   torch.zeros(batch, beams, dtype=torch.bool, device=device))


def _gather(seqs: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """seqs[b, index[b, j]] for every b, j."""
    return seqs.gather(1, index[..., None].expand(-1, -1, seqs.shape[-1]))


def advance(beams: Beams, log_probs: torch.Tensor, step: int, eos: int,
            alpha: float) -> tuple[Beams, torch.Tensor]:
    """One search step from next-token ``log_probs`` [B, K, V] at position ``step``.

    Returns the new beams and, per new live beam, the index of the beam it extends.
    """
    batch, k, vocab = log_probs.shape
    total = (log_probs + beams.live_logp[..., None]).view(batch, k * vocab)
    top_logp, top_index = total.topk(2 * k)
    parent, token = top_index // vocab, top_index % vocab
    candidates = _gather(beams.live_seqs, parent)
    candidates[:, :, step + 1] = token
    finished = token == eos
    alive_logp, pick = (top_logp + finished * NEG).topk(k)
    scores = top_logp / length_penalty(alpha, step + 1) + (~finished) * NEG
    all_scores = torch.cat([beams.done_scores, scores], dim=1)
    done_scores, keep = all_scores.topk(k)
    new = Beams(
        live_seqs=_gather(candidates, pick), live_logp=alive_logp,
        done_seqs=_gather(torch.cat([beams.done_seqs, candidates], dim=1), keep),
        done_scores=done_scores,
        done_flags=torch.cat([beams.done_flags, finished], dim=1).gather(1, keep))
    return new, parent.gather(1, pick)


def terminated(beams: Beams, alpha: float, max_len: int) -> bool:
    """Whether no live beam can still beat the worst finished one, in every sentence."""
    best_live = beams.live_logp[:, :1] / length_penalty(alpha, max_len)
    worst_done = beams.done_scores.min(dim=1, keepdim=True).values
    worst_done = torch.where(beams.done_flags, worst_done, NEG)
    return bool((worst_done > best_live).all())


def _start_caches(model: Transformer, memory: torch.Tensor, length: int) -> list[dict[str, Any]]:
    rows, heads = memory.shape[0], model.config.num_heads
    head_dim = model.config.d_model // heads
    caches = []
    for layer in model.decoder_layers:
        buffers = tuple(memory.new_zeros(rows, heads, length, head_dim) for _ in range(2))
        cross = tuple(t.contiguous() for t in layer.multihead_attn.project_kv(memory))
        caches.append({"self": buffers, "cross": cross})
    return caches


def _step_logits(model: Transformer, tokens: torch.Tensor, step: int,
                 caches: list[dict[str, Any]], cross_bias: torch.Tensor) -> torch.Tensor:
    """[N, vocab] next-token logits of the decoder fed ``tokens`` [N] at position ``step``."""
    x = model.shared_embedding(tokens[:, None]) + model.pe[step][None, None]
    no_bias = x.new_zeros(())
    for layer, cache in zip(model.decoder_layers, caches, strict=True):
        cache["step"] = step
        x = layer(x, None, no_bias, cross_bias, 0.0, cache=cache)
    return model._logits(x)[:, -1]


def _reorder(caches: list[dict[str, Any]], rows: torch.Tensor, step: int) -> None:
    """Self-attention keys/values of positions <= ``step`` follow their beams to ``rows``."""
    for cache in caches:
        for buffer in cache["self"]:
            buffer[:, :, : step + 1] = buffer[rows, :, : step + 1]


@torch.no_grad()
def beam_search(model: Transformer, inputs: torch.Tensor, beam_size: int = 4,
                alpha: float = 0.6, eos: int = 2, max_len: int = 256) -> torch.Tensor:
    """[B, max_len - 1]: the best translation of each row of ``inputs`` (start token dropped)."""
    model.eval()
    batch, device = inputs.shape[0], inputs.device
    rows = inputs.repeat_interleave(beam_size, dim=0)
    memory = model.encode(rows)
    caches = _start_caches(model, memory, max_len)
    cross_bias = torch.where(rows > 0, 0.0, NEG_INF)[:, None, None, :].to(memory.dtype)
    beams = Beams.start(batch, beam_size, max_len, device)
    offsets = torch.arange(batch, device=device)[:, None] * beam_size
    step = 0
    while step < max_len - 1 and not terminated(beams, alpha, max_len):
        logits = _step_logits(model, beams.live_seqs[:, :, step].reshape(-1), step, caches,
                              cross_bias)
        log_probs = F.log_softmax(logits.float(), dim=-1).view(batch, beam_size, -1)
        beams, parents = advance(beams, log_probs, step, eos, alpha)
        _reorder(caches, (offsets + parents).reshape(-1), step)
        step += 1
    any_done = beams.done_flags.any(dim=1)[:, None]
    best = torch.where(any_done, beams.done_seqs[:, 0], beams.live_seqs[:, 0])
    return best[:, 1:]
