"""fastmri in PyTorch (dev scale): the workload class and its official variants.

    paceline run --workload fastmri --framework pytorch --submission nadamw
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from sdk import spec
from workloads.common.torch_base import TorchWorkloadMixin, device, seed_torch, to_torch
from workloads.fastmri import config
from workloads.fastmri.model_pytorch import UNet, output_param_names
from workloads.fastmri.ssim import ssim
from workloads.fastmri.workload import FastMriWorkload


class FastMriPyTorchWorkload(TorchWorkloadMixin, FastMriWorkload):
    framework = "pytorch"

    def init_model_fn(self, rng: spec.RandomState, dropout_rate: float | None = None,
                      aux_dropout_rate: float | None = None) -> spec.ModelInitState:
        if dropout_rate is not None or aux_dropout_rate is not None:
            self.set_init_dropout(dropout_rate, aux_dropout_rate)
        seed_torch(rng)
        model = UNet(self.model_config).to(device())
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
            outputs = params(augmented_and_preprocessed_input_batch["inputs"], rate)
        return outputs, model_state

    def loss_fn(self, label_batch: torch.Tensor, logits_batch: torch.Tensor,
                mask_batch: torch.Tensor | None = None,
                label_smoothing: float = 0.0) -> dict[str, torch.Tensor]:
        """Per-example mean absolute error over pixels; ``label_smoothing`` is ignored."""
        del label_smoothing
        per_example = F.l1_loss(logits_batch, label_batch, reduction="none").mean(dim=(1, 2))
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
        outputs, _ = self.model_fn(params, batch, model_state, spec.ForwardPassMode.EVAL, rng,
                                   update_batch_norm=False)
        weights = batch["weights"]
        per_example_ssim = ssim(outputs, batch["targets"], batch["mean"], batch["std"],
                                batch["volume_max"])
        loss = self.loss_fn(batch["targets"], outputs, weights)["summed"]
        return {"ssim": (per_example_ssim * weights).sum().to(torch.float64),
                "loss": loss.to(torch.float64)}

    def _finalize_metrics(self, totals: dict[str, float], num_examples: int) -> dict[str, float]:
        # Official: sums over the split divided by its number of examples.
        return {k: v / num_examples for k, v in totals.items()}


class FastMriPyTorchDev(FastMriPyTorchWorkload):
    scale = "dev"


class FastMriModelSizePyTorchDev(FastMriPyTorchDev):
    name = "fastmri_model_size"
    variant_overrides = config.VARIANTS["fastmri_model_size"]["dev"]


class FastMriTanhPyTorchDev(FastMriPyTorchDev):
    name = "fastmri_tanh"
    variant_overrides = config.VARIANTS["fastmri_tanh"]["dev"]


class FastMriLayerNormPyTorchDev(FastMriPyTorchDev):
    name = "fastmri_layernorm"
    variant_overrides = config.VARIANTS["fastmri_layernorm"]["dev"]
