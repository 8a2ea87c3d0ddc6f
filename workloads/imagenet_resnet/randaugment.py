"""RandAugment on PIL images, as AlgoPerf's PyTorch ViT pipeline applies it to official
ImageNet (AlgoPerf ``algoperf/workloads/imagenet_resnet/imagenet_pytorch/randaugment.py``).

Two ops per image, each drawn uniformly from sixteen, at the fixed magnitudes of that file
(the torchvision functional semantics it calls): shears of 0.3 (about the top-left corner),
translations of 100 px, rotations of 30 degrees (signed ops are negated with probability 1/2;
nearest-neighbour resampling, fill grey 128), colour, contrast, brightness and sharpness
factors of 1.9, posterize to 4 bits, solarize at 256 (no pixel reaches it, so upstream's
Solarize leaves the image unchanged), solarize-add of 110 below 128, and an 80 px grey
cutout square.

    paceline run --scale official --workload imagenet_vit --data-dir ~/data/imagenet/pytorch
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageOps

FILL = (128, 128, 128)
NUM_OPS = 2
# op -> (magnitude, signed)
OPS = {
    "ShearX": (0.3, True), "ShearY": (0.3, True),
    "TranslateX": (100.0, True), "TranslateY": (100.0, True),
    "Rotate": (30.0, True),
    "Brightness": (1.9, False), "Color": (1.9, False), "Contrast": (1.9, False),
    "Sharpness": (1.9, False),
    "Posterize": (4.0, False), "Solarize": (256.0, False), "SolarizeAdd": (110.0, False),
    "AutoContrast": (0.0, False), "Equalize": (0.0, False), "Invert": (0.0, False),
    "Cutout": (40.0, False),
}
_ENHANCERS = {"Brightness": ImageEnhance.Brightness, "Color": ImageEnhance.Color,
              "Contrast": ImageEnhance.Contrast, "Sharpness": ImageEnhance.Sharpness}
_PLAIN = {"AutoContrast": ImageOps.autocontrast, "Equalize": ImageOps.equalize,
          "Invert": ImageOps.invert}


def _affine(img: Image.Image, coeffs: tuple[float, ...]) -> Image.Image:
    """Output pixel (x, y) takes the input at (a x + b y + c, d x + e y + f)."""
    return img.transform(img.size, Image.Transform.AFFINE, coeffs,
                         resample=Image.Resampling.NEAREST, fillcolor=FILL)


def _geometry(img: Image.Image, op: str, m: float) -> Image.Image:
    if op == "ShearX":  # torchvision shear of atan(m) degrees about (0, 0)
        return _affine(img, (1.0, m, 0.0, 0.0, 1.0, 0.0))
    if op == "ShearY":
        return _affine(img, (1.0, 0.0, 0.0, m, 1.0, 0.0))
    if op == "TranslateX":
        return _affine(img, (1.0, 0.0, -float(int(m)), 0.0, 1.0, 0.0))
    if op == "TranslateY":
        return _affine(img, (1.0, 0.0, 0.0, 0.0, 1.0, -float(int(m))))
    return img.rotate(m, resample=Image.Resampling.NEAREST, fillcolor=FILL)


def _solarize(img: Image.Image, threshold: float) -> Image.Image:
    x = np.asarray(img)
    return Image.fromarray(np.where(x < threshold, x, 255 - x).astype(np.uint8))


def _solarize_add(img: Image.Image, addition: int) -> Image.Image:
    x = np.asarray(img)
    added = np.clip(x.astype(np.int64) + addition, 0, 255).astype(np.uint8)
    return Image.fromarray(np.where(x < 128, added, x))


def _cutout(img: Image.Image, pad: int, rng: np.random.Generator) -> Image.Image:
    """A grey square of side ``2 pad`` whose corner is ``pad`` up-left of a random point."""
    w, h = img.size
    x0 = int(max(0, rng.uniform(0, w) - pad))
    y0 = int(max(0, rng.uniform(0, h) - pad))
    box = (x0, y0, int(min(w, x0 + 2 * pad)), int(min(h, y0 + 2 * pad)))
    out = img.copy()
    ImageDraw.Draw(out).rectangle(box, FILL)
    return out


def apply_op(img: Image.Image, op: str, magnitude: float,
             rng: np.random.Generator) -> Image.Image:
    """One op of :data:`OPS` at ``magnitude`` (already signed) on an RGB image."""
    if op in ("ShearX", "ShearY", "TranslateX", "TranslateY", "Rotate"):
        return _geometry(img, op, magnitude)
    if op in _ENHANCERS:
        return _ENHANCERS[op](img).enhance(magnitude)
    if op in _PLAIN:
        return _PLAIN[op](img)
    if op == "Posterize":
        return ImageOps.posterize(img, int(magnitude))
    if op == "Solarize":
        return _solarize(img, magnitude)
    if op == "SolarizeAdd":
        return _solarize_add(img, int(magnitude))
    if op == "Cutout":
        return _cutout(img, int(magnitude), rng)
    raise ValueError(f"Unknown RandAugment op {op!r}.")


def randaugment(img: Image.Image, rng: np.random.Generator,
                num_ops: int = NUM_OPS) -> Image.Image:
    """``num_ops`` ops drawn uniformly (with replacement) from :data:`OPS`."""
    names = tuple(OPS)
    for _ in range(num_ops):
        op = names[int(rng.integers(len(names)))]
        magnitude, signed = OPS[op]
        if signed and rng.integers(2):
            magnitude = -magnitude
        img = apply_op(img, op, magnitude, rng)
    return img
