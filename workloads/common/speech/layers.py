"""PyTorch pieces shared by the Conformer and DeepSpeech models, as the official models build them.

* :class:`LogMelFrontend` - raw 16 kHz PCM to normalised 80-bin log-mel frames (25 ms window,
  10 ms hop, HTK pre-emphasis, periodic Hann, 512-point FFT, TF-style mel matrix 125-7600 Hz);
* :class:`SpecAugment` - frequency and time masks (time masks sized relative to each
  utterance's valid length);
* :class:`LayerNorm` - ``norm(x) * (1 + scale) + bias``, scale and bias initialised to zero;
* :class:`MaskedBatchNorm` - batch statistics over non-padded frames only, same ``(1 + scale)``
  form, running statistics as buffers;
* :class:`Conv2dSubsampling` / :func:`subsample_paddings` - 3x3 stride-2 convolutions with
  TF "SAME" padding, paddings subsampled by taking every second frame.

Paddings are float tensors with 1 for padding and 0 for real samples/frames, as in AlgoPerf.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from workloads.common.speech import features


class LogMelFrontend(nn.Module):
    """Raw PCM ``[B, S]`` (int16 scale) and paddings -> log-mel ``[B, T, 80]`` and paddings."""

    def __init__(self, mean: np.ndarray | None = None, std: np.ndarray | None = None) -> None:
        super().__init__()
        f = features.FRONTEND
        mean = np.zeros(f.num_bins) if mean is None else np.asarray(mean)
        std = np.ones(f.num_bins) if std is None else np.asarray(std)
        self.register_buffer("window", torch.hann_window(f.window_length, periodic=True))
        self.register_buffer("mel", torch.from_numpy(features.mel_matrix()).float())
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32))

    def forward(self, audio: torch.Tensor,
                paddings: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = features.FRONTEND
        x = audio * (1.0 - paddings) * f.input_scale
        # Pre-emphasis over the whole signal equals the official per-frame HTK pre-emphasis
        # wherever the window is non-zero: the two differ only in a frame's first sample, which
        # the periodic Hann window multiplies by 0.
        y = torch.cat([x[:, :1], x[:, 1:] - f.preemphasis * x[:, :-1]], dim=1)
        frames = (x.shape[1] - f.frame_length) // f.hop_length + 1
        # torch.stft centres the 400-sample window in each 512-sample frame; shifting by the
        # 56-sample margin makes frame k cover samples [160 k, 160 k + 400).
        margin = (f.fft_size - f.window_length) // 2
        spectrum = torch.stft(F.pad(y, (margin, margin)), n_fft=f.fft_size,
                              hop_length=f.hop_length, win_length=f.window_length,
                              window=self.window, center=False, return_complex=True)
        spectrum = spectrum[:, :, :frames]
        power = spectrum.real.square() + spectrum.imag.square()
        mel = torch.einsum("bft,fm->btm", power, self.mel)
        logmel = torch.log(torch.clamp(mel, min=f.output_floor))
        # a frame is padding only if every one of its 401 samples is
        frame_paddings = -F.max_pool1d(-paddings[:, None], f.frame_length, f.hop_length)[:, 0]
        return (logmel - self.mean) / self.std, frame_paddings


class SpecAugment(nn.Module):
    """SpecAugment masks (train only): ``freq_masks`` bands of up to ``freq_max_bins`` bins and
    ``time_masks`` spans of up to ``time_max_ratio`` of each utterance's valid frames; masked
    values become 0. Draws from torch's global generator, as the official PyTorch model."""

    def __init__(self, freq_masks: int, freq_max_bins: int, time_masks: int,
                 time_max_ratio: float) -> None:
        super().__init__()
        self.freq_masks, self.freq_max_bins = freq_masks, freq_max_bins
        self.time_masks, self.time_max_ratio = time_masks, time_max_ratio

    @staticmethod
    def _keep(batch: int, count: int, size: int, valid: torch.Tensor, max_len: torch.Tensor,
              bound: torch.Tensor, device: torch.device) -> torch.Tensor:
        """``[batch, size]`` of 1 (keep) / 0 (masked) for ``count`` random spans per row."""
        lengths = torch.minimum((max_len[:, None] * torch.rand(batch, count, device=device)).long(),
                                bound.clamp(min=1)[:, None])
        starts = (torch.rand(batch, count, device=device)
                  * (valid[:, None] - lengths + 1)).long()
        pos = torch.arange(size, device=device)[None, None, :]
        inside = (pos >= starts[..., None]) & (pos < (starts + lengths)[..., None])
        return (~inside.any(dim=1)).to(torch.float32)

    def forward(self, x: torch.Tensor, paddings: torch.Tensor) -> torch.Tensor:
        batch, frames, bins = x.shape
        dev = x.device
        if self.time_masks > 0 and self.time_max_ratio > 0:
            valid = (1 - paddings).sum(dim=1).long()
            bound = (self.time_max_ratio * valid).long()
            keep = self._keep(batch, self.time_masks, frames, valid,
                              valid.float() * self.time_max_ratio, bound, dev)
            x = x * keep[:, :, None]
        if self.freq_masks > 0 and self.freq_max_bins > 0:
            full = torch.full((batch,), bins, device=dev)
            keep = self._keep(batch, self.freq_masks, bins, full,
                              torch.full((batch,), float(self.freq_max_bins), device=dev),
                              full, dev)
            x = x * keep[:, None, :]
        return x


class LayerNorm(nn.Module):
    """LayerNorm over the last axis storing ``scale`` with an implicit +1 (init 0), eps 1e-6."""

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.dim, self.eps = dim, eps
        self.scale = nn.Parameter(torch.zeros(dim))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, (self.dim,), 1 + self.scale, self.bias, self.eps)


class MaskedBatchNorm(nn.Module):
    """BatchNorm over ``[B, T, D]`` whose statistics skip padded frames; padded outputs are 0.

    ``momentum`` is the weight of the new batch statistics in the running averages (official:
    ``1 - 0.999``); the runner's ``update_batch_norm=False`` sets it to 0 for a step.
    ``scale_name`` is ``"scale"`` (Conformer) or ``"weight"`` (DeepSpeech), as officially.
    """

    is_paceline_batch_norm = True

    def __init__(self, dim: int, momentum: float, eps: float, scale_name: str = "scale") -> None:
        super().__init__()
        self.momentum, self.eps, self.scale_name = momentum, eps, scale_name
        self.register_buffer("running_mean", torch.zeros(dim))
        self.register_buffer("running_var", torch.ones(dim))
        self.register_parameter(scale_name, nn.Parameter(torch.zeros(dim)))
        self.bias = nn.Parameter(torch.zeros(dim))

    def forward(self, x: torch.Tensor, paddings: torch.Tensor) -> torch.Tensor:
        mask = (1 - paddings)[:, :, None]
        if self.training:
            count = mask.sum()
            mean = (x * mask).sum(dim=(0, 1)) / count
            var = ((x - mean).square() * mask).sum(dim=(0, 1)) / count
            with torch.no_grad():
                m = self.momentum
                self.running_mean.mul_(1 - m).add_(m * mean)
                self.running_var.mul_(1 - m).add_(m * var)
        else:
            mean, var = self.running_mean, self.running_var
        scale = getattr(self, self.scale_name)
        return ((x - mean) * ((1 + scale) * torch.rsqrt(var + self.eps)) + self.bias) * mask


def subsample_paddings(paddings: torch.Tensor) -> torch.Tensor:
    """Paddings after a stride-2 layer: every second frame (the official rule)."""
    return paddings[:, ::2]


def activation(name: str, approximate_gelu: bool = True):  # noqa: ANN201 - a torch function
    """The activation function called ``name`` (swish/silu, gelu, relu, tanh)."""
    if name in ("swish", "silu"):
        return F.silu
    if name == "gelu":
        return (lambda x: F.gelu(x, approximate="tanh")) if approximate_gelu else F.gelu
    if name == "relu":
        return F.relu
    if name == "tanh":
        return torch.tanh
    raise ValueError(f"Unknown activation {name!r} (choose swish, gelu, relu or tanh).")


class Conv2dSubsampling(nn.Module):
    """3x3 convolution, stride 2, TF "SAME" padding, bias, then an activation; zeroes padding."""

    def __init__(self, in_channels: int, out_channels: int, act: str = "relu") -> None:
        super().__init__()
        self.kernel = nn.Parameter(nn.init.xavier_uniform_(torch.empty(out_channels,
                                                                         in_channels, 3, 3)))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.act = activation(act)

    @staticmethod
    def _same(size: int) -> tuple[int, int]:
        total = max(3 - (2 if size % 2 == 0 else size % 2), 0)
        return total // 2, total - total // 2

    def forward(self, x: torch.Tensor,
                paddings: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        top, bottom = self._same(x.shape[2])
        left, right = self._same(x.shape[3])
        y = self.act(F.conv2d(F.pad(x, (left, right, top, bottom)), self.kernel, self.bias,
                              stride=2))
        out_paddings = subsample_paddings(paddings)
        return y * (1 - out_paddings)[:, None, :, None], out_paddings


def sinusoidal_positions(length: int, dim: int, device: torch.device) -> torch.Tensor:
    """``[1, length, dim]`` position signal: ``dim // 2`` timescales 1..1e4, [sin | cos]."""
    half = dim // 2
    increment = math.log(1e4) / max(half - 1, 1)
    inv = torch.exp(torch.arange(half, dtype=torch.float32, device=device) * -increment)
    t = torch.arange(length, dtype=torch.float32, device=device)[:, None] * inv[None, :]
    signal = torch.cat([torch.sin(t), torch.cos(t)], dim=1)
    if dim % 2:
        signal = F.pad(signal, (0, 1))
    return signal[None]


class Subsample(nn.Module):
    """Two :class:`Conv2dSubsampling` layers (4x fewer frames and bins) and a Linear to
    ``encoder_dim``; the Conformer adds sinusoidal positions. Dropout follows."""

    def __init__(self, channels: int, encoder_dim: int, num_bins: int, act: str = "relu",
                 positions: bool = True, linear_name: str = "linear") -> None:
        super().__init__()
        self.conv1 = Conv2dSubsampling(1, channels, act)
        self.conv2 = Conv2dSubsampling(channels, channels, act)
        self.linear_name = linear_name
        out_bins = math.ceil(math.ceil(num_bins / 2) / 2)
        self.add_module(linear_name, nn.Linear(channels * out_bins, encoder_dim))
        self.positions = positions

    def forward(self, x: torch.Tensor, paddings: torch.Tensor,
                dropout_rate: float) -> tuple[torch.Tensor, torch.Tensor]:
        y, paddings = self.conv1(x[:, None], paddings)
        y, paddings = self.conv2(y, paddings)
        batch, channels, frames, bins = y.shape
        y = getattr(self, self.linear_name)(y.permute(0, 2, 3, 1).reshape(batch, frames, -1))
        if self.positions:
            y = y + sinusoidal_positions(frames, y.shape[-1], y.device)
        return F.dropout(y, dropout_rate, training=self.training), paddings


class SpeechModel(nn.Module):
    """Base of the speech CTC models: their shared front end, :meth:`features`.

    A subclass sets ``config`` (with ``use_specaug``), ``preprocessor`` (a
    :class:`LogMelFrontend`), ``specaug`` (a :class:`SpecAugment`) and ``subsample`` (a
    :class:`Subsample`) in its ``__init__`` and starts its ``forward`` from :meth:`features`.
    """

    def features(self, audio: torch.Tensor, paddings: torch.Tensor, dropout_rate: float,
                 input_dropout_rate: float | None) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-mel frames, SpecAugment-masked in training, subsampled with input dropout
        ``input_dropout_rate`` (``dropout_rate`` when None); and their paddings."""
        x, paddings = self.preprocessor(audio, paddings)
        if self.training and self.config.use_specaug:
            x = self.specaug(x, paddings)
        input_rate = dropout_rate if input_dropout_rate is None else input_dropout_rate
        return self.subsample(x, paddings, input_rate)
