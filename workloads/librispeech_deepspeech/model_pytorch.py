"""The DeepSpeech-style CTC model in PyTorch, built from a :class:`DeepspeechConfig`.

Structure (AlgoPerf's ``librispeech_deepspeech``): log-mel front end -> SpecAugment (train) ->
conv subsampling (4x) + linear (no positions) + dropout -> N x ``x += BiLSTM(BN(x))`` ->
M x ``x += dropout(mask * act(Linear(BN(x))))`` -> LN -> linear to the vocabulary. The LSTMs
see only each utterance's valid frames (packed sequences), as in AlgoPerf's PyTorch model.
Parameter names match AlgoPerf's PyTorch model.
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
)
from workloads.librispeech_deepspeech.config import DeepspeechConfig


class _Normalised(nn.Module):
    """Holds the layer's normaliser under AlgoPerf's names (BN or LayerNorm)."""

    def __init__(self, c: DeepspeechConfig) -> None:
        super().__init__()
        self.layernorm = c.layernorm_everywhere
        if self.layernorm:
            self.normalization_layer = LayerNorm(c.encoder_dim)
        else:
            self.bn_normalization_layer = MaskedBatchNorm(
                c.encoder_dim, c.batch_norm_momentum, c.batch_norm_epsilon, scale_name="weight")

    def normalise(self, x: torch.Tensor, paddings: torch.Tensor) -> torch.Tensor:
        if self.layernorm:
            return self.normalization_layer(x)
        return self.bn_normalization_layer(x, paddings)


class FeedForwardModule(_Normalised):
    def __init__(self, c: DeepspeechConfig) -> None:
        super().__init__(c)
        self.lin = nn.Linear(c.encoder_dim, c.encoder_dim)
        self.act = torch.tanh if c.use_tanh else F.relu

    def forward(self, x: torch.Tensor, paddings: torch.Tensor,
                dropout_rate: float) -> torch.Tensor:
        y = self.act(self.lin(self.normalise(x, paddings))) * (1 - paddings)[:, :, None]
        return F.dropout(y, dropout_rate, training=self.training)


class BatchRNN(_Normalised):
    """Normaliser then a (bi)LSTM over the valid frames of each utterance."""

    def __init__(self, c: DeepspeechConfig) -> None:
        super().__init__(c)
        hidden = c.encoder_dim // 2 if c.bidirectional else c.encoder_dim
        self.lstm = nn.LSTM(c.encoder_dim, hidden, bidirectional=c.bidirectional,
                            batch_first=True)

    def forward(self, x: torch.Tensor, paddings: torch.Tensor) -> torch.Tensor:
        y = self.normalise(x, paddings)
        lengths = (1 - paddings).sum(dim=1).long().clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(y, lengths, batch_first=True,
                                                   enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True,
                                                  total_length=x.shape[1])
        return out


class DeepspeechModel(SpeechModel):
    """Raw audio and paddings in; per-frame logits and their paddings out."""

    def __init__(self, c: DeepspeechConfig, mean: np.ndarray | None = None,
                 std: np.ndarray | None = None) -> None:
        super().__init__()
        self.config = c
        self.specaug = SpecAugment(c.freq_mask_count, c.freq_mask_max_bins, c.time_mask_count,
                                   c.time_mask_max_ratio)
        self.preprocessor = LogMelFrontend(mean, std)
        self.subsample = Subsample(c.channels, c.encoder_dim, features.FRONTEND.num_bins,
                                   act="tanh" if c.use_tanh else "relu", positions=False,
                                   linear_name="lin")
        self.lstms = nn.ModuleList(BatchRNN(c) for _ in range(c.num_lstm_layers))
        self.ffns = nn.ModuleList(FeedForwardModule(c) for _ in range(c.num_ffn_layers))
        self.ln = LayerNorm(c.encoder_dim) if c.enable_decoder_layer_norm else None
        self.lin = nn.Linear(c.encoder_dim, c.vocab_size)
        for module in self.modules():  # LSTMs keep torch's default init, as officially
            if isinstance(module, nn.Linear):
                nn.init.xavier_uniform_(module.weight, gain=c.init_gain)
                nn.init.zeros_(module.bias)

    def forward(self, audio: torch.Tensor, paddings: torch.Tensor, dropout_rate: float,
                input_dropout_rate: float | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``input_dropout_rate`` (after subsampling) defaults to ``dropout_rate``."""
        residual = self.config.enable_residual_connections
        x, paddings = self.features(audio, paddings, dropout_rate, input_dropout_rate)
        for lstm in self.lstms:
            x = x + lstm(x, paddings) if residual else lstm(x, paddings)
        for ffn in self.ffns:
            x = x + ffn(x, paddings, dropout_rate) if residual else ffn(x, paddings, dropout_rate)
        if self.ln is not None:
            x = self.ln(x)
        return self.lin(x), paddings
