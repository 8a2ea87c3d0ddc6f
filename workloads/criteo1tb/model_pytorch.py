"""DLRM-small in PyTorch, built from a :class:`~workloads.criteo1tb.config.DlrmConfig`.

The official config gives AlgoPerf's model exactly (539,267,457 parameters); build it on the
``meta`` device to count parameters without allocating the 2 GiB table:

    >>> from workloads.criteo1tb import config
    >>> model = DlrmSmall(config.OFFICIAL, device="meta")  # doctest: +SKIP
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from workloads.criteo1tb.config import DlrmConfig

_ACTIVATIONS = {
    "relu": F.relu,
    "gelu": lambda x: F.gelu(x, approximate="tanh"),
    "silu": F.silu,
    "tanh": torch.tanh,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.2),
}


class MlpLayer(nn.Module):
    """Linear -> activation [-> LayerNorm] [-> dropout], with an optional residual add.

    The last layer of the top MLP is a bare Linear (``activation=None``).
    """

    def __init__(self, fan_in: int, fan_out: int, activation: str | None, layer_norm: bool,
                 eps: float, residual: bool, dropout_site: bool,
                 device: torch.device | str | None) -> None:
        super().__init__()
        self.linear = nn.Linear(fan_in, fan_out, device=device)
        self.norm = nn.LayerNorm(fan_out, eps=eps, device=device) if layer_norm else None
        self.act = _ACTIVATIONS[activation] if activation else None
        self.residual = residual
        self.dropout_site = dropout_site

    def forward(self, x: torch.Tensor, dropout_rate: float) -> torch.Tensor:
        y = self.linear(x)
        if self.act is not None:
            y = self.act(y)
        if self.norm is not None:
            y = self.norm(y)
        if self.dropout_site:
            y = F.dropout(y, dropout_rate, training=self.training)
        return x + y if self.residual else y


def _mlp(fan_in: int, dims: tuple[int, ...], cfg: DlrmConfig, is_top: bool,
         device: torch.device | str | None) -> nn.ModuleList:
    layers = nn.ModuleList()
    for i, fan_out in enumerate(dims):
        last = is_top and i == len(dims) - 1
        layers.append(MlpLayer(
            fan_in, fan_out,
            activation=None if last else cfg.activation,
            layer_norm=cfg.use_layer_norm and not last,
            eps=cfg.layer_norm_eps,
            residual=cfg.use_resnet and fan_in == fan_out and not last,
            dropout_site=is_top and i == len(dims) - 2,
            device=device,
        ))
        fan_in = fan_out
    return layers


class DlrmSmall(nn.Module):
    """DLRM-small (or, with ``use_resnet``, AlgoPerf's DLRMResNet) from a config.

    Input: ``[B, 13 + 26]`` float32, the dense features followed by the hashed categorical ids
    (as floats, as AlgoPerf's pipeline delivers them). Output: ``[B, 1]`` click logits.
    """

    def __init__(self, cfg: DlrmConfig, device: torch.device | str | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        rows = cfg.vocab_size // cfg.num_embedding_chunks
        self.chunks = nn.ParameterList(
            nn.Parameter(torch.empty(rows, cfg.embed_dim, device=device))
            for _ in range(cfg.num_embedding_chunks)
        )
        self.bot_mlp = _mlp(cfg.num_dense_features, cfg.mlp_bottom_dims, cfg, False, device)
        self.embed_ln = (nn.LayerNorm(cfg.embed_dim, eps=cfg.layer_norm_eps, device=device)
                         if cfg.use_layer_norm and not cfg.use_resnet else None)
        self.top_mlp = _mlp(cfg.top_input_dim, cfg.mlp_top_dims, cfg, True, device)
        triu = torch.triu_indices(cfg.num_sparse_features + 1, cfg.num_sparse_features + 1)
        self.register_buffer("triu", triu, persistent=False)
        if device != "meta":
            self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """AlgoPerf's init: table U[0,1)*scale; bottom Glorot-uniform, top Glorot-normal
        weights; biases N(0, 1/fan_out); LayerNorms (1, 0). ``mlp_init_scale`` multiplies
        every Linear's standard deviation (1.0 = official)."""
        scale = self.cfg.embedding_init_scale
        for chunk in self.chunks:
            chunk.uniform_(0.0, 1.0).mul_(scale)
        s = self.cfg.mlp_init_scale
        for layer in self.bot_mlp:
            lin = layer.linear
            limit = math.sqrt(6.0 / (lin.in_features + lin.out_features))
            lin.weight.uniform_(-limit * s, limit * s)
            lin.bias.normal_(0.0, math.sqrt(1.0 / lin.out_features) * s)
        for layer in self.top_mlp:
            lin = layer.linear
            lin.weight.normal_(0.0, math.sqrt(2.0 / (lin.in_features + lin.out_features)) * s)
            lin.bias.normal_(0.0, math.sqrt(1.0 / lin.out_features) * s)

    def forward(self, x: torch.Tensor, dropout_rate: float = 0.0) -> torch.Tensor:
        cfg = self.cfg
        dense, sparse = torch.split(x, [cfg.num_dense_features, cfg.num_sparse_features], 1)
        h = dense
        for layer in self.bot_mlp:
            h = layer(h, dropout_rate)
        ids = sparse.to(torch.int64).remainder(cfg.vocab_size)
        table = torch.cat(list(self.chunks), dim=0)
        emb = F.embedding(ids, table)  # [B, 26, D]
        if self.embed_ln is not None:
            emb = self.embed_ln(emb)
        if cfg.use_resnet:
            z = torch.cat([h, emb.reshape(emb.shape[0], -1)], dim=1)
        else:
            stacked = torch.cat([h.unsqueeze(1), emb], dim=1)  # [B, 27, D]
            gram = torch.bmm(stacked, stacked.transpose(1, 2))
            z = torch.cat([h, gram[:, self.triu[0], self.triu[1]]], dim=1)
        for layer in self.top_mlp:
            z = layer(z, dropout_rate)
        return z


def output_param_names(cfg: DlrmConfig) -> tuple[str, str]:
    """Names of the logit layer's parameters (for ``is_output_params``)."""
    last = f"top_mlp.{len(cfg.mlp_top_dims) - 1}.linear"
    return f"{last}.weight", f"{last}.bias"
