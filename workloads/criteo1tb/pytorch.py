"""criteo1tb in PyTorch (dev scale): the workload class and its official variants.

    paceline run --workload criteo1tb --framework pytorch --submission nadamw
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from sdk import spec
from workloads.common.torch_base import TorchWorkloadMixin, device, seed_torch, to_torch
from workloads.criteo1tb import config
from workloads.criteo1tb.model_pytorch import DlrmSmall, output_param_names
from workloads.criteo1tb.workload import Criteo1TbWorkload


def sigmoid_bce(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Per-example ``-(y log sigmoid(z) + (1 - y) log sigmoid(-z))`` on one logit each."""
    logits = logits.reshape(len(logits))
    targets = targets.reshape(len(targets)).to(logits.dtype)
    return -(targets * F.logsigmoid(logits) + (1.0 - targets) * F.logsigmoid(-logits))


class Criteo1TbPyTorchWorkload(TorchWorkloadMixin, Criteo1TbWorkload):
    framework = "pytorch"

    def init_model_fn(self, rng: spec.RandomState, dropout_rate: float | None = None,
                      aux_dropout_rate: float | None = None) -> spec.ModelInitState:
        if dropout_rate is not None or aux_dropout_rate is not None:
            self.set_init_dropout(dropout_rate, aux_dropout_rate)
        seed_torch(rng)
        model = DlrmSmall(self.model_config).to(device())
        self._register_params(model)
        return model, None

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key in output_param_names(self.model_config)

    def _build_input_queue(self, data_rng: spec.RandomState, split: str, data_dir: str,
                           global_batch_size: int, cache: bool | None = None,
                           repeat_final_dataset: bool | None = None,
                           num_batches: int | None = None):
        del cache, repeat_final_dataset, num_batches
        dev = device()
        if split != "train":
            return (to_torch(b, dev) for b in
                    self._eval_batches(split, 10**9, global_batch_size, data_dir))
        batches = self._numpy_train_batches(data_rng, data_dir, global_batch_size)
        batches.transform = lambda b: to_torch(b, dev)
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
        """Sigmoid BCE; ``label_smoothing`` is ignored, as in the official workload."""
        del label_smoothing
        per_example = sigmoid_bce(logits_batch, label_batch)
        if mask_batch is not None:
            mask = mask_batch.reshape(len(per_example)).to(per_example.dtype)
            per_example = per_example * mask
            n_valid = mask.sum()
        else:
            n_valid = torch.tensor(float(len(per_example)), device=per_example.device)
        return {"summed": per_example.sum(), "n_valid_examples": n_valid,
                "per_example": per_example}

    def _eval_batch_sums(self, params: torch.nn.Module, batch: dict[str, torch.Tensor],
                         model_state: Any, rng: Any) -> dict[str, torch.Tensor]:
        logits, _ = self.model_fn(params, batch, model_state, spec.ForwardPassMode.EVAL, rng,
                                  update_batch_norm=False)
        summed = self.loss_fn(batch["targets"], logits, batch["weights"])["summed"]
        return {"loss": summed.to(torch.float64)}

    def _finalize_metrics(self, totals: dict[str, float], num_examples: int) -> dict[str, float]:
        # Official: the summed (masked) loss over the split divided by its number of examples.
        return {"loss": totals["loss"] / num_examples}


class Criteo1TbPyTorchDev(Criteo1TbPyTorchWorkload):
    scale = "dev"


class Criteo1TbLayerNormPyTorchDev(Criteo1TbPyTorchDev):
    name = "criteo1tb_layernorm"
    variant_overrides = config.VARIANTS["criteo1tb_layernorm"]["dev"]


class Criteo1TbResNetPyTorchDev(Criteo1TbPyTorchDev):
    name = "criteo1tb_resnet"
    variant_overrides = config.VARIANTS["criteo1tb_resnet"]["dev"]


class Criteo1TbEmbedInitPyTorchDev(Criteo1TbPyTorchDev):
    name = "criteo1tb_embed_init"
    variant_overrides = config.VARIANTS["criteo1tb_embed_init"]["dev"]
