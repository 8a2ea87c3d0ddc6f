"""The official LibriSpeech front end's constants, its mel matrix, and a numpy log-mel.

AlgoPerf's models turn raw 16 kHz PCM into log-mel frames inside the model (no parameters):
scale by 2^-15; frames of 401 samples every 160 (25 ms + 1 sample for pre-emphasis, 10 ms
hop, no end padding); HTK pre-emphasis 0.97 leaving 400 samples; periodic Hann window; 512-
point FFT power spectrum; 80 mel bins over 125-7600 Hz with TensorFlow's
``linear_to_mel_weight_matrix`` (mel = 1127 ln(1 + f/700), DC bin zeroed);
``log(max(., 1e-5))``; per-bin normalisation. A frame is padding only if all its samples are.

The per-bin mean and standard deviation are, officially, constants measured on LibriSpeech;
the dev data set measures its own on its training split when it is prepared
(:func:`logmel` here is what it measures with) and stores them with the data.

    >>> mel_matrix().shape
    (257, 80)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Frontend:
    sample_rate: int = 16_000
    frame_length: int = 401  # 25 ms + 1 sample consumed by pre-emphasis
    hop_length: int = 160  # 10 ms
    window_length: int = 400
    fft_size: int = 512
    preemphasis: float = 0.97
    num_bins: int = 80
    lower_hz: float = 125.0
    upper_hz: float = 7600.0
    output_floor: float = 1e-5
    input_scale: float = 2.0**-15


FRONTEND = Frontend()


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray | float:
    return 1127.0 * np.log(1.0 + np.asarray(hz) / 700.0)


def mel_matrix(f: Frontend = FRONTEND) -> np.ndarray:
    """``[fft_size // 2 + 1, num_bins]`` triangular mel weights, TensorFlow's construction."""
    num_spectrum = f.fft_size // 2 + 1
    linear = np.linspace(0.0, f.sample_rate / 2, num_spectrum)[1:]  # the DC bin is zeroed
    bins_mel = _hz_to_mel(linear)[:, None]
    edges = np.linspace(_hz_to_mel(f.lower_hz), _hz_to_mel(f.upper_hz), f.num_bins + 2)
    lower, center, upper = edges[:-2][None], edges[1:-1][None], edges[2:][None]
    weights = np.maximum(0.0, np.minimum((bins_mel - lower) / (center - lower),
                                         (upper - bins_mel) / (upper - center)))
    return np.concatenate([np.zeros((1, f.num_bins)), weights]).astype(np.float32)


def num_frames(num_samples: int, f: Frontend = FRONTEND) -> int:
    """Frames the front end makes of ``num_samples`` samples (no end padding)."""
    if num_samples < f.frame_length:
        return 0
    return (num_samples - f.frame_length) // f.hop_length + 1


def subsampled_frames(num_samples: int) -> int:
    """Encoder output frames for ``num_samples``: two stride-2 layers after the front end."""
    return math.ceil(math.ceil(num_frames(num_samples) / 2) / 2)


def logmel(audio: np.ndarray, f: Frontend = FRONTEND) -> np.ndarray:
    """Unnormalised log-mel ``[T, num_bins]`` of one unpadded int16-scale waveform."""
    x = np.asarray(audio, dtype=np.float64) * f.input_scale
    n = num_frames(len(x), f)
    idx = np.arange(f.frame_length)[None, :] + f.hop_length * np.arange(n)[:, None]
    frames = x[idx]
    emphasised = np.concatenate(
        [frames[:, :1] * (1 - f.preemphasis),
         frames[:, 1:-1] - f.preemphasis * frames[:, :-2]], axis=1)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(f.window_length) / f.window_length)
    power = np.abs(np.fft.rfft(emphasised * window, n=f.fft_size, axis=1)) ** 2
    return np.log(np.maximum(power @ mel_matrix(f).astype(np.float64), f.output_floor))
