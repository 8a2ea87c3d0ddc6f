"""Flax pieces shared by the JAX Conformer and DeepSpeech models: the same computations as
:mod:`workloads.common.speech.layers` (the PyTorch side), written for ``jax.numpy``.

* :class:`LogMelFrontend` - raw 16 kHz PCM to normalised 80-bin log-mel frames (the numpy
  :func:`workloads.common.speech.features.logmel`, batched, with frame paddings);
* :func:`spec_augment` - frequency and time masks drawn from the ``"specaug"`` rng stream;
* :class:`LayerNorm` - ``norm(x) * (1 + scale) + bias``, eps 1e-6;
* :class:`MaskedBatchNorm` - statistics over non-padded frames, running averages in the
  ``batch_stats`` collection;
* :class:`Subsample` - two 3x3 stride-2 convolutions (TF "SAME"), a Dense to the model width,
  optional sinusoidal positions, dropout.

Paddings are float arrays with 1 for padding and 0 for real samples/frames, as in AlgoPerf.

    >>> LayerNorm(4).init(jax.random.PRNGKey(0), jnp.ones((1, 4)))["params"]["scale"].shape
    (4,)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from workloads.common.speech import features
from workloads.common.vision_jax import Dropout

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "swish": nn.swish,
    "silu": nn.swish,
    "gelu": functools.partial(nn.gelu, approximate=True),  # flax's default, as AlgoPerf's JAX
    "relu": nn.relu,
    "tanh": jnp.tanh,
}


def xavier(gain: float = 1.0) -> Callable[..., jax.Array]:
    """Xavier-uniform with ``gain`` (torch's ``xavier_uniform_(w, gain)``)."""
    return nn.initializers.variance_scaling(gain**2, "fan_avg", "uniform")


def dense(width: int, gain: float = 1.0, name: str | None = None,
          use_bias: bool = True) -> nn.Dense:
    return nn.Dense(width, use_bias=use_bias, kernel_init=xavier(gain), name=name)


class LogMelFrontend(nn.Module):
    """Raw PCM ``[B, S]`` and paddings -> normalised log-mel ``[B, T, 80]`` and paddings."""

    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None

    def __call__(self, audio: jax.Array, paddings: jax.Array) -> tuple[jax.Array, jax.Array]:
        f = features.FRONTEND
        x = audio * (1.0 - paddings) * f.input_scale
        frames = features.num_frames(x.shape[1])
        idx = np.arange(f.frame_length)[None, :] + f.hop_length * np.arange(frames)[:, None]
        framed = x[:, idx]  # [B, T, 401]
        emphasised = jnp.concatenate(
            [framed[..., :1] * (1 - f.preemphasis),
             framed[..., 1:-1] - f.preemphasis * framed[..., :-2]], axis=-1)
        window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(f.window_length) / f.window_length)
        spectrum = jnp.fft.rfft(emphasised * window.astype(np.float32), n=f.fft_size, axis=-1)
        power = jnp.square(spectrum.real) + jnp.square(spectrum.imag)
        logmel = jnp.log(jnp.maximum(power @ features.mel_matrix(), f.output_floor))
        mean = np.zeros(f.num_bins) if self.mean is None else np.asarray(self.mean)
        std = np.ones(f.num_bins) if self.std is None else np.asarray(self.std)
        # a frame is padding only if every one of its 401 samples is
        frame_paddings = jax.lax.reduce_window(paddings, jnp.inf, jax.lax.min,
                                               (1, f.frame_length), (1, f.hop_length), "VALID")
        normed = (logmel - mean.astype(np.float32)) / std.astype(np.float32)
        return normed, frame_paddings


def _keep(rng: jax.Array, count: int, size: int, valid: jax.Array, max_len: jax.Array,
          bound: jax.Array) -> jax.Array:
    """``[batch, size]`` of 1 (keep) / 0 (masked) for ``count`` random spans per row."""
    batch = valid.shape[0]
    k_len, k_start = jax.random.split(rng)
    draw = jax.random.uniform(k_len, (batch, count))
    lengths = jnp.minimum((max_len[:, None] * draw).astype(jnp.int32),
                          jnp.maximum(bound, 1)[:, None])
    starts = (jax.random.uniform(k_start, (batch, count))
              * (valid[:, None] - lengths + 1)).astype(jnp.int32)
    pos = jnp.arange(size)[None, None, :]
    inside = (pos >= starts[..., None]) & (pos < (starts + lengths)[..., None])
    return (~inside.any(axis=1)).astype(jnp.float32)


def spec_augment(rng: jax.Array, x: jax.Array, paddings: jax.Array, freq_masks: int,
                 freq_max_bins: int, time_masks: int, time_max_ratio: float) -> jax.Array:
    """SpecAugment masks (the PyTorch :class:`~workloads.common.speech.layers.SpecAugment`):
    time spans of up to ``time_max_ratio`` of each utterance's valid frames, then frequency
    bands of up to ``freq_max_bins`` bins; masked values become 0."""
    batch, frames, bins = x.shape
    k_time, k_freq = jax.random.split(rng)
    if time_masks > 0 and time_max_ratio > 0:
        valid = (1 - paddings).sum(axis=1).astype(jnp.int32)
        bound = (time_max_ratio * valid).astype(jnp.int32)
        keep = _keep(k_time, time_masks, frames, valid,
                     valid.astype(jnp.float32) * time_max_ratio, bound)
        x = x * keep[:, :, None]
    if freq_masks > 0 and freq_max_bins > 0:
        full = jnp.full((batch,), bins, jnp.int32)
        keep = _keep(k_freq, freq_masks, bins, full,
                     jnp.full((batch,), float(freq_max_bins)), full)
        x = x * keep[:, None, :]
    return x


class LayerNorm(nn.Module):
    """LayerNorm over the last axis storing ``scale`` with an implicit +1 (init 0)."""

    dim: int
    eps: float = 1e-6

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        scale = self.param("scale", nn.initializers.zeros, (self.dim,))
        bias = self.param("bias", nn.initializers.zeros, (self.dim,))
        mean = x.mean(axis=-1, keepdims=True)
        var = jnp.square(x - mean).mean(axis=-1, keepdims=True)
        return (x - mean) * jax.lax.rsqrt(var + self.eps) * (1 + scale) + bias


class MaskedBatchNorm(nn.Module):
    """BatchNorm over ``[B, T, D]`` whose statistics skip padded frames; padded outputs are 0.

    ``momentum`` is the weight of new batch statistics in the running averages; ``train``
    normalises with batch statistics, and ``update`` then also moves the running averages.
    """

    dim: int
    momentum: float
    eps: float
    scale_name: str = "scale"

    @nn.compact
    def __call__(self, x: jax.Array, paddings: jax.Array, train: bool,
                 update: bool) -> jax.Array:
        ra_mean = self.variable("batch_stats", "mean", jnp.zeros, (self.dim,))
        ra_var = self.variable("batch_stats", "var", jnp.ones, (self.dim,))
        scale = self.param(self.scale_name, nn.initializers.zeros, (self.dim,))
        bias = self.param("bias", nn.initializers.zeros, (self.dim,))
        mask = (1 - paddings)[:, :, None]
        if train:
            count = jnp.maximum(mask.sum(), 1.0)
            mean = (x * mask).sum(axis=(0, 1)) / count
            var = (jnp.square(x - mean) * mask).sum(axis=(0, 1)) / count
            if update and not self.is_initializing():
                m = self.momentum
                ra_mean.value = (1 - m) * ra_mean.value + m * mean
                ra_var.value = (1 - m) * ra_var.value + m * var
        else:
            mean, var = ra_mean.value, ra_var.value
        return ((x - mean) * ((1 + scale) * jax.lax.rsqrt(var + self.eps)) + bias) * mask


class Conv2dSubsampling(nn.Module):
    """3x3 convolution, stride 2, TF "SAME" padding, bias, activation; zeroes padded frames."""

    channels: int
    act: str = "relu"

    @nn.compact
    def __call__(self, x: jax.Array, paddings: jax.Array) -> tuple[jax.Array, jax.Array]:
        kernel = self.param("kernel", xavier(), (3, 3, x.shape[-1], self.channels))
        bias = self.param("bias", nn.initializers.zeros, (self.channels,))
        y = jax.lax.conv_general_dilated(x, kernel, (2, 2), "SAME",
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"))
        y = ACTIVATIONS[self.act](y + bias)
        out_paddings = paddings[:, ::2]  # every second frame, the official rule
        return y * (1 - out_paddings)[:, :, None, None], out_paddings


def sinusoidal_positions(length: int, dim: int) -> jax.Array:
    """``[1, length, dim]`` position signal: ``dim // 2`` timescales 1..1e4, [sin | cos]."""
    half = dim // 2
    increment = math.log(1e4) / max(half - 1, 1)
    inv = jnp.exp(jnp.arange(half, dtype=jnp.float32) * -increment)
    t = jnp.arange(length, dtype=jnp.float32)[:, None] * inv[None, :]
    signal = jnp.concatenate([jnp.sin(t), jnp.cos(t)], axis=1)
    return jnp.pad(signal, ((0, 0), (0, dim % 2)))[None]


class Subsample(nn.Module):
    """Two :class:`Conv2dSubsampling` layers (4x fewer frames and bins), a Dense to
    ``encoder_dim`` named ``linear_name``, optional positions, then dropout."""

    channels: int
    encoder_dim: int
    act: str = "relu"
    positions: bool = True
    linear_name: str = "linear"
    gain: float = 1.0  # of the Dense's xavier init (the convolutions keep gain 1)

    @nn.compact
    def __call__(self, x: jax.Array, paddings: jax.Array, rate: Any,
                 train: bool) -> tuple[jax.Array, jax.Array]:
        y, paddings = Conv2dSubsampling(self.channels, self.act, name="conv1")(
            x[..., None], paddings)
        y, paddings = Conv2dSubsampling(self.channels, self.act, name="conv2")(y, paddings)
        batch, frames, bins, channels = y.shape
        y = dense(self.encoder_dim, self.gain, name=self.linear_name)(
            y.reshape(batch, frames, bins * channels))
        if self.positions:
            y = y + sinusoidal_positions(frames, self.encoder_dim)
        return Dropout()(y, rate, deterministic=not train), paddings


class SpeechModel(nn.Module):
    """Base of the Flax speech CTC models: raw audio and paddings in, per-frame logits and
    their paddings out; the shared front end is :meth:`features`.

    ``train`` turns on SpecAugment (rng stream ``"specaug"``), dropout (``"dropout"``) and
    batch statistics; ``update_bn`` then also moves the running averages.
    """

    config: Any  # the family's config (with the SpecAugment knobs)
    mean: tuple[float, ...] | None = None
    std: tuple[float, ...] | None = None

    def features(self, audio: jax.Array, paddings: jax.Array,
                 train: bool) -> tuple[jax.Array, jax.Array]:
        """Normalised log-mel frames (``"preprocessor"``), SpecAugment-masked in training, and
        their paddings; called from the subclass's compact ``__call__``."""
        c = self.config
        x, paddings = LogMelFrontend(self.mean, self.std, name="preprocessor")(audio, paddings)
        if train and c.use_specaug:
            x = spec_augment(self.make_rng("specaug"), x, paddings, c.freq_mask_count,
                             c.freq_mask_max_bins, c.time_mask_count, c.time_mask_max_ratio)
        return x, paddings
