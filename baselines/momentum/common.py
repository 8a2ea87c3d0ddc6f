"""What heavy-ball and Nesterov SGD share in both frameworks: schedule and fixed point."""

from __future__ import annotations

from collections import namedtuple
from typing import Any

# The self-tuning fixed point: the centre of the external search space (log scale for the
# log-scaled ranges, the first listed choice otherwise).
SELF_TUNING_POINT = namedtuple(
    "Hyperparameters",
    ["learning_rate", "one_minus_beta1", "warmup_factor", "weight_decay", "label_smoothing",
     "dropout_rate", "decay_steps_factor", "end_factor"],
)(0.31622776601683794, 0.03872983346207417, 0.05, 2.23606797749979e-06, 0.1, 0.0, 0.9,
  0.001)


def schedule_steps(hyperparameters: Any, step_hint: int) -> tuple[int, int]:
    """``(warmup_steps, decay_steps)`` of the warmup + linear-decay schedule."""
    warmup = int(hyperparameters.warmup_factor * step_hint)
    decay = int((step_hint - warmup) * hyperparameters.decay_steps_factor)
    return warmup, decay


def warmup_linear_decay(step: int, peak: float, warmup_steps: int, decay_steps: int,
                        end_factor: float) -> float:
    """Linear warmup 0 -> ``peak``, linear decay to ``end_factor * peak``, then constant.

    >>> warmup_linear_decay(5, 1.0, 10, 100, 0.01)
    0.5
    >>> warmup_linear_decay(60, 1.0, 10, 100, 0.01)
    0.505
    """
    if step < warmup_steps:
        return peak * step / max(warmup_steps, 1)
    k = min(step - warmup_steps, max(decay_steps, 1))
    return peak + (end_factor * peak - peak) * k / max(decay_steps, 1)
