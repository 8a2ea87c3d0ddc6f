"""The PyTorch side shared by the image-classification workloads: the loss and eval sums of a
softmax classifier (also MNIST's), and for the dev ImageNet workloads NCHW batches and a
batch-norm aware ``model_fn``.

A family class adds ``_build_model()`` (an ``nn.Module`` from ``self.model_config``),
``is_output_params`` and, if its model takes a dropout rate, ``_forward``.

    paceline run --scale dev --workload imagenet_resnet --submission nadamw
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from sdk import spec
from workloads.common.torch_base import TorchWorkloadMixin, to_torch
from workloads.common.vision_torch import accuracy_and_loss_sums, softmax_cross_entropy


def to_torch_nchw(batch: dict[str, Any], dev: torch.device | None = None) -> dict[str, Any]:
    """A numpy NHWC image batch as torch tensors with NCHW ``inputs``.

    The inputs keep their NHWC memory order (``torch.channels_last``), which CPU convolutions,
    batch norm and pooling run much faster on than the default order.
    """
    out = to_torch(batch, dev)
    out["inputs"] = out["inputs"].permute(0, 3, 1, 2)
    return out


class TorchClassifierMixin(TorchWorkloadMixin):
    """``loss_fn`` and eval sums of a softmax classifier (MNIST and the dev ImageNet families)."""

    def loss_fn(self, label_batch: torch.Tensor, logits_batch: torch.Tensor,
                mask_batch: torch.Tensor | None = None,
                label_smoothing: float = 0.0) -> dict[str, torch.Tensor]:
        return softmax_cross_entropy(label_batch, logits_batch, mask_batch, label_smoothing)

    def _eval_batch_sums(self, params: nn.Module, batch: dict[str, torch.Tensor],
                         model_state: Any, rng: Any) -> dict[str, torch.Tensor]:
        logits, _ = self.model_fn(params, batch, model_state, spec.ForwardPassMode.EVAL, rng,
                                  update_batch_norm=False)
        return accuracy_and_loss_sums(logits, batch["targets"], batch["weights"])


class TorchImageWorkloadMixin(TorchClassifierMixin):
    """NCHW input queues and a ``model_fn`` that handles batch norm."""

    def _to_device(self, batch: dict[str, Any], dev: torch.device) -> dict[str, Any]:
        return to_torch_nchw(batch, dev)

    def _forward(self, model: nn.Module, inputs: torch.Tensor, dropout_rate: float) -> torch.Tensor:
        """The logits; the default model takes no dropout rate."""
        del dropout_rate
        return model(inputs)

    def model_fn(self, params: nn.Module, augmented_and_preprocessed_input_batch: dict[str, Any],
                 model_state: Any, mode: spec.ForwardPassMode, rng: spec.RandomState,
                 update_batch_norm: bool, dropout_rate: float | None = None
                 ) -> tuple[torch.Tensor, Any]:
        """The logits; batch norm updates its running statistics only if
        ``update_batch_norm``, and gradients are recorded in training only."""
        del rng
        if mode == spec.ForwardPassMode.EVAL and update_batch_norm:
            raise ValueError("Batch norm statistics cannot be updated during evaluation.")
        rate = self.resolve_dropout(dropout_rate, self._default_dropout_rate)
        self._set_mode(params, mode, update_batch_norm)
        with torch.set_grad_enabled(mode == spec.ForwardPassMode.TRAIN and torch.is_grad_enabled()):
            logits = self._forward(params, augmented_and_preprocessed_input_batch["inputs"], rate)
        return logits, model_state
