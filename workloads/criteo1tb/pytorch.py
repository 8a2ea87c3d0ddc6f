"""criteo1tb in PyTorch (both scales): the workload class; the registry rows
(``entries.py``) make the classes of the base workload and its official variants.

    paceline run --workload criteo1tb --framework pytorch --submission nadamw
    paceline run --workload criteo1tb --scale official --data-dir DIR --submission nadamw
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from sdk import spec
from workloads.common.torch_base import TorchWorkloadMixin, masked_loss
from workloads.common.variants import row_classes
from workloads.criteo1tb.entries import ROWS
from workloads.criteo1tb.model_pytorch import DlrmSmall, output_param_names
from workloads.criteo1tb.workload import Criteo1TbWorkload


def sigmoid_bce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-example ``-(y log sigmoid(z) + (1 - y) log sigmoid(-z))`` on one logit each."""
    logits = logits.reshape(len(logits))
    targets = targets.reshape(len(targets)).to(logits.dtype)
    return -(targets * F.logsigmoid(logits) + (1.0 - targets) * F.logsigmoid(-logits))


class Criteo1TbPyTorchWorkload(TorchWorkloadMixin, Criteo1TbWorkload):
    """DLRM-small; the eval metric is the summed BCE over the split's examples."""

    def _build_model(self) -> DlrmSmall:
        return DlrmSmall(self.model_config)

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key in output_param_names(self.model_config)

    def loss_fn(self, label_batch: torch.Tensor, logits_batch: torch.Tensor,
                mask_batch: torch.Tensor | None = None,
                label_smoothing: float = 0.0) -> dict[str, torch.Tensor]:
        """Sigmoid BCE; ``label_smoothing`` is ignored, as in the official workload."""
        del label_smoothing
        return masked_loss(sigmoid_bce(logits_batch, label_batch), mask_batch)

    def _eval_batch_sums(self, params: torch.nn.Module, batch: dict[str, torch.Tensor],
                         model_state: Any, rng: Any) -> dict[str, torch.Tensor]:
        logits, _ = self.model_fn(params, batch, model_state, spec.ForwardPassMode.EVAL, rng,
                                  update_batch_norm=False)
        summed = self.loss_fn(batch["targets"], logits, batch["weights"])["summed"]
        if self.scale == "dev":
            return {"loss": summed.to(torch.float64)}
        # Officially the mean is over the split's real rows (padding has weight 0): on the
        # complete data these are upstream's num_examples, on a partial copy its own rows.
        return {"loss": summed.to(torch.float64),
                "num_examples": batch["weights"].sum().to(torch.float64)}


__getattr__ = row_classes(__name__, ROWS, Criteo1TbPyTorchWorkload)
