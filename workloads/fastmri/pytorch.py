"""fastmri in PyTorch (dev scale): the workload class; the registry rows
(``entries.py``) make the classes of the base workload and its official variants.

    paceline run --workload fastmri --framework pytorch --submission nadamw
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from sdk import spec
from workloads.common.torch_base import TorchWorkloadMixin, masked_loss
from workloads.common.variants import row_classes
from workloads.fastmri.entries import ROWS
from workloads.fastmri.model_pytorch import UNet, output_param_names
from workloads.fastmri.ssim import ssim
from workloads.fastmri.workload import FastMriWorkload


class FastMriPyTorchWorkload(TorchWorkloadMixin, FastMriWorkload):
    """U-Net reconstruction; eval metrics are SSIM and the L1 loss, averaged per slice."""

    def _build_model(self) -> UNet:
        return UNet(self.model_config)

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key in output_param_names(self.model_config)

    def loss_fn(self, label_batch: torch.Tensor, logits_batch: torch.Tensor,
                mask_batch: torch.Tensor | None = None,
                label_smoothing: float = 0.0) -> dict[str, torch.Tensor]:
        """Per-example mean absolute error over pixels; ``label_smoothing`` is ignored."""
        del label_smoothing
        per_example = F.l1_loss(logits_batch, label_batch, reduction="none").mean(dim=(1, 2))
        return masked_loss(per_example, mask_batch)

    def _eval_batch_sums(self, params: torch.nn.Module, batch: dict[str, torch.Tensor],
                         model_state: Any, rng: Any) -> dict[str, torch.Tensor]:
        sums = self._eval_sums(params, batch, model_state, rng, ssim)
        return {name: value.to(torch.float64) for name, value in sums.items()}


__getattr__ = row_classes(__name__, ROWS, FastMriPyTorchWorkload)
