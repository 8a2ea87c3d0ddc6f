"""What both frameworks' NAdamW submissions share: batch sizes, schedule, fixed point."""

from __future__ import annotations

import math
from collections import namedtuple

# AlgoPerf's baseline batch sizes (algoperf-spec.md §9.1); other names raise ValueError so
# the runner retries with the base workload's name.
BATCH_SIZES = {
    "criteo1tb": 262_144,
    "fastmri": 32,
    "imagenet_resnet": 1024,
    "imagenet_resnet_silu": 512,
    "imagenet_resnet_gelu": 512,
    "imagenet_vit": 1024,
    "librispeech_conformer": 256,
    "librispeech_deepspeech": 256,
    "ogbg": 512,
    "wmt": 128,
    "mnist": 16,
}

# The self-tuning baseline's fixed point: external point 5 without label smoothing.
SELF_TUNING_POINT = namedtuple(
    "Hyperparameters",
    ["dropout_rate", "learning_rate", "one_minus_beta1", "beta2", "weight_decay",
     "warmup_factor", "label_smoothing"],
)(0.1, 0.0017486387539278373, 0.06733926164, 0.9955159689799007, 0.08121616522670176, 0.02,
  0.0)


def get_batch_size(workload_name: str) -> int:
    if workload_name not in BATCH_SIZES:
        raise ValueError(f"Unsupported workload name: {workload_name}.")
    return BATCH_SIZES[workload_name]


def warmup_cosine(step: int, peak: float, warmup_steps: int, total_steps: int) -> float:
    """Linear warmup from 0 to ``peak`` over ``warmup_steps``, then cosine to 0 at ``total_steps``.

    After ``total_steps`` the rate stays at 0 (AlgoPerf's JAX behaviour).
    """
    if warmup_steps > 0 and step < warmup_steps:
        return peak * step / warmup_steps
    decay_steps = max(total_steps - warmup_steps, 1)
    k = min(step - warmup_steps, decay_steps)
    return peak * 0.5 * (1.0 + math.cos(math.pi * k / decay_steps))


def hyper(hyperparameters, name: str, default):  # noqa: ANN001
    """An optional hyperparameter (AlgoPerf baselines look these up with hasattr)."""
    return getattr(hyperparameters, name, default) if hyperparameters is not None else default
