"""The Conformer CTC model in Flax, built from the same :class:`ConformerConfig` as
:mod:`workloads.librispeech_conformer.model_pytorch`, with the same structure and module names.

Log-mel front end -> SpecAugment (train) -> conv subsampling (4x) + Dense + sinusoidal
positions -> N Conformer blocks (``x += FF/2; x += MHSA; x += Conv; x += FF/2; x = LN(x)``)
-> LN -> Dense to the vocabulary. Where AlgoPerf's JAX model (AlgoPerf
algoperf/workloads/librispeech_conformer/librispeech_jax/models.py) differs from its PyTorch
one, this model follows the JAX one: dropout at the call's rate inside each feed-forward
module (``feed_forward_dropout_rate`` is the PyTorch model's knob), tanh-approximate GELU
everywhere, query/key/value/out projections as separate ``DenseGeneral`` layers.

    >>> from workloads.librispeech_conformer.config import DEV
    >>> Conformer(DEV)  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from workloads.common.speech.layers_jax import (
    ACTIVATIONS,
    LayerNorm,
    MaskedBatchNorm,
    SpeechModel,
    Subsample,
    dense,
    xavier,
)
from workloads.common.vision_jax import Dropout
from workloads.librispeech_conformer.config import ConformerConfig

_R_SOFTPLUS_0 = 1.0 / float(np.log(2.0))  # 1/softplus(0): the query scale is 1 at init


class FeedForwardModule(nn.Module):
    config: ConformerConfig

    @nn.compact
    def __call__(self, x: jax.Array, mask: jax.Array, rate: Any, train: bool) -> jax.Array:
        c = self.config
        y = LayerNorm(c.encoder_dim, name="ln")(x)
        y = dense(c.encoder_dim * c.feed_forward_expansion_factor, c.init_gain,
                  name="linear1")(y)
        y = Dropout()(ACTIVATIONS[c.activation_function_name](y), rate, not train) * mask
        y = dense(c.encoder_dim, c.init_gain, name="linear2")(y) * mask
        return Dropout()(y, rate, not train)


class MHSAwithQS(nn.Module):
    """Multi-head self-attention with a learned per-dimension query scale
    ``softplus(s) / softplus(0)``; the softmax-weighted values are multiplied by the
    temperature before the output projection."""

    config: ConformerConfig

    @nn.compact
    def __call__(self, x: jax.Array, key_padding: jax.Array, train: bool) -> jax.Array:
        c = self.config
        heads, depth = c.num_attention_heads, c.encoder_dim // c.num_attention_heads

        def project(name: str) -> jax.Array:
            return nn.DenseGeneral((heads, depth), kernel_init=xavier(c.init_gain),
                                   name=name)(x)

        scale = self.param("qs_scale", nn.initializers.zeros, (depth,))
        q = project("query") * (_R_SOFTPLUS_0 * jax.nn.softplus(scale))
        logits = jnp.einsum("bqhd,bkhd->bhqk", q, project("key")) / np.sqrt(depth)
        logits = jnp.where(key_padding[:, None, None, :] > 0,
                           jnp.finfo(logits.dtype).min, logits)
        weights = Dropout()(jax.nn.softmax(logits, axis=-1), c.attention_dropout_rate,
                            not train)
        out = jnp.einsum("bhqk,bkhd->bqhd", weights, project("value")) * c.attention_temperature
        return nn.DenseGeneral(c.encoder_dim, axis=(-2, -1), kernel_init=xavier(c.init_gain),
                               name="out")(out)


class MultiHeadedSelfAttention(nn.Module):
    config: ConformerConfig

    @nn.compact
    def __call__(self, x: jax.Array, paddings: jax.Array, rate: Any, train: bool) -> jax.Array:
        y = LayerNorm(self.config.encoder_dim, name="ln")(x)
        y = MHSAwithQS(self.config, name="self_attention")(y, paddings, train)
        return Dropout()(y, rate, not train)


class ConvolutionBlock(nn.Module):
    """LN -> GLU (two Dense) -> depthwise conv -> masked BN -> activation -> Dense."""

    config: ConformerConfig

    @nn.compact
    def __call__(self, x: jax.Array, paddings: jax.Array, rate: Any, train: bool,
                 update_bn: bool) -> jax.Array:
        c = self.config
        d = c.encoder_dim
        y = LayerNorm(d, name="ln")(x)
        y = dense(d, c.init_gain, name="lin1")(y) * jax.nn.sigmoid(
            dense(d, c.init_gain, name="lin2")(y))
        y = y * (1 - paddings)[:, :, None]
        y = nn.Conv(d, (c.convolution_kernel_size,), padding="SAME", feature_group_count=d,
                    use_bias=False, kernel_init=xavier(c.init_gain), name="conv1")(y)
        y = MaskedBatchNorm(d, c.batch_norm_momentum, c.batch_norm_epsilon, name="bn")(
            y, paddings, train, update_bn)
        y = dense(d, c.init_gain, name="lin3")(ACTIVATIONS[c.activation_function_name](y))
        return Dropout()(y, rate, not train)


class ConformerBlock(nn.Module):
    config: ConformerConfig

    @nn.compact
    def __call__(self, x: jax.Array, paddings: jax.Array, rate: Any, train: bool,
                 update_bn: bool) -> jax.Array:
        c = self.config
        mask = (1 - paddings)[:, :, None]
        x = x + 0.5 * FeedForwardModule(c, name="ff1")(x, mask, rate, train)
        x = x + MultiHeadedSelfAttention(c, name="mhsa")(x, paddings, rate, train)
        x = x + ConvolutionBlock(c, name="conv")(x, paddings, rate, train, update_bn)
        x = x + 0.5 * FeedForwardModule(c, name="ff2")(x, mask, rate, train)
        return LayerNorm(c.encoder_dim, name="ln")(x) if c.use_post_layer_norm else x


class Conformer(SpeechModel):
    """The Conformer on :class:`~workloads.common.speech.layers_jax.SpeechModel`'s front end."""

    config: ConformerConfig

    @nn.compact
    def __call__(self, audio: jax.Array, paddings: jax.Array, train: bool = False,
                 update_bn: bool = False, dropout_rate: Any = 0.0,
                 input_dropout_rate: Any = None) -> tuple[jax.Array, jax.Array]:
        c = self.config
        x, paddings = self.features(audio, paddings, train)
        input_rate = dropout_rate if input_dropout_rate is None else input_dropout_rate
        x, paddings = Subsample(c.channels, c.encoder_dim, gain=c.init_gain,
                                name="subsample")(x, paddings, input_rate, train)
        for i in range(c.num_encoder_layers):
            x = ConformerBlock(c, name=f"conformers_{i}")(x, paddings, dropout_rate, train,
                                                          update_bn)
        x = LayerNorm(c.encoder_dim, name="ln")(x)
        return dense(c.vocab_size, c.init_gain, name="lin")(x), paddings
