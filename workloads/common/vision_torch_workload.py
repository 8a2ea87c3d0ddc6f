"""The PyTorch side shared by the dev ImageNet workloads: input queues, loss, eval sums.

A family class adds ``_build_model()`` (an ``nn.Module`` from ``self.model_config``),
``is_output_params`` and ``_forward(model, inputs, dropout_rate)``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from sdk import spec
from workloads.common.torch_base import TorchWorkloadMixin, device, seed_torch, to_torch
from workloads.common.vision_torch import accuracy_and_loss_sums, softmax_cross_entropy


def to_torch_nchw(batch: dict[str, Any], dev: torch.device | None = None) -> dict[str, Any]:
    """A numpy NHWC image batch as torch tensors with NCHW ``inputs``.

    The inputs keep their NHWC memory order (``torch.channels_last``), which CPU convolutions,
    batch norm and pooling run much faster on than the default order.
    """
    out = to_torch(batch, dev)
    out["inputs"] = out["inputs"].permute(0, 3, 1, 2)
    return out


class TorchImageWorkloadMixin(TorchWorkloadMixin):
    """``init_model_fn``, ``_build_input_queue``, ``model_fn``, ``loss_fn`` and eval sums."""

    default_dropout_rate = 0.0
    channels_last = False  # store conv weights NHWC-ordered (see to_torch_nchw)

    def _build_model(self) -> nn.Module:
        raise NotImplementedError

    def _forward(self, model: nn.Module, inputs: torch.Tensor, dropout_rate: float) -> torch.Tensor:
        del dropout_rate
        return model(inputs)

    def init_model_fn(self, rng: spec.RandomState, dropout_rate: float | None = None,
                      aux_dropout_rate: float | None = None) -> spec.ModelInitState:
        if dropout_rate is not None or aux_dropout_rate is not None:
            self.set_init_dropout(dropout_rate, aux_dropout_rate)
        seed_torch(rng)
        model = self._build_model().to(device())
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self._register_params(model)
        return model, None

    def _build_input_queue(self, data_rng: spec.RandomState, split: str, data_dir: str,
                           global_batch_size: int, cache: bool | None = None,
                           repeat_final_dataset: bool | None = None,
                           num_batches: int | None = None):
        del cache, repeat_final_dataset, num_batches
        dev = device()
        if split != "train":
            return (to_torch_nchw(b, dev) for b in
                    self._eval_batches(split, 10**9, global_batch_size, data_dir))
        batches = self._train_batches(data_rng, data_dir, global_batch_size)
        batches.transform = lambda b: to_torch_nchw(b, dev)
        return batches

    def model_fn(self, params: nn.Module, augmented_and_preprocessed_input_batch: dict[str, Any],
                 model_state: Any, mode: spec.ForwardPassMode, rng: spec.RandomState,
                 update_batch_norm: bool, dropout_rate: float | None = None
                 ) -> tuple[torch.Tensor, Any]:
        del rng
        if mode == spec.ForwardPassMode.EVAL and update_batch_norm:
            raise ValueError("Batch norm statistics cannot be updated during evaluation.")
        rate = self.resolve_dropout(dropout_rate, self.default_dropout_rate)
        self._set_mode(params, mode, update_batch_norm)
        with torch.set_grad_enabled(mode == spec.ForwardPassMode.TRAIN and torch.is_grad_enabled()):
            logits = self._forward(params, augmented_and_preprocessed_input_batch["inputs"], rate)
        return logits, model_state

    def loss_fn(self, label_batch: torch.Tensor, logits_batch: torch.Tensor,
                mask_batch: torch.Tensor | None = None,
                label_smoothing: float = 0.0) -> dict[str, torch.Tensor]:
        return softmax_cross_entropy(label_batch, logits_batch, mask_batch, label_smoothing)

    def _eval_batch_sums(self, params: nn.Module, batch: dict[str, torch.Tensor],
                         model_state: Any, rng: Any) -> dict[str, torch.Tensor]:
        logits, _ = self.model_fn(params, batch, model_state, spec.ForwardPassMode.EVAL, rng,
                                  update_batch_norm=False)
        return accuracy_and_loss_sums(logits, batch["targets"], batch["weights"])

    def _eval_model_on_split(self, split: str, num_examples: int, global_batch_size: int,
                             params: Any, model_state: Any, rng: Any, data_dir: str | None,
                             global_step: int = 0) -> dict[str, float]:
        del global_step
        totals: dict[str, float] = {}
        dev = device()
        with torch.no_grad():
            for batch in self._eval_batches(split, num_examples, global_batch_size, data_dir):
                sums = self._eval_batch_sums(params, to_torch_nchw(batch, dev), model_state, rng)
                for key, value in sums.items():
                    totals[key] = totals.get(key, 0.0) + float(value)
        return self._finalize_metrics(totals, num_examples)
