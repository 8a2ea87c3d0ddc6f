"""The finewebedu_lm decoder-only Transformer in PyTorch (one module for every config).

AlgoPerf's model (AlgoPerf algoperf/workloads/finewebedu_lm/finewebedu_lm_pytorch/models.py):
pre-LN blocks of causal self-attention with rotary positions (theta 500,000) and QK-norm
with a learned query scale, and a SiLU-GLU feed-forward block; RMSNorm; the output
projection is the transposed token embedding. Weights start as N(0, 0.02), the two
projections that end a residual branch as N(0, 0.02 / sqrt(2 * layers)).

    >>> import torch
    >>> from workloads.finewebedu_lm.config import DEV
    >>> DecoderLM(DEV)(torch.zeros(2, 16, dtype=torch.long)).shape
    torch.Size([2, 16, 1024])
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from workloads.finewebedu_lm.config import LmConfig

ACTIVATIONS = {"silu": F.silu, "gelu": F.gelu, "relu": F.relu, "tanh": torch.tanh}


def rope_tables(head_dim: int, length: int, theta: float) -> torch.Tensor:
    """``(length, head_dim / 2, 2)`` cosines and sines of each position's rotation angles."""
    inv_freq = 1.0 / theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
    angles = torch.outer(torch.arange(length, dtype=torch.float32), inv_freq)
    return torch.stack([angles.cos(), angles.sin()], dim=-1)


def apply_rope(x: torch.Tensor, tables: torch.Tensor) -> torch.Tensor:
    """Rotate each adjacent pair of ``x``'s last axis (``(B, L, H, Dh)``) by its angle."""
    pairs = x.float().unflatten(-1, (-1, 2))
    cos, sin = tables[: x.shape[1], None, :, 0], tables[: x.shape[1], None, :, 1]
    real, imag = pairs[..., 0], pairs[..., 1]
    rotated = torch.stack([real * cos - imag * sin, imag * cos + real * sin], dim=-1)
    return rotated.flatten(-2).type_as(x)


class Attention(nn.Module):
    """Causal multi-head self-attention with rotary positions and optional QK-norm."""

    def __init__(self, cfg: LmConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.in_proj = nn.Linear(cfg.model_dim, 3 * cfg.model_dim, bias=False)
        self.out = nn.Linear(cfg.model_dim, cfg.model_dim, bias=False)
        if cfg.qk_norm:
            self.attn_scale = nn.Parameter(torch.tensor(math.log2(cfg.seq_len ** 2
                                                                  - cfg.seq_len)))

    def forward(self, x: torch.Tensor, tables: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        batch, length, width = x.shape
        q, k, v = (t.view(batch, length, cfg.num_heads, cfg.head_dim)
                   for t in self.in_proj(x).split(width, dim=-1))
        q, k = apply_rope(q, tables), apply_rope(k, tables)
        scale = None
        if cfg.qk_norm:
            q = q / (q.norm(dim=-1, keepdim=True) + cfg.qk_norm_eps)
            k = k / (k.norm(dim=-1, keepdim=True) + cfg.qk_norm_eps)
            q, scale = q * self.attn_scale.to(q.dtype), 1.0
        out = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2),
                                             v.transpose(1, 2), is_causal=True, scale=scale)
        return self.out(out.transpose(1, 2).reshape(batch, length, width))


class FeedForward(nn.Module):
    """``W2 (act(Wa x) * Wb x)`` with GLU (``Wa``, ``Wb`` fused in ``fc1``), else ``W2 act(W1 x)``."""

    def __init__(self, cfg: LmConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.fc1 = nn.Linear(cfg.model_dim, (2 if cfg.glu else 1) * cfg.hidden_dim, bias=False)
        self.fc2 = nn.Linear(cfg.hidden_dim, cfg.model_dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        act = ACTIVATIONS[self.cfg.activation]
        h = self.fc1(x)
        if self.cfg.glu:
            gate, value = h.chunk(2, dim=-1)
            h = act(gate) * value
        else:
            h = act(h)
        return self.fc2(h)


class Block(nn.Module):
    """One layer: attention then feed-forward, each a residual branch (pre- or post-LN)."""

    def __init__(self, cfg: LmConfig) -> None:
        super().__init__()
        self.pre_ln = cfg.pre_ln
        self.ln_attn = nn.RMSNorm(cfg.model_dim, eps=cfg.norm_eps)
        self.attention = Attention(cfg)
        self.ln_mlp = nn.RMSNorm(cfg.model_dim, eps=cfg.norm_eps)
        self.mlp = FeedForward(cfg)

    def forward(self, x: torch.Tensor, tables: torch.Tensor) -> torch.Tensor:
        if self.pre_ln:
            x = x + self.attention(self.ln_attn(x), tables)
            return x + self.mlp(self.ln_mlp(x))
        x = self.ln_attn(x + self.attention(x, tables))
        return self.ln_mlp(x + self.mlp(x))


class DecoderLM(nn.Module):
    """Token ids ``(B, L)`` -> next-token logits ``(B, L, vocab)``."""

    def __init__(self, cfg: LmConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.model_dim)
        self.layers = nn.ModuleList([Block(cfg) for _ in range(cfg.num_layers)])
        self.ln_out = nn.RMSNorm(cfg.model_dim, eps=cfg.norm_eps) if cfg.pre_ln else None
        self.lm_head = (None if cfg.tie_embeddings
                        else nn.Linear(cfg.model_dim, cfg.vocab_size, bias=False))
        self.register_buffer("rope", rope_tables(cfg.head_dim, cfg.seq_len, cfg.rope_theta),
                             persistent=False)
        self._init_weights()

    def _init_weights(self) -> None:
        residual_std = self.cfg.init_std / math.sqrt(2 * self.cfg.num_layers)
        for name, p in self.named_parameters():
            if name.endswith(("fc2.weight", "attention.out.weight")):
                nn.init.normal_(p, std=residual_std)
            elif p.dim() == 2:
                nn.init.normal_(p, std=self.cfg.init_std)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens)
        tables = self.rope.to(x.device)
        for layer in self.layers:
            x = layer(x, tables)
        if self.ln_out is not None:
            x = self.ln_out(x)
        if self.lm_head is None:
            return x @ self.embed.weight.to(x.dtype).t()
        return self.lm_head(x)
