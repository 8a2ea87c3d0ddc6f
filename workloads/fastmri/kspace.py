"""Single-coil k-space, AlgoPerf's column masks and the zero-filled input, in numpy.

One function per step of the official fastMRI input pipeline (AlgoPerf's algoperf/workloads/fastmri/input_pipeline.py):
``column_mask`` (centre fraction 0.08, 4x acceleration, random other columns),
``zero_filled_magnitude`` (mask, centred inverse FFT scaled by sqrt(H*W), centre crop,
magnitude) and ``normalise`` (instance mean/std of the zero-filled image, clip to +-6). The dev
data is built with ``centered_fft2``, the exact inverse of the reconstruction step, so an
unmasked k-space gives back the image.
"""

from __future__ import annotations

import numpy as np

CENTER_FRACTION = 0.08
ACCELERATION = 4
CLIP = 6.0
EVAL_MASK_SEED = 0  # evaluation masks are drawn from this seed (and, at dev scale, the slice)


def centered_fft2(image: np.ndarray) -> np.ndarray:
    """``fftshift(fft2(ifftshift(x))) / sqrt(H*W)`` over the last two axes."""
    h, w = image.shape[-2:]
    k = np.fft.fft2(np.fft.ifftshift(image, axes=(-2, -1)), axes=(-2, -1))
    return np.fft.fftshift(k, axes=(-2, -1)) / np.sqrt(h * w)


def centered_ifft2(kspace: np.ndarray) -> np.ndarray:
    """``fftshift(ifft2(ifftshift(k))) * sqrt(H*W)`` over the last two axes (official scaling)."""
    h, w = kspace.shape[-2:]
    x = np.fft.ifft2(np.fft.ifftshift(kspace, axes=(-2, -1)), axes=(-2, -1))
    return np.fft.fftshift(x, axes=(-2, -1)) * np.sqrt(h * w)


def column_mask(num_cols: int, uniform: np.ndarray, center_fraction: float = CENTER_FRACTION,
                acceleration: float = ACCELERATION) -> np.ndarray:
    """The official mask over k-space columns (float32 0/1 of length ``num_cols``).

    ``int(num_cols * center_fraction)`` central columns starting at
    ``(num_cols - n_low + 1) // 2`` are always kept; every other column is kept when its
    ``uniform`` draw is below ``(num_cols / acceleration - n_low) / (num_cols - n_low)``, so
    about ``num_cols / acceleration`` columns are kept in all.
    """
    n_low = int(np.float32(num_cols) * np.float32(center_fraction))
    mask = np.zeros(num_cols, dtype=np.float32)
    start = (num_cols - n_low + 1) // 2
    mask[start:start + n_low] = 1.0
    prob = (num_cols / acceleration - n_low) / (num_cols - n_low)
    return np.maximum(mask, (np.asarray(uniform) < prob).astype(np.float32))


def zero_filled_magnitude(kspace: np.ndarray, mask: np.ndarray,
                          target_shape: tuple[int, int]) -> np.ndarray:
    """Masked k-space -> centred inverse FFT -> centre crop to ``target_shape`` -> magnitude.

    ``kspace`` is ``[..., H, W]`` complex; ``mask`` is ``[W]`` or ``[..., W]`` (columns).
    """
    mask = np.asarray(mask, dtype=np.float32)[..., None, :]
    image = centered_ifft2(kspace * mask)
    h, w = image.shape[-2:]
    th, tw = target_shape
    top, left = (h - th) // 2, (w - tw) // 2
    return np.abs(image[..., top:top + th, left:left + tw]).astype(np.float32)


def normalise(zero_filled: np.ndarray, target: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Official instance normalisation of a batch ``[N, H, W]`` of examples.

    Returns ``(inputs, targets, mean, std)``: both images are shifted and scaled by the mean
    and population standard deviation of the zero-filled image, then clipped to +-6.
    """
    mean = zero_filled.mean(axis=(-2, -1), dtype=np.float64)
    std = zero_filled.std(axis=(-2, -1), dtype=np.float64)
    scale = (mean[..., None, None], std[..., None, None])
    inputs = np.clip((zero_filled - scale[0]) / scale[1], -CLIP, CLIP)
    targets = np.clip((target - scale[0]) / scale[1], -CLIP, CLIP)
    return (inputs.astype(np.float32), targets.astype(np.float32), mean.astype(np.float32),
            std.astype(np.float32))
