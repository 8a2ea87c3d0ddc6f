"""The ImageNet workloads' train-time augmentation in miniature, vectorised over a batch in
numpy (so both frameworks see identical batches, and a resumed run identical augmentations).

* random crop and horizontal flip, the official ResNet and ViT training augmentation: either
  a random-resized crop (area and aspect ratio drawn per image, bilinear resampling back to the
  input size, as ImageNet's) or, milder, a pad-and-crop (a random shift of up to
  ``crop_padding`` pixels, background filled in, as CIFAR's);
* RandAugment (``randaugment_ops`` ops per image drawn from the official 16, at
  ``randaugment_magnitude`` out of 10, geometry scaled to the image size, fill 128): ViT;
* mixup (one ``lambda ~ Beta(alpha, alpha)`` per batch, each example mixed with its
  neighbour, labels become soft one-hot rows): ViT.

Images are float arrays ``[B, H, W]`` of 0-255 grey values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

FILL = 128.0
# Official magnitudes at level 10 of 10, for a 224-pixel image (algoperf's RandAugment).
MAX_ROTATE_DEG = 30.0
MAX_SHEAR = 0.3
MAX_TRANSLATE_FRACTION = 100 / 224
MAX_CUTOUT_HALF_FRACTION = 40 / 224
MAX_ENHANCE = 0.9  # enhancement factors in [1 - 0.9, 1 + 0.9]
MAX_POSTERIZE_DROP_BITS = 4
MAX_SOLARIZE_ADD = 110.0


@dataclass(frozen=True)
class Augmentation:
    """Train-time augmentation settings of one workload (all off by default)."""

    crop_scale: tuple[float, float] = (1.0, 1.0)  # fraction of the image area
    crop_ratio: tuple[float, float] = (3 / 4, 4 / 3)
    crop_padding: int = 0  # pad-and-crop shift in pixels (with crop_scale (1, 1))
    flip: bool = False
    randaugment_ops: int = 0
    randaugment_magnitude: float = 0.0  # out of 10
    mixup_alpha: float = 0.0


# ---- geometry ----------------------------------------------------------------------------
def affine_sample(images: np.ndarray, matrices: np.ndarray, fill: float = FILL,
                  bilinear: bool = True) -> np.ndarray:
    """Resample each image at ``matrices[b] @ (x, y, 1)`` (centred pixel coordinates).

    ``matrices`` is ``[B, 2, 3]`` and maps output to input coordinates, both measured from the
    image centre; samples outside the image take ``fill``.
    """
    b, h, w = images.shape
    cy, cx = (h - 1) / 2, (w - 1) / 2
    ys, xs = np.meshgrid(np.arange(h) - cy, np.arange(w) - cx, indexing="ij")
    grid = np.stack([xs.ravel(), ys.ravel(), np.ones(h * w)])  # [3, HW]
    src = matrices @ grid  # [B, 2, HW]
    sx, sy = src[:, 0] + cx, src[:, 1] + cy
    flat = images.reshape(b, -1)
    rows = np.arange(b)[:, None]

    def gather(ix: np.ndarray, iy: np.ndarray) -> np.ndarray:
        inside = (ix >= 0) & (ix < w) & (iy >= 0) & (iy < h)
        idx = np.clip(iy, 0, h - 1) * w + np.clip(ix, 0, w - 1)
        return np.where(inside, flat[rows, idx], fill)

    if not bilinear:
        out = gather(np.rint(sx).astype(np.int64), np.rint(sy).astype(np.int64))
        return out.reshape(b, h, w).astype(images.dtype)
    x0, y0 = np.floor(sx), np.floor(sy)
    wx, wy = sx - x0, sy - y0
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    out = ((1 - wx) * (1 - wy) * gather(x0, y0) + wx * (1 - wy) * gather(x0 + 1, y0)
           + (1 - wx) * wy * gather(x0, y0 + 1) + wx * wy * gather(x0 + 1, y0 + 1))
    return out.reshape(b, h, w).astype(images.dtype)


def random_shift_crop(images: np.ndarray, rng: np.random.Generator, padding: int,
                      flip: bool, fill: float = 0.0) -> np.ndarray:
    """Pad by ``padding`` pixels (``fill``), crop a random window of the original size, flip."""
    b = len(images)
    m = np.zeros((b, 2, 3))
    m[:, 0, 0] = np.where(rng.uniform(size=b) < 0.5, -1.0, 1.0) if flip else 1.0
    m[:, 1, 1] = 1.0
    m[:, :, 2] = rng.integers(-padding, padding + 1, size=(b, 2))
    return affine_sample(images, m, fill=fill, bilinear=False)


def random_resized_crop(images: np.ndarray, rng: np.random.Generator,
                        scale: tuple[float, float], ratio: tuple[float, float],
                        flip: bool) -> np.ndarray:
    """Crop a random box (area fraction in ``scale``, aspect in ``ratio``) and resize it back.

    As torchvision: up to 10 draws per image, the whole image if none fits; ``flip`` mirrors
    half the images.
    """
    b, h, w = images.shape
    tries = 10
    area = rng.uniform(*scale, size=(b, tries))
    log_r = rng.uniform(math.log(ratio[0]), math.log(ratio[1]), size=(b, tries))
    cw = np.sqrt(area * np.exp(log_r)) * w
    ch = np.sqrt(area / np.exp(log_r)) * h
    fits = (cw <= w) & (ch <= h)
    first = np.argmax(fits, axis=1)
    ok = fits[np.arange(b), first]
    cw = np.where(ok, cw[np.arange(b), first], w)
    ch = np.where(ok, ch[np.arange(b), first], h)
    # box centre, relative to the image centre, so the box stays inside the image
    ox = (rng.uniform(size=b) - 0.5) * (w - cw)
    oy = (rng.uniform(size=b) - 0.5) * (h - ch)
    sign = np.where(rng.uniform(size=b) < 0.5, -1.0, 1.0) if flip else np.ones(b)
    m = np.zeros((b, 2, 3))
    m[:, 0, 0] = sign * cw / w
    m[:, 1, 1] = ch / h
    m[:, 0, 2], m[:, 1, 2] = ox, oy
    return affine_sample(images, m, bilinear=True)


# ---- RandAugment -------------------------------------------------------------------------
def _blend(degenerate: np.ndarray, image: np.ndarray, factor: np.ndarray) -> np.ndarray:
    return np.clip(degenerate + factor[:, None, None] * (image - degenerate), 0, 255)


def _affine(x: np.ndarray, a: np.ndarray, b: np.ndarray, c: np.ndarray,
            d: np.ndarray, tx: np.ndarray, ty: np.ndarray) -> np.ndarray:
    m = np.zeros((len(x), 2, 3))
    m[:, 0, 0], m[:, 0, 1], m[:, 0, 2] = a, b, tx
    m[:, 1, 0], m[:, 1, 1], m[:, 1, 2] = c, d, ty
    return affine_sample(x, m, bilinear=False)


def _equalize(x: np.ndarray) -> np.ndarray:
    out = x.copy()
    for i, img in enumerate(x.astype(np.uint8)):
        hist = np.bincount(img.ravel(), minlength=256)
        nonzero = hist[hist > 0]
        step = (nonzero.sum() - nonzero[-1]) // 255 if len(nonzero) else 0
        if step == 0:
            continue
        lut = (np.concatenate([[0], np.cumsum(hist)[:-1]]) + step // 2) // step
        out[i] = np.clip(lut, 0, 255)[img]
    return out


def _sharpness(x: np.ndarray, factor: np.ndarray) -> np.ndarray:
    smooth = x.copy()
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1)), mode="edge")
    acc = np.zeros_like(x[:, 1:-1, 1:-1])
    for dy in range(3):
        for dx in range(3):
            weight = 5.0 if (dy, dx) == (1, 1) else 1.0
            acc += weight * padded[:, 1 + dy: dy + x.shape[1] - 1, 1 + dx: dx + x.shape[2] - 1]
    smooth[:, 1:-1, 1:-1] = acc / 13.0  # PIL's SMOOTH kernel; borders unchanged
    return _blend(smooth, x, factor)


def _cutout(x: np.ndarray, rng: np.random.Generator, half: int) -> np.ndarray:
    n, h, w = x.shape
    cy, cx = rng.integers(0, h, size=n), rng.integers(0, w, size=n)
    ys, xs = np.arange(h)[None, :, None], np.arange(w)[None, None, :]
    box = ((np.abs(ys - cy[:, None, None]) < half + 0.5)
           & (np.abs(xs - cx[:, None, None]) < half + 0.5)) if half > 0 else False
    return np.where(box, FILL, x)


def _apply_op(op: str, x: np.ndarray, f: float, rng: np.random.Generator) -> np.ndarray:
    """One RandAugment op at magnitude fraction ``f`` on the images ``x`` (0-255 floats)."""
    n, h, w = x.shape
    sign = np.where(rng.uniform(size=n) < 0.5, -1.0, 1.0)
    zeros, ones = np.zeros(n), np.ones(n)
    if op == "AutoContrast":
        lo, hi = x.min(axis=(1, 2), keepdims=True), x.max(axis=(1, 2), keepdims=True)
        scaled = (x - lo) * 255.0 / np.maximum(hi - lo, 1e-6)
        return np.where(hi > lo, scaled, x)
    if op == "Equalize":
        return _equalize(x)
    if op == "Invert":
        return 255.0 - x
    if op == "Color":  # saturation: a no-op on grey images, kept so op odds match ImageNet's
        return x
    if op == "Posterize":
        drop = int(round(MAX_POSTERIZE_DROP_BITS * f))
        return ((x.astype(np.uint8) >> drop) << drop).astype(x.dtype)
    if op == "Solarize":
        threshold = 256.0 - 128.0 * f
        return np.where(x >= threshold, 255.0 - x, x)
    if op == "SolarizeAdd":
        return np.where(x < 128, np.minimum(x + MAX_SOLARIZE_ADD * f, 255.0), x)
    factor = 1.0 + sign * MAX_ENHANCE * f
    if op == "Contrast":
        return _blend(x.mean(axis=(1, 2), keepdims=True) * np.ones_like(x), x, factor)
    if op == "Brightness":
        return _blend(np.zeros_like(x), x, factor)
    if op == "Sharpness":
        return _sharpness(x, factor)
    if op == "Rotate":
        t = np.deg2rad(sign * MAX_ROTATE_DEG * f)
        return _affine(x, np.cos(t), -np.sin(t), np.sin(t), np.cos(t), zeros, zeros)
    shear = sign * MAX_SHEAR * f
    if op == "ShearX":
        return _affine(x, ones, shear, zeros, ones, zeros, zeros)
    if op == "ShearY":
        return _affine(x, ones, zeros, shear, ones, zeros, zeros)
    if op == "TranslateX":
        return _affine(x, ones, zeros, zeros, ones, sign * MAX_TRANSLATE_FRACTION * w * f, zeros)
    if op == "TranslateY":
        return _affine(x, ones, zeros, zeros, ones, zeros, sign * MAX_TRANSLATE_FRACTION * h * f)
    if op == "Cutout":
        return _cutout(x, rng, int(round(MAX_CUTOUT_HALF_FRACTION * min(h, w) * f)))
    raise ValueError(f"Unknown RandAugment op {op!r}.")


RANDAUGMENT_OPS = ("AutoContrast", "Equalize", "Invert", "Rotate", "Posterize", "Solarize",
                   "Color", "Contrast", "Brightness", "Sharpness", "ShearX", "ShearY",
                   "TranslateX", "TranslateY", "Cutout", "SolarizeAdd")


def randaugment(images: np.ndarray, rng: np.random.Generator, num_ops: int,
                magnitude: float) -> np.ndarray:
    """``num_ops`` ops per image, each drawn uniformly from :data:`RANDAUGMENT_OPS`."""
    x = np.clip(np.rint(images), 0, 255).astype(np.float32)
    f = float(magnitude) / 10.0
    for _ in range(num_ops):
        choice = rng.integers(len(RANDAUGMENT_OPS), size=len(x))
        for k, op in enumerate(RANDAUGMENT_OPS):
            sel = np.flatnonzero(choice == k)
            if len(sel):
                x[sel] = _apply_op(op, x[sel], f, rng)
    return x


# ---- mixup -------------------------------------------------------------------------------
def mixup(inputs: np.ndarray, labels: np.ndarray, num_classes: int, alpha: float,
          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Mix each example with the previous one (batch rolled by one) using one Beta draw."""
    lam = np.float32(rng.beta(alpha, alpha))
    one_hot = np.eye(num_classes, dtype=np.float32)[labels]
    mixed = lam * inputs + (1 - lam) * np.roll(inputs, 1, axis=0)
    targets = lam * one_hot + (1 - lam) * np.roll(one_hot, 1, axis=0)
    return mixed.astype(np.float32), targets.astype(np.float32)


def augment(images: np.ndarray, aug: Augmentation, rng: np.random.Generator) -> np.ndarray:
    """Crop/flip then RandAugment (no mixup: that needs normalised inputs and labels)."""
    x = images.astype(np.float32)
    if aug.crop_scale != (1.0, 1.0):
        x = random_resized_crop(x, rng, aug.crop_scale, aug.crop_ratio, aug.flip)
    elif aug.crop_padding or aug.flip:
        x = random_shift_crop(x, rng, aug.crop_padding, aug.flip)
    if aug.randaugment_ops:
        x = randaugment(x, rng, aug.randaugment_ops, aug.randaugment_magnitude)
    return x
