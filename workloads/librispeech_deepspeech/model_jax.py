"""The DeepSpeech-style CTC model in Flax, built from the same :class:`DeepspeechConfig` as
:mod:`workloads.librispeech_deepspeech.model_pytorch`, with the same structure and names.

Log-mel front end -> SpecAugment (train) -> conv subsampling (4x) + Dense + dropout ->
N x ``x += BiLSTM(BN(x))`` -> M x ``x += dropout(mask * act(Dense(BN(x))))`` -> LN -> Dense
to the vocabulary. Each LSTM direction is a ``flax.linen.LSTMCell`` run over each utterance's
valid frames only (the backward one reverses just those), as AlgoPerf's JAX model does
(AlgoPerf algoperf/workloads/librispeech_deepspeech/librispeech_jax/lstm.py): the cell has one
bias per gate, where PyTorch's LSTM has two, so the official JAX model has 12,288 fewer
parameters (6 layers x 2 directions x 4 gates x 256) than the PyTorch one.

    >>> from workloads.librispeech_deepspeech.config import DEV
    >>> Deepspeech(DEV)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from workloads.common.speech.layers_jax import (
    LayerNorm,
    MaskedBatchNorm,
    SpeechModel,
    Subsample,
    dense,
)
from workloads.common.vision_jax import Dropout
from workloads.librispeech_deepspeech.config import DeepspeechConfig


def _normalise(c: DeepspeechConfig, x: jax.Array, paddings: jax.Array, train: bool,
               update_bn: bool) -> jax.Array:
    """The layer's normaliser (BN under AlgoPerf's PyTorch name, or LayerNorm); call inside a
    compact method."""
    if c.layernorm_everywhere:
        return LayerNorm(c.encoder_dim, name="layernorm")(x)  # "layernorm": its parameter type
    return MaskedBatchNorm(c.encoder_dim, c.batch_norm_momentum, c.batch_norm_epsilon,
                           scale_name="weight", name="bn_normalization_layer")(
        x, paddings, train, update_bn)


class FeedForwardModule(nn.Module):
    config: DeepspeechConfig

    @nn.compact
    def __call__(self, x: jax.Array, paddings: jax.Array, rate: Any, train: bool,
                 update_bn: bool) -> jax.Array:
        c = self.config
        y = dense(c.encoder_dim, c.init_gain, name="lin")(
            _normalise(c, x, paddings, train, update_bn))
        y = (jnp.tanh(y) if c.use_tanh else nn.relu(y)) * (1 - paddings)[:, :, None]
        return Dropout()(y, rate, not train)


class BatchRNN(nn.Module):
    """Normaliser then a (bi)LSTM over the valid frames of each utterance; padded frames 0."""

    config: DeepspeechConfig

    @nn.compact
    def __call__(self, x: jax.Array, paddings: jax.Array, train: bool,
                 update_bn: bool) -> jax.Array:
        c = self.config
        y = _normalise(c, x, paddings, train, update_bn)
        lengths = (1 - paddings).sum(axis=1).astype(jnp.int32)
        hidden = c.encoder_dim // 2 if c.bidirectional else c.encoder_dim
        out = nn.RNN(nn.LSTMCell(hidden, name="forward"))(y, seq_lengths=lengths)
        if c.bidirectional:
            backward = nn.RNN(nn.LSTMCell(hidden, name="backward"), reverse=True,
                              keep_order=True)(y, seq_lengths=lengths)
            out = jnp.concatenate([out, backward], axis=-1)
        return out * (1 - paddings)[:, :, None]


class Deepspeech(SpeechModel):
    """The Deepspeech on :class:`~workloads.common.speech.layers_jax.SpeechModel`'s front end."""

    config: DeepspeechConfig

    @nn.compact
    def __call__(self, audio: jax.Array, paddings: jax.Array, train: bool = False,
                 update_bn: bool = False, dropout_rate: Any = 0.0,
                 input_dropout_rate: Any = None) -> tuple[jax.Array, jax.Array]:
        c = self.config
        x, paddings = self.features(audio, paddings, train)
        input_rate = dropout_rate if input_dropout_rate is None else input_dropout_rate
        x, paddings = Subsample(c.channels, c.encoder_dim, "tanh" if c.use_tanh else "relu",
                                positions=False, linear_name="lin", gain=c.init_gain,
                                name="subsample")(x, paddings, input_rate, train)
        residual = c.enable_residual_connections
        for i in range(c.num_lstm_layers):
            y = BatchRNN(c, name=f"lstms_{i}")(x, paddings, train, update_bn)
            x = x + y if residual else y
        for i in range(c.num_ffn_layers):
            y = FeedForwardModule(c, name=f"ffns_{i}")(x, paddings, dropout_rate, train,
                                                       update_bn)
            x = x + y if residual else y
        if c.enable_decoder_layer_norm:
            x = LayerNorm(c.encoder_dim, name="ln")(x)
        return dense(c.vocab_size, c.init_gain, name="lin")(x), paddings
