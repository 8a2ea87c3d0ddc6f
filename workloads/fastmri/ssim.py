"""SSIM as AlgoPerf's fastMRI workload computes it, in PyTorch.

Per example, on de-normalised images (``x * std + mean`` for prediction and target):

* 7x7 uniform window, applied separably as 1-D box filters over a symmetric-padded image;
* ``C1 = (0.01 * L)^2``, ``C2 = (0.03 * L)^2`` with ``L`` the example's ``volume_max``
  (1 where it is 0, e.g. for padding);
* variances and covariance with the sample correction 49/48;
* the SSIM map averaged after cropping 3 pixels at every border;
* the per-example value clipped to [-1, 1].

    >>> import torch
    >>> x = torch.rand(2, 16, 16)
    >>> ssim(x, x, volume_max=torch.ones(2)).tolist()
    [1.0, 1.0]
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

WINDOW = 7
K1, K2 = 0.01, 0.03


def box_filter(images: torch.Tensor, size: int = WINDOW) -> torch.Tensor:
    """Mean over a ``size x size`` window of each ``[B, H, W]`` image, same-size output.

    Borders use symmetric padding (the edge pixel repeated, then mirrored), as
    ``numpy.pad(mode="symmetric")``.
    """
    half = size // 2
    kernel = torch.full((1, 1, size), 1.0 / size, dtype=images.dtype, device=images.device)
    b, h, w = images.shape
    rows = _pad_symmetric(images, half, dim=2).reshape(b * h, 1, w + 2 * half)
    out = F.conv1d(rows, kernel).reshape(b, h, w)
    cols = _pad_symmetric(out.transpose(1, 2), half, dim=2).reshape(b * w, 1, h + 2 * half)
    return F.conv1d(cols, kernel).reshape(b, w, h).transpose(1, 2)


def _pad_symmetric(x: torch.Tensor, pad: int, dim: int) -> torch.Tensor:
    n = x.shape[dim]
    if pad > n:
        raise ValueError(f"SSIM needs images of at least {pad} pixels per side.")
    left = x.narrow(dim, 0, pad).flip(dim)
    right = x.narrow(dim, n - pad, pad).flip(dim)
    return torch.cat([left, x, right], dim=dim)


def structural_similarity(x: torch.Tensor, y: torch.Tensor,
                          data_range: torch.Tensor) -> torch.Tensor:
    """Mean SSIM of each pair of images ``[B, H, W]`` with per-example ``data_range`` [B]."""
    x, y = x.to(torch.float32), y.to(torch.float32)
    n = WINDOW * WINDOW
    cov_norm = n / (n - 1)
    ux, uy = box_filter(x), box_filter(y)
    uxx, uyy, uxy = box_filter(x * x), box_filter(y * y), box_filter(x * y)
    vx = cov_norm * (uxx - ux * ux)
    vy = cov_norm * (uyy - uy * uy)
    vxy = cov_norm * (uxy - ux * uy)
    rng = data_range.to(x.dtype).reshape(-1, 1, 1)
    c1, c2 = (K1 * rng) ** 2, (K2 * rng) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    crop = (WINDOW - 1) // 2
    return s[:, crop:-crop, crop:-crop].mean(dim=(1, 2))


def ssim(outputs: torch.Tensor, targets: torch.Tensor, mean: torch.Tensor | None = None,
         std: torch.Tensor | None = None, volume_max: torch.Tensor | None = None
         ) -> torch.Tensor:
    """Per-example SSIM ``[B]`` of normalised ``outputs`` against ``targets`` (both [B,H,W])."""
    b = outputs.shape[0]
    ones = torch.ones(b, dtype=torch.float32, device=outputs.device)
    mean = ones * 0 if mean is None else mean.reshape(b).to(torch.float32)
    std = ones if std is None else std.reshape(b).to(torch.float32)
    volume_max = ones if volume_max is None else volume_max.reshape(b).to(torch.float32)
    volume_max = torch.where(volume_max == 0, ones, volume_max)
    x = outputs.to(torch.float32) * std[:, None, None] + mean[:, None, None]
    y = targets.to(torch.float32) * std[:, None, None] + mean[:, None, None]
    return structural_similarity(x, y, volume_max).clamp(-1.0, 1.0)
