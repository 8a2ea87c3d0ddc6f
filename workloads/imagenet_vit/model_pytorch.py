"""The Vision Transformer in PyTorch, built from a :class:`ViTConfig`.

Parameter names follow AlgoPerf's PyTorch ViT (``conv_patch_extract``,
``encoder.net.<i>.self_attention1.query``, ``...mlp3.linear1``, ``encoder.encoder_norm``,
``map.mha.kv_proj``, ``pre_logits``, ``head``). With ``config.OFFICIAL`` the model is ViT-S/16
with 22,122,472 trainable parameters (50,452,456 with GLU, 22,121,704 post-LN, 23,896,552 with
the MAP head).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from sdk.frameworks.init_utils import pytorch_default_init
from workloads.common.vision_torch import activation
from workloads.imagenet_vit.config import ViTConfig


def posemb_sincos_2d(h: int, w: int, width: int, temperature: float = 10_000.0) -> torch.Tensor:
    """Fixed 2-D sin-cos position embedding ``[1, h*w, width]`` (MoCo v3 layout)."""
    if width % 4:
        raise ValueError(f"The ViT width must be a multiple of 4 (got {width}).")
    quarter = width // 4
    omega = 1.0 / temperature ** (torch.arange(quarter) / max(quarter - 1, 1))
    rows, cols = torch.meshgrid(torch.arange(h), torch.arange(w), indexing="ij")
    x = cols.flatten()[:, None] * omega[None, :]
    y = rows.flatten()[:, None] * omega[None, :]
    return torch.cat([x.sin(), x.cos(), y.sin(), y.cos()], dim=1)[None].float()


def _xavier_linear(c_in: int, c_out: int, bias_std: float = 0.0) -> nn.Linear:
    layer = nn.Linear(c_in, c_out)
    nn.init.xavier_uniform_(layer.weight)
    if bias_std:
        nn.init.normal_(layer.bias, std=bias_std)
    else:
        nn.init.zeros_(layer.bias)
    return layer


def _heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    b, n, c = x.shape
    return x.view(b, n, num_heads, c // num_heads).transpose(1, 2)


def _merge(x: torch.Tensor) -> torch.Tensor:
    b, h, n, d = x.shape
    return x.transpose(1, 2).reshape(b, n, h * d)


class MlpBlock(nn.Module):
    """Linear -> act (-> * gate(h) with GLU) -> dropout -> Linear."""

    def __init__(self, width: int, mlp_dim: int, act: str, use_glu: bool) -> None:
        super().__init__()
        self.linear1 = _xavier_linear(width, mlp_dim, bias_std=1e-6)
        self.act_fnc = activation(act)
        self.glu_linear = _xavier_linear(mlp_dim, mlp_dim, bias_std=1e-6) if use_glu else None
        self.linear2 = _xavier_linear(mlp_dim, width, bias_std=1e-6)

    def forward(self, x: torch.Tensor, dropout_rate: float) -> torch.Tensor:
        h = self.act_fnc(self.linear1(x))
        if self.glu_linear is not None:
            h = h * self.glu_linear(h)
        return self.linear2(F.dropout(h, dropout_rate, training=self.training))


class SelfAttention(nn.Module):
    """Multi-head self-attention with separate q, k, v, out projections."""

    def __init__(self, width: int, num_heads: int, temperature: float) -> None:
        super().__init__()
        if width % num_heads:
            raise ValueError(f"width {width} is not divisible by {num_heads} heads.")
        self.num_heads = num_heads
        self.scale = 1.0 / (math.sqrt(width // num_heads) * temperature)
        self.query, self.key = _xavier_linear(width, width), _xavier_linear(width, width)
        self.value, self.out = _xavier_linear(width, width), _xavier_linear(width, width)

    def forward(self, x: torch.Tensor, dropout_rate: float) -> torch.Tensor:
        q, k, v = (_heads(proj(x), self.num_heads) for proj in (self.query, self.key, self.value))
        y = F.scaled_dot_product_attention(q, k, v, scale=self.scale,
                                           dropout_p=dropout_rate if self.training else 0.0)
        return self.out(_merge(y))


class Encoder1DBlock(nn.Module):
    """Attention and MLP sub-blocks with residuals; LN before (pre-LN) or after (post-LN)."""

    def __init__(self, width: int, mlp_dim: int, cfg: ViTConfig) -> None:
        super().__init__()
        self.post_ln = cfg.post_layer_norm
        self.layer_norm0 = nn.LayerNorm(width, eps=cfg.layer_norm_eps)
        self.self_attention1 = SelfAttention(width, cfg.num_heads, cfg.attention_temperature)
        self.layer_norm2 = nn.LayerNorm(width, eps=cfg.layer_norm_eps)
        self.mlp3 = MlpBlock(width, mlp_dim, cfg.activation, cfg.use_glu)

    def forward(self, x: torch.Tensor, dropout_rate: float) -> torch.Tensor:
        def drop(t: torch.Tensor) -> torch.Tensor:
            return F.dropout(t, dropout_rate, training=self.training)

        if self.post_ln:
            x = self.layer_norm0(x + drop(self.self_attention1(x, dropout_rate)))
            return self.layer_norm2(x + drop(self.mlp3(x, dropout_rate)))
        x = x + drop(self.self_attention1(self.layer_norm0(x), dropout_rate))
        return x + drop(self.mlp3(self.layer_norm2(x), dropout_rate))


class Encoder(nn.Module):
    def __init__(self, width: int, mlp_dim: int, cfg: ViTConfig) -> None:
        super().__init__()
        self.net = nn.ModuleList(Encoder1DBlock(width, mlp_dim, cfg) for _ in range(cfg.depth))
        self.encoder_norm = (None if cfg.post_layer_norm
                             else nn.LayerNorm(width, eps=cfg.layer_norm_eps))

    def forward(self, x: torch.Tensor, dropout_rate: float) -> torch.Tensor:
        for block in self.net:
            x = block(x, dropout_rate)
        return x if self.encoder_norm is None else self.encoder_norm(x)


class MultiheadAttentionPool(nn.Module):
    """Cross-attention from one query to the tokens, with a fused key/value projection."""

    def __init__(self, width: int, num_heads: int, temperature: float) -> None:
        super().__init__()
        self.num_heads = num_heads
        self.scale = 1.0 / (math.sqrt(width // num_heads) * temperature)
        self.q_proj = _xavier_linear(width, width, bias_std=1e-6)
        self.kv_proj = _xavier_linear(width, 2 * width, bias_std=1e-6)
        self.out_proj = _xavier_linear(width, width, bias_std=1e-6)

    def forward(self, query: torch.Tensor, tokens: torch.Tensor,
                dropout_rate: float) -> torch.Tensor:
        q = _heads(self.q_proj(query), self.num_heads)
        k, v = (_heads(t, self.num_heads) for t in self.kv_proj(tokens).chunk(2, dim=-1))
        y = F.scaled_dot_product_attention(q, k, v, scale=self.scale,
                                           dropout_p=dropout_rate if self.training else 0.0)
        return self.out_proj(_merge(y))


class MAPHead(nn.Module):
    """Multi-head attention pooling: a learned probe attends over the tokens, then LN-MLP."""

    def __init__(self, width: int, mlp_dim: int, cfg: ViTConfig) -> None:
        super().__init__()
        self.probe = nn.Parameter(torch.empty(1, 1, width))
        nn.init.xavier_uniform_(self.probe)
        self.mha = MultiheadAttentionPool(width, cfg.num_heads, cfg.attention_temperature)
        self.layer_norm = nn.LayerNorm(width, eps=cfg.layer_norm_eps)
        self.mlp = MlpBlock(width, mlp_dim, cfg.activation, use_glu=False)

    def forward(self, x: torch.Tensor, dropout_rate: float) -> torch.Tensor:
        y = self.mha(self.probe.expand(x.shape[0], -1, -1), x, dropout_rate)
        y = y + self.mlp(self.layer_norm(y), dropout_rate)
        return y[:, 0]


class ViT(nn.Module):
    """Patch embedding + sin-cos positions, encoder, GAP or MAP pooling, pre-logits, head."""

    def __init__(self, cfg: ViTConfig) -> None:
        super().__init__()
        if cfg.pooling not in ("gap", "map"):
            raise ValueError(f"pooling must be 'gap' or 'map', not {cfg.pooling!r}.")
        width, mlp_dim = cfg.sizes()
        grid = cfg.image_size // cfg.patch_size
        self.conv_patch_extract = nn.Conv2d(cfg.in_channels, width, cfg.patch_size,
                                            stride=cfg.patch_size)
        pytorch_default_init(self.conv_patch_extract)
        self.register_buffer("posemb", posemb_sincos_2d(grid, grid, width), persistent=False)
        self.encoder = Encoder(width, mlp_dim, cfg)
        self.map = MAPHead(width, mlp_dim, cfg) if cfg.pooling == "map" else None
        self.pre_logits = None
        if cfg.rep_size:
            self.pre_logits = nn.Linear(width, width)
            pytorch_default_init(self.pre_logits)
        self.head = nn.Linear(width, cfg.num_classes)
        if cfg.head_zeroinit:
            nn.init.zeros_(self.head.weight)
            nn.init.zeros_(self.head.bias)
        else:
            pytorch_default_init(self.head)

    def forward(self, x: torch.Tensor, dropout_rate: float = 0.0) -> torch.Tensor:
        x = self.conv_patch_extract(x).flatten(2).transpose(1, 2)  # [B, tokens, width]
        x = F.dropout(x + self.posemb, dropout_rate, training=self.training)
        x = self.encoder(x, dropout_rate)
        x = x.mean(dim=1) if self.map is None else self.map(x, dropout_rate)
        if self.pre_logits is not None:
            x = torch.tanh(self.pre_logits(x))
        return self.head(x)
