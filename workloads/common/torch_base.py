"""Shared PyTorch side of paceline workloads: devices, batches, evaluation loop."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from sdk import spec
from sdk.frameworks.param_utils import pytorch_param_shapes, pytorch_param_types
from sdk.frameworks.pytorch_utils import pytorch_setup, update_batch_norm_fn


def device() -> torch.device:
    return pytorch_setup()[2]


def to_torch(batch: dict[str, np.ndarray], dev: torch.device | None = None) -> dict[str, Any]:
    """Numpy batch -> torch tensors on the workload's device (no copy on CPU)."""
    dev = dev or device()
    out = {}
    for key, value in batch.items():
        t = torch.from_numpy(np.ascontiguousarray(value))
        out[key] = t.to(dev, non_blocking=True) if dev.type != "cpu" else t
    return out


def seed_torch(rng: Any) -> None:
    """Seed torch from an AlgoPerf numpy key, as AlgoPerf's PyTorch workloads do."""
    torch.manual_seed(int(np.asarray(rng).reshape(-1)[0]))


class TorchWorkloadMixin:
    """Param bookkeeping and a generic eval loop for PyTorch workloads.

    A workload using it implements ``_eval_split_arrays(split, data_dir)`` (numpy arrays of a
    split) and ``_eval_batch_sums(params, batch, model_state, rng) -> {name: summed value}``;
    metrics are the sums divided by the number of real examples unless
    ``_finalize_metrics`` says otherwise.
    """

    framework = "pytorch"

    def _register_params(self, model: torch.nn.Module) -> None:
        self._param_shapes = pytorch_param_shapes(model)
        self._param_types = pytorch_param_types(self._param_shapes)

    @staticmethod
    def _set_mode(model: torch.nn.Module, mode: spec.ForwardPassMode,
                  update_batch_norm: bool) -> None:
        if mode == spec.ForwardPassMode.TRAIN:
            model.train()
        else:
            model.eval()
        model.apply(lambda m: update_batch_norm_fn(m, update_batch_norm))

    def _eval_model_on_split(self, split: str, num_examples: int, global_batch_size: int,
                             params: Any, model_state: Any, rng: Any, data_dir: str | None,
                             global_step: int = 0) -> dict[str, float]:
        del global_step
        totals: dict[str, float] = {}
        dev = device()
        with torch.no_grad():
            for batch in self._eval_batches(split, num_examples, global_batch_size, data_dir):
                sums = self._eval_batch_sums(params, to_torch(batch, dev), model_state, rng)
                for key, value in sums.items():
                    totals[key] = totals.get(key, 0.0) + float(value)
        return self._finalize_metrics(totals, num_examples)

    def _finalize_metrics(self, totals: dict[str, float], num_examples: int) -> dict[str, float]:
        count = totals.pop("num_examples", num_examples)
        return {k: v / count for k, v in totals.items()}
