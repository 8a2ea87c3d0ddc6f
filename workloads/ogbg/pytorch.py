"""ogbg in PyTorch (dev scale): the workload class and its official variants.

    paceline run --workload ogbg --framework pytorch --submission nadamw
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from sdk import spec
from workloads.common.torch_base import TorchWorkloadMixin, device, seed_torch
from workloads.ogbg import config
from workloads.ogbg.batching import GraphsTuple
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
    framework = "pytorch"

    def init_model_fn(self, rng: spec.RandomState, dropout_rate: float | None = None,
                      aux_dropout_rate: float | None = None) -> spec.ModelInitState:
        if dropout_rate is not None or aux_dropout_rate is not None:
            self.set_init_dropout(dropout_rate, aux_dropout_rate)
        seed_torch(rng)
        model = GNN(self.model_config).to(device())
        self._register_params(model)
        return model, None

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key.startswith("decoder.")

    def _build_input_queue(self, data_rng: spec.RandomState, split: str, data_dir: str,
                           global_batch_size: int, cache: bool | None = None,
                           repeat_final_dataset: bool | None = None,
                           num_batches: int | None = None):
        del cache, repeat_final_dataset, num_batches
        dev = device()
        if split != "train":
            return (batch_to_torch(b, dev) for b in
                    self._eval_batches(split, 10**9, global_batch_size, data_dir))
        batches = self._train_batches(data_rng, data_dir, global_batch_size)
        batches.transform = lambda b: batch_to_torch(b, dev)
        return batches

    def model_fn(self, params: torch.nn.Module,
                 augmented_and_preprocessed_input_batch: dict[str, Any], model_state: Any,
                 mode: spec.ForwardPassMode, rng: spec.RandomState, update_batch_norm: bool,
                 dropout_rate: float | None = None) -> tuple[torch.Tensor, Any]:
        del rng, update_batch_norm
        rate = self.resolve_dropout(dropout_rate, self.model_config.dropout_rate)
        train = mode == spec.ForwardPassMode.TRAIN
        params.train(train)
        with torch.set_grad_enabled(train):
            logits = params(augmented_and_preprocessed_input_batch["inputs"], rate)
        return logits, model_state

    def loss_fn(self, label_batch: torch.Tensor, logits_batch: torch.Tensor,
                mask_batch: torch.Tensor | None = None,
                label_smoothing: float = 0.0) -> dict[str, torch.Tensor]:
        per_example = sigmoid_bce(logits_batch, label_batch, label_smoothing)
        if mask_batch is not None:
            mask = mask_batch.to(per_example.dtype)
            per_example = per_example * mask
            n_valid = mask.sum()
        else:
            n_valid = torch.tensor(float(per_example.numel()), device=per_example.device)
        return {"summed": per_example.sum(), "n_valid_examples": n_valid,
                "per_example": per_example}

    def _eval_model_on_split(self, split: str, num_examples: int, global_batch_size: int,
                             params: Any, model_state: Any, rng: Any, data_dir: str | None,
                             global_step: int = 0) -> dict[str, float]:
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


class OgbgPyTorchDev(OgbgPyTorchWorkload):
    scale = "dev"


class OgbgGeluPyTorchDev(OgbgPyTorchDev):
    name = "ogbg_gelu"
    variant_overrides = config.VARIANTS["ogbg_gelu"]["dev"]


class OgbgSiluPyTorchDev(OgbgPyTorchDev):
    name = "ogbg_silu"
    variant_overrides = config.VARIANTS["ogbg_silu"]["dev"]


class OgbgModelSizePyTorchDev(OgbgPyTorchDev):
    name = "ogbg_model_size"
    variant_overrides = config.VARIANTS["ogbg_model_size"]["dev"]
