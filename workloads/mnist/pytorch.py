"""MNIST in PyTorch (both scales)."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from sdk import spec
from sdk.frameworks.init_utils import pytorch_default_init
from workloads.common.torch_base import TorchWorkloadMixin, device, seed_torch, to_torch
from workloads.mnist.workload import MnistWorkload


class MnistNet(nn.Module):
    """Flatten 28x28 -> Linear 784->128 -> sigmoid -> Linear 128->10 (101,770 parameters)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(OrderedDict([
            ("layer1", nn.Linear(28 * 28, 128)),
            ("layer1_sig", nn.Sigmoid()),
            ("layer2", nn.Linear(128, 10)),
        ]))
        for module in self.modules():
            if isinstance(module, nn.Linear):
                pytorch_default_init(module)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.reshape(x.shape[0], -1))


class MnistPyTorchWorkload(TorchWorkloadMixin, MnistWorkload):
    framework = "pytorch"

    def init_model_fn(self, rng: spec.RandomState, dropout_rate: float | None = None,
                      aux_dropout_rate: float | None = None) -> spec.ModelInitState:
        del dropout_rate, aux_dropout_rate  # MNIST has no dropout
        seed_torch(rng)
        model = MnistNet().to(device())
        self._register_params(model)
        return model, None

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key.startswith("net.layer2.")

    def _build_input_queue(self, data_rng: spec.RandomState, split: str, data_dir: str,
                           global_batch_size: int, cache: bool | None = None,
                           repeat_final_dataset: bool | None = None,
                           num_batches: int | None = None):
        del cache, repeat_final_dataset, num_batches
        if split != "train":
            return (to_torch(b) for b in
                    self._eval_batches(split, 10**9, global_batch_size, data_dir))
        batches = self._numpy_train_batches(data_rng, data_dir, global_batch_size)
        dev = device()
        batches.transform = lambda b: to_torch(b, dev)
        return batches

    def model_fn(self, params: nn.Module, augmented_and_preprocessed_input_batch: dict[str, Any],
                 model_state: Any, mode: spec.ForwardPassMode, rng: spec.RandomState,
                 update_batch_norm: bool, dropout_rate: float | None = None
                 ) -> tuple[torch.Tensor, Any]:
        del rng, update_batch_norm, dropout_rate
        params.train(mode == spec.ForwardPassMode.TRAIN)
        with torch.set_grad_enabled(mode == spec.ForwardPassMode.TRAIN):
            logits = params(augmented_and_preprocessed_input_batch["inputs"])
        return logits, model_state

    def loss_fn(self, label_batch: torch.Tensor, logits_batch: torch.Tensor,
                mask_batch: torch.Tensor | None = None,
                label_smoothing: float = 0.0) -> dict[str, torch.Tensor]:
        per_example = F.cross_entropy(logits_batch, label_batch, reduction="none",
                                      label_smoothing=label_smoothing)
        if mask_batch is not None:
            per_example = per_example * mask_batch
            n_valid = mask_batch.sum()
        else:
            n_valid = torch.tensor(float(len(label_batch)), device=per_example.device)
        return {"summed": per_example.sum(), "n_valid_examples": n_valid,
                "per_example": per_example}

    def _eval_batch_sums(self, params: nn.Module, batch: dict[str, torch.Tensor],
                         model_state: Any, rng: Any) -> dict[str, torch.Tensor]:
        logits, _ = self.model_fn(params, batch, model_state, spec.ForwardPassMode.EVAL, rng,
                                  update_batch_norm=False)
        weights = batch["weights"]
        correct = (logits.argmax(dim=-1) == batch["targets"]).float()
        loss = self.loss_fn(batch["targets"], logits, weights)
        return {"accuracy": (correct * weights).sum(), "loss": loss["summed"],
                "num_examples": weights.sum()}


class MnistPyTorchDev(MnistPyTorchWorkload):
    scale = "dev"


class MnistPyTorchOfficial(MnistPyTorchWorkload):
    scale = "official"
