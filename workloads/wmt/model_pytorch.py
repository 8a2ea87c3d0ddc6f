"""The wmt encoder-decoder Transformer in PyTorch, built from a ``TransformerConfig``.

With ``config.OFFICIAL`` this is AlgoPerf's model (133,521,408 parameters): a shared
embedding for source, target and output (logits = h E^T / sqrt(d)), fixed sinusoidal
positions, pre-LN layers with bias-free attention (fused QKV for self-attention, Q + fused KV
for cross-attention), ReLU MLPs, dropout after the embedding, on attention probabilities,
inside the MLP and on every residual branch. Linear weights are xavier-uniform (on the fused
matrices, as upstream's PyTorch model), biases N(0, 1e-6), the embedding N(0, 1).

Packed rows are supported through position and segment ids; :func:`greedy_decode` decodes
with cached keys and values.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from workloads.wmt.config import TransformerConfig

NEG_INF = -1e10  # added to masked attention logits, as upstream
ACTIVATIONS = {"relu": F.relu, "gelu": F.gelu, "silu": F.silu, "tanh": torch.tanh}


def sinusoids(max_len: int, d_model: int) -> torch.Tensor:
    """[max_len, d_model]: sin in the first half, cos in the second (upstream's layout)."""
    half = d_model // 2
    position = torch.arange(max_len, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(half, dtype=torch.float32) * (-math.log(10_000.0)
                                                                / max(half - 1, 1)))
    pe = torch.zeros(max_len, d_model)
    pe[:, :half] = torch.sin(position * freq)
    pe[:, half : 2 * half] = torch.cos(position * freq)
    return pe


def shift_right(tokens: torch.Tensor, segments: torch.Tensor | None) -> torch.Tensor:
    """Decoder inputs: targets moved one step right with 0 (BOS) at each segment start."""
    shifted = F.pad(tokens, (1, 0))[:, :-1]
    if segments is not None:
        prev = F.pad(segments, (1, 0))[:, :-1]
        shifted = shifted * (segments == prev).to(shifted.dtype)
    return shifted


def attention_bias(q_tokens: torch.Tensor, k_tokens: torch.Tensor,
                   q_segments: torch.Tensor | None = None,
                   k_segments: torch.Tensor | None = None,
                   causal: bool = False) -> torch.Tensor:
    """[B, 1, Lq, Lk] additive bias: 0 where a query may attend a key, -1e10 elsewhere."""
    allowed = (q_tokens > 0)[:, :, None] & (k_tokens > 0)[:, None, :]
    if q_segments is not None and k_segments is not None:
        allowed = allowed & (q_segments[:, :, None] == k_segments[:, None, :])
    if causal:
        lq, lk = q_tokens.shape[1], k_tokens.shape[1]
        allowed = allowed & torch.ones(lq, lk, dtype=torch.bool,
                                       device=q_tokens.device).tril()[None]
    zero = torch.zeros((), dtype=torch.float32, device=q_tokens.device)
    return torch.where(allowed, zero, NEG_INF)[:, None]


class MultiheadAttention(nn.Module):
    """Bias-free multi-head attention; ``temperature`` multiplies the queries."""

    def __init__(self, config: TransformerConfig, self_attention: bool) -> None:
        super().__init__()
        d = config.d_model
        self.heads = config.num_heads
        self.temperature = config.attention_temperature
        self.attention_dropout = config.attention_dropout
        self.self_attention = self_attention
        if self_attention:
            self.in_proj = nn.Linear(d, 3 * d, bias=False)
        else:
            self.q_proj = nn.Linear(d, d, bias=False)
            self.kv_proj = nn.Linear(d, 2 * d, bias=False)
        self.out_proj = nn.Linear(d, d, bias=False)

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        b, length, d = x.shape
        return x.view(b, length, self.heads, d // self.heads).transpose(1, 2)

    def project_kv(self, memory: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        k, v = self.kv_proj(memory).chunk(2, dim=-1)
        return self._split(k), self._split(v)

    def forward(self, x: torch.Tensor, bias: torch.Tensor, dropout_rate: float,
                memory: torch.Tensor | None = None, cache: dict | None = None,
                cache_key: str = "") -> torch.Tensor:
        """Attend from ``x`` to itself (or to ``memory``).

        With a ``cache`` dict (incremental decoding, one query position at a time)
        self-attention writes this step's keys and values into preallocated buffers at
        ``cache["step"]`` and attends to all positions so far; cross-attention reuses the
        projected memory stored there.
        """
        if self.self_attention:
            q, k, v = (self._split(t) for t in self.in_proj(x).chunk(3, dim=-1))
            if cache is not None:
                step = cache["step"]
                keys, values = cache[cache_key]
                keys[:, :, step : step + 1] = k
                values[:, :, step : step + 1] = v
                k, v = keys[:, :, : step + 1], values[:, :, : step + 1]
        else:
            q = self._split(self.q_proj(x))
            k, v = cache[cache_key] if cache is not None else self.project_kv(memory)
        if self.temperature != 1.0:
            q = q * self.temperature
        if cache is not None:  # a single query: plain matmuls beat the fused kernel
            scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]) + bias
            out = torch.softmax(scores, dim=-1) @ v
        else:
            p = dropout_rate if (self.training and self.attention_dropout) else 0.0
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=bias, dropout_p=p)
        b, _, length, _ = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(b, length, -1))


class Mlp(nn.Module):
    """Linear -> activation (times a gate for GLU) -> dropout -> Linear."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.linear1 = nn.Linear(config.d_model, config.mlp_dim)
        self.linear_glu = nn.Linear(config.d_model, config.mlp_dim) if config.glu else None
        self.linear2 = nn.Linear(config.mlp_dim, config.d_model)
        self.activation = ACTIVATIONS[config.activation]

    def forward(self, x: torch.Tensor, dropout_rate: float) -> torch.Tensor:
        h = self.activation(self.linear1(x))
        if self.linear_glu is not None:
            h = h * self.linear_glu(x)
        return self.linear2(F.dropout(h, dropout_rate, self.training))


def _norm(config: TransformerConfig) -> nn.LayerNorm:
    return nn.LayerNorm(config.d_model, eps=config.norm_eps)


class EncoderLayer(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.self_attn = MultiheadAttention(config, self_attention=True)
        self.mlp = Mlp(config)
        self.norm1, self.norm2 = _norm(config), _norm(config)
        self.pre_ln = config.pre_ln

    def forward(self, x: torch.Tensor, bias: torch.Tensor, rate: float) -> torch.Tensor:
        def drop(t: torch.Tensor) -> torch.Tensor:
            return F.dropout(t, rate, self.training)

        if self.pre_ln:
            x = x + drop(self.self_attn(self.norm1(x), bias, rate))
            return x + drop(self.mlp(self.norm2(x), rate))
        x = self.norm1(x + drop(self.self_attn(x, bias, rate)))
        return self.norm2(x + drop(self.mlp(x, rate)))


class DecoderLayer(nn.Module):
    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.self_attn = MultiheadAttention(config, self_attention=True)
        self.multihead_attn = MultiheadAttention(config, self_attention=False)
        self.mlp = Mlp(config)
        self.norm1, self.norm2, self.norm3 = _norm(config), _norm(config), _norm(config)
        self.pre_ln = config.pre_ln

    def forward(self, x: torch.Tensor, memory: torch.Tensor | None, self_bias: torch.Tensor,
                cross_bias: torch.Tensor, rate: float, cache: dict | None = None
                ) -> torch.Tensor:
        def drop(t: torch.Tensor) -> torch.Tensor:
            return F.dropout(t, rate, self.training)

        def self_block(h: torch.Tensor) -> torch.Tensor:
            return drop(self.self_attn(h, self_bias, rate, cache=cache, cache_key="self"))

        def cross_block(h: torch.Tensor) -> torch.Tensor:
            return drop(self.multihead_attn(h, cross_bias, rate, memory=memory, cache=cache,
                                            cache_key="cross"))

        if self.pre_ln:
            x = x + self_block(self.norm1(x))
            x = x + cross_block(self.norm2(x))
            return x + drop(self.mlp(self.norm3(x), rate))
        x = self.norm1(x + self_block(x))
        x = self.norm2(x + cross_block(x))
        return self.norm3(x + drop(self.mlp(x, rate)))


class Transformer(nn.Module):
    """Encoder-decoder with shared embeddings; ``forward`` returns [B, L, vocab] logits."""

    def __init__(self, config: TransformerConfig) -> None:
        super().__init__()
        self.config = config
        self.shared_embedding = nn.Embedding(config.vocab_size, config.d_model)
        self.register_buffer("pe", sinusoids(config.max_len, config.d_model), persistent=False)
        self.encoder_layers = nn.ModuleList(EncoderLayer(config)
                                            for _ in range(config.num_encoder_layers))
        self.decoder_layers = nn.ModuleList(DecoderLayer(config)
                                            for _ in range(config.num_decoder_layers))
        self.encoder_norm = _norm(config) if config.pre_ln else None
        self.decoder_norm = _norm(config) if config.pre_ln else None
        for module in self.modules():
            if isinstance(module, nn.Linear):
                bound = config.init_gain * math.sqrt(6.0 / sum(module.weight.shape))
                nn.init.uniform_(module.weight, -bound, bound)
                if module.bias is not None:
                    nn.init.normal_(module.bias, std=1e-6)
        nn.init.normal_(self.shared_embedding.weight, std=config.embedding_init_std)

    def _embed(self, tokens: torch.Tensor, positions: torch.Tensor | None,
               rate: float) -> torch.Tensor:
        pe = self.pe[: tokens.shape[1]][None] if positions is None else self.pe[positions]
        return F.dropout(self.shared_embedding(tokens) + pe, rate, self.training)

    def encode(self, inputs: torch.Tensor, positions: torch.Tensor | None = None,
               segments: torch.Tensor | None = None, rate: float = 0.0) -> torch.Tensor:
        bias = attention_bias(inputs, inputs, segments, segments)
        x = self._embed(inputs, positions, rate)
        for layer in self.encoder_layers:
            x = layer(x, bias, rate)
        return self.encoder_norm(x) if self.encoder_norm is not None else x

    def _logits(self, x: torch.Tensor) -> torch.Tensor:
        if self.decoder_norm is not None:
            x = self.decoder_norm(x)
        return x @ self.shared_embedding.weight.T / math.sqrt(self.config.d_model)

    def decode(self, memory: torch.Tensor, inputs: torch.Tensor, targets: torch.Tensor,
               positions: torch.Tensor | None = None, in_segments: torch.Tensor | None = None,
               out_segments: torch.Tensor | None = None, rate: float = 0.0) -> torch.Tensor:
        decoder_in = shift_right(targets, out_segments if self.config.shift_per_segment
                                 else None)
        # the padding mask comes from the targets; the shifted-in BOS (0) must stay visible
        self_bias = attention_bias(targets, targets, out_segments, out_segments, causal=True)
        cross_bias = attention_bias(targets, inputs, out_segments, in_segments)
        x = self._embed(decoder_in, positions, rate)
        for layer in self.decoder_layers:
            x = layer(x, memory, self_bias, cross_bias, rate)
        return self._logits(x)

    def forward(self, batch: dict[str, torch.Tensor], dropout_rate: float) -> torch.Tensor:
        inputs, targets = batch["inputs"], batch["targets"]
        memory = self.encode(inputs, batch.get("inputs_position"),
                             batch.get("inputs_segmentation"), dropout_rate)
        return self.decode(memory, inputs, targets, batch.get("targets_position"),
                           batch.get("inputs_segmentation"),
                           batch.get("targets_segmentation"), dropout_rate)


DECODE_EXTRA_TOKENS = 10  # dev targets are at most 6 tokens longer than their sources


def decode_length(inputs: torch.Tensor, max_len: int) -> int:
    """Most tokens greedy decoding produces for a batch: its longest source + 10."""
    longest = int((inputs > 0).sum(dim=1).max()) if inputs.numel() else 0
    return min(max_len, longest + DECODE_EXTRA_TOKENS)


@torch.no_grad()
def greedy_decode(model: Transformer, inputs: torch.Tensor, max_len: int, eos: int
                  ) -> torch.Tensor:
    """Greedy decoding with cached keys/values: [B, <= max_len] ids (0 after EOS).

    Padding (id 0) is never predicted. Decoding stops when every row has produced EOS, or after :func:`decode_length` tokens
    (upstream always allows 256; the cap only bites while a model cannot yet end a
    sentence, and keeps the first evaluations cheap).
    """
    model.eval()
    memory = model.encode(inputs)
    batch, length = inputs.shape[0], decode_length(inputs, min(max_len, model.config.max_len))
    heads = model.config.num_heads
    head_dim = model.config.d_model // heads
    caches: list[dict[str, Any]] = []
    for layer in model.decoder_layers:
        buffers = tuple(memory.new_zeros(batch, heads, length, head_dim) for _ in range(2))
        cross = tuple(t.contiguous() for t in layer.multihead_attn.project_kv(memory))
        caches.append({"cross": cross, "self": buffers})
    cross_bias = (torch.where(inputs > 0, 0.0, NEG_INF)[:, None, None, :]).to(memory.dtype)
    token = torch.zeros(batch, 1, dtype=torch.long, device=inputs.device)
    finished = torch.zeros(batch, dtype=torch.bool, device=inputs.device)
    no_bias = memory.new_zeros(())
    out = []
    for step in range(length):
        x = model.shared_embedding(token) + model.pe[step][None, None]
        for layer, cache in zip(model.decoder_layers, caches, strict=True):
            cache["step"] = step
            x = layer(x, None, no_bias, cross_bias, 0.0, cache=cache)
        logits = model._logits(x)[:, -1]
        logits[:, 0] = NEG_INF  # never predict padding: decoding then matches teacher forcing
        token = logits.argmax(-1, keepdim=True)
        token = torch.where(finished[:, None], torch.zeros_like(token), token)
        out.append(token)
        finished |= token[:, 0] == eos
        if bool(finished.all()):
            break
    return torch.cat(out, dim=1)


def count_parameters(config: TransformerConfig) -> int:
    """Trainable parameters of the model for ``config`` (built on the meta device)."""
    with torch.device("meta"):
        model = Transformer(config)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
