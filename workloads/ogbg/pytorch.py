"""ogbg in PyTorch (dev scale): the workload class; the registry rows
(``entries.py``) make the classes of the base workload and its official variants.

    paceline run --workload ogbg --framework pytorch --submission nadamw
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from sdk import spec
from workloads.common.torch_base import TorchWorkloadMixin, device, masked_loss
from workloads.common.variants import row_classes
from workloads.ogbg.batching import GraphsTuple
from workloads.ogbg.entries import ROWS
from workloads.ogbg.metrics import eval_metrics
from workloads.ogbg.model_pytorch import GNN
from workloads.ogbg.workload import OgbgWorkload


def batch_to_torch(batch: dict[str, Any], dev: torch.device) -> dict[str, Any]:
    """Numpy graph batch -> torch tensors on ``dev`` (the GraphsTuple field by field)."""
    def put(x: Any) -> Any:
        if x is None:
            return None
        t = torch.from_numpy(np.ascontiguousarray(x))
        return t.to(dev, non_blocking=True) if dev.type != "cpu" else t

    return {"inputs": GraphsTuple(*(put(x) for x in batch["inputs"])),
            "targets": put(batch["targets"]), "weights": put(batch["weights"])}


def sigmoid_bce(logits: torch.Tensor, labels: torch.Tensor,
                label_smoothing: float = 0.0) -> torch.Tensor:
    """Per-(graph, task) sigmoid cross-entropy; labels smoothed to (1-a)y + a/num_tasks.

    The divisor is the number of tasks, not 2, exactly as upstream (quirk 6).
    """
    num_tasks = labels.shape[-1]
    smoothed = labels * (1.0 - label_smoothing) + label_smoothing / num_tasks
    return F.binary_cross_entropy_with_logits(logits, smoothed, reduction="none")


class OgbgPyTorchWorkload(TorchWorkloadMixin, OgbgWorkload):
    """The GNN on padded graph batches; eval metrics come from all logits of the split."""

    def _build_model(self) -> GNN:
        return GNN(self.model_config)

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key.startswith("decoder.")

    def _to_device(self, batch: dict[str, Any], dev: torch.device) -> dict[str, Any]:
        return batch_to_torch(batch, dev)

    def loss_fn(self, label_batch: torch.Tensor, logits_batch: torch.Tensor,
                mask_batch: torch.Tensor | None = None,
                label_smoothing: float = 0.0) -> dict[str, torch.Tensor]:
        return masked_loss(sigmoid_bce(logits_batch, label_batch, label_smoothing), mask_batch)

    def _eval_model_on_split(self, split: str, num_examples: int, global_batch_size: int,
                             params: Any, model_state: Any, rng: Any, data_dir: str | None,
                             global_step: int = 0) -> dict[str, float]:
        """The logits of the whole split, then mean average precision, accuracy and loss."""
        del global_step
        dev = device()
        logits, labels, weights = [], [], []
        with torch.no_grad():
            for batch in self._eval_batches(split, num_examples, global_batch_size, data_dir):
                batch = batch_to_torch(batch, dev)
                out, _ = self.model_fn(params, batch, model_state, spec.ForwardPassMode.EVAL,
                                       rng, update_batch_norm=False)
                logits.append(out.float().cpu().numpy())
                labels.append(batch["targets"].cpu().numpy())
                weights.append(batch["weights"].cpu().numpy())
        return eval_metrics(np.concatenate(logits), np.concatenate(labels),
                            np.concatenate(weights))


__getattr__ = row_classes(__name__, ROWS, OgbgPyTorchWorkload)
