"""PyTorch pieces shared by the image-classification workloads (``imagenet_resnet``,
``imagenet_vit``): activations by name, the loss, and the accuracy/loss eval sums.

The loss is AlgoPerf's ImageNet loss: softmax cross-entropy with optional label smoothing on
integer labels or on soft labels (mixup), summed over the examples whose mask is non-zero.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from sdk.errors import PacelineError
from workloads.common.vision import ACTIVATION_NAMES

# The activations of ACTIVATION_NAMES ("gelu" is the tanh approximation).
_ACTIVATIONS = {
    "relu": lambda: nn.ReLU(),
    "silu": lambda: nn.SiLU(),
    "gelu": lambda: nn.GELU(approximate="tanh"),
    "gelu_exact": lambda: nn.GELU(),
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "elu": lambda: nn.ELU(),
    "tanh": lambda: nn.Tanh(),
}
assert tuple(_ACTIVATIONS) == ACTIVATION_NAMES


def activation(name: str) -> nn.Module:
    """A fresh activation module by name (see :data:`ACTIVATION_NAMES`)."""
    if name not in _ACTIVATIONS:
        raise PacelineError(f"Unknown activation {name!r}; choose one of "
                            f"{', '.join(ACTIVATION_NAMES)}.")
    return _ACTIVATIONS[name]()


def softmax_cross_entropy(label_batch: torch.Tensor, logits_batch: torch.Tensor,
                          mask_batch: torch.Tensor | None = None,
                          label_smoothing: float = 0.0) -> dict[str, torch.Tensor]:
    """AlgoPerf's ``loss_fn`` for image classification (integer or soft labels)."""
    per_example = F.cross_entropy(logits_batch, label_batch, reduction="none",
                                  label_smoothing=label_smoothing)
    if mask_batch is not None:
        per_example = per_example * mask_batch
        n_valid = mask_batch.sum()
    else:
        n_valid = torch.tensor(float(len(per_example)), device=per_example.device)
    return {"summed": per_example.sum(), "n_valid_examples": n_valid,
            "per_example": per_example}


def accuracy_and_loss_sums(logits: torch.Tensor, labels: torch.Tensor,
                           weights: torch.Tensor) -> dict[str, torch.Tensor]:
    """Weighted number of correct top-1 predictions, summed loss and example weight."""
    correct = (logits.argmax(dim=-1) == labels).to(weights.dtype)
    loss = softmax_cross_entropy(labels, logits, weights)["summed"]
    return {"accuracy": (correct * weights).sum(), "loss": loss, "num_examples": weights.sum()}


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters (shared tensors once; BN running statistics are buffers)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def build_on_meta(factory: Any) -> nn.Module:
    """Build a model without allocating its weights (for counting official-size models)."""
    with torch.device("meta"):
        return factory()
