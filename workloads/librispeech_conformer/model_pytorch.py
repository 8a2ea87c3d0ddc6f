"""The Conformer CTC model in PyTorch, built from a :class:`ConformerConfig`.

Structure (AlgoPerf's ``librispeech_conformer``): log-mel front end -> SpecAugment (train) ->
conv subsampling (4x) + linear + sinusoidal positions -> N Conformer blocks
(``x += FF/2; x += MHSA; x += Conv; x += FF/2; x = LN(x)``) -> LN -> linear to the vocabulary.
Parameter names match AlgoPerf's PyTorch model, so parameter types do too.

    >>> from workloads.librispeech_conformer.config import OFFICIAL
    >>> model = ConformerModel(OFFICIAL)  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from workloads.common.speech import features
from workloads.common.speech.layers import (
    LayerNorm,
    LogMelFrontend,
    MaskedBatchNorm,
    SpecAugment,
    SpeechModel,
    Subsample,
    activation,
)
from workloads.librispeech_conformer.config import ConformerConfig

_R_SOFTPLUS_0 = 1.0 / float(np.log(2.0))  # 1/softplus(0): the query scale is 1 at init


class FeedForwardModule(nn.Module):
    def __init__(self, c: ConformerConfig) -> None:
        super().__init__()
        self.ln = LayerNorm(c.encoder_dim)
        self.linear1 = nn.Linear(c.encoder_dim, c.encoder_dim * c.feed_forward_expansion_factor)
        self.linear2 = nn.Linear(c.encoder_dim * c.feed_forward_expansion_factor, c.encoder_dim)
        self.act = activation(c.activation_function_name, approximate_gelu=True)
        self.inner_dropout = c.feed_forward_dropout_rate

    def forward(self, x: torch.Tensor, mask: torch.Tensor, dropout_rate: float) -> torch.Tensor:
        y = self.act(self.linear1(self.ln(x)))
        y = F.dropout(y, self.inner_dropout, training=self.training) * mask
        y = self.linear2(y) * mask
        return F.dropout(y, dropout_rate, training=self.training)


class QueryScaler(nn.Module):
    """Learned per-dimension query scale ``softplus(s) / softplus(0)`` (1 at init)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.zeros(dim))

    def forward(self, q: torch.Tensor) -> torch.Tensor:
        return q * (_R_SOFTPLUS_0 * F.softplus(self.scale))


class MHSAwithQS(nn.Module):
    """Multi-head self-attention with query scaling; output multiplied by the temperature."""

    def __init__(self, c: ConformerConfig) -> None:
        super().__init__()
        self.heads = c.num_attention_heads
        self.in_proj = nn.Linear(c.encoder_dim, 3 * c.encoder_dim)
        self.out_proj = nn.Linear(c.encoder_dim, c.encoder_dim)
        self.qs = QueryScaler(c.encoder_dim // c.num_attention_heads)
        self.temperature = c.attention_temperature
        self.attention_dropout = c.attention_dropout_rate

    def forward(self, x: torch.Tensor, key_padding: torch.Tensor) -> torch.Tensor:
        batch, frames, dim = x.shape
        q, k, v = self.in_proj(x).split(dim, dim=2)
        q = self.qs(q.view(batch, frames, self.heads, -1)).transpose(1, 2)
        k = k.view(batch, frames, self.heads, -1).transpose(1, 2)
        v = v.view(batch, frames, self.heads, -1).transpose(1, 2)
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=~key_padding[:, None, None, :],
            dropout_p=self.attention_dropout if self.training else 0.0)
        out = out.transpose(1, 2).reshape(batch, frames, dim) * self.temperature
        return self.out_proj(out)


class MultiHeadedSelfAttention(nn.Module):
    def __init__(self, c: ConformerConfig) -> None:
        super().__init__()
        self.ln = LayerNorm(c.encoder_dim)
        self.self_attention = MHSAwithQS(c)

    def forward(self, x: torch.Tensor, paddings: torch.Tensor,
                dropout_rate: float) -> torch.Tensor:
        y = self.self_attention(self.ln(x), key_padding=paddings == 1)
        return F.dropout(y, dropout_rate, training=self.training)


class ConvolutionBlock(nn.Module):
    """LN -> GLU (two linears) -> depthwise conv -> masked BN -> activation -> linear."""

    def __init__(self, c: ConformerConfig) -> None:
        super().__init__()
        d = c.encoder_dim
        self.ln = LayerNorm(d)
        self.lin1 = nn.Linear(d, d)
        self.lin2 = nn.Linear(d, d)
        self.conv1 = nn.Conv1d(d, d, c.convolution_kernel_size, padding="same", bias=False,
                               groups=d)
        self.bn = MaskedBatchNorm(d, c.batch_norm_momentum, c.batch_norm_epsilon)
        self.lin3 = nn.Linear(d, d)
        self.act = activation(c.activation_function_name, approximate_gelu=False)

    def forward(self, x: torch.Tensor, paddings: torch.Tensor,
                dropout_rate: float) -> torch.Tensor:
        y = self.ln(x)
        y = self.lin1(y) * torch.sigmoid(self.lin2(y))
        y = y * (1 - paddings)[:, :, None]
        y = self.conv1(y.transpose(1, 2)).transpose(1, 2)
        y = self.lin3(self.act(self.bn(y, paddings)))
        return F.dropout(y, dropout_rate, training=self.training)


class ConformerBlock(nn.Module):
    def __init__(self, c: ConformerConfig) -> None:
        super().__init__()
        self.ff1 = FeedForwardModule(c)
        self.mhsa = MultiHeadedSelfAttention(c)
        self.conv = ConvolutionBlock(c)
        self.ff2 = FeedForwardModule(c)
        self.ln = LayerNorm(c.encoder_dim) if c.use_post_layer_norm else None

    def forward(self, x: torch.Tensor, paddings: torch.Tensor,
                dropout_rate: float) -> torch.Tensor:
        mask = (1 - paddings)[:, :, None]
        x = x + 0.5 * self.ff1(x, mask, dropout_rate)
        x = x + self.mhsa(x, paddings, dropout_rate)
        x = x + self.conv(x, paddings, dropout_rate)
        x = x + 0.5 * self.ff2(x, mask, dropout_rate)
        return self.ln(x) if self.ln is not None else x


class ConformerModel(SpeechModel):
    """Raw audio and paddings in; per-frame logits and their paddings out."""

    def __init__(self, c: ConformerConfig, mean: np.ndarray | None = None,
                 std: np.ndarray | None = None) -> None:
        super().__init__()
        self.config = c
        self.preprocessor = LogMelFrontend(mean, std)
        self.specaug = SpecAugment(c.freq_mask_count, c.freq_mask_max_bins, c.time_mask_count,
                                   c.time_mask_max_ratio)
        self.subsample = Subsample(c.channels, c.encoder_dim, features.FRONTEND.num_bins,
                                   positions=True, linear_name="linear")
        self.conformers = nn.ModuleList(ConformerBlock(c) for _ in range(c.num_encoder_layers))
        self.ln = LayerNorm(c.encoder_dim)
        self.lin = nn.Linear(c.encoder_dim, c.vocab_size)
        self._initialize(c.init_gain)

    def _initialize(self, gain: float) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear | nn.Conv1d):
                nn.init.xavier_uniform_(module.weight, gain=gain)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def forward(self, audio: torch.Tensor, paddings: torch.Tensor, dropout_rate: float,
                input_dropout_rate: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``input_dropout_rate`` (after subsampling) defaults to ``dropout_rate``."""
        x, paddings = self.features(audio, paddings, dropout_rate, input_dropout_rate)
        for block in self.conformers:
            x = block(x, paddings, dropout_rate)
        return self.lin(self.ln(x)), paddings
