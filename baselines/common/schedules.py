"""The baselines' learning-rate schedules, each written once for Python steps and JAX counts.

A schedule is a function ``step -> learning rate``. Called with a Python int it returns a
float (the PyTorch step sets it on the optimizer before each update, the JAX step logs it);
called with a JAX array (optax's update count) it returns a float32 array, so optax can
trace it. A baseline names
its schedule as a function of the hyperparameters and the workload's ``step_hint``
(:func:`cosine_schedule`, :func:`linear_decay_schedule`).

    >>> warmup_cosine(1.0, warmup_steps=10, total_steps=110)(5)
    0.5
    >>> warmup_linear_decay(1.0, warmup_steps=10, decay_steps=100, end_factor=0.01)(60)
    0.505
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

Schedule = Callable[[Any], Any]


class _Scalars:
    """The few array functions the schedules use, for plain Python numbers."""

    pi = math.pi
    cos = staticmethod(math.cos)

    @staticmethod
    def clip(x: float, low: float, high: float) -> float:
        return min(max(x, low), high)

    @staticmethod
    def where(condition: bool, a: float, b: float) -> float:
        return a if condition else b


def _numbers(step: Any) -> tuple[Any, Any]:
    """The array namespace for ``step`` and ``step`` in it (JAX counts become float32)."""
    if isinstance(step, int | float):
        return _Scalars, step
    import jax.numpy as jnp

    return jnp, jnp.asarray(step, jnp.float32)


def warmup_cosine(peak: float, warmup_steps: int, total_steps: int) -> Schedule:
    """Linear warmup from 0 to ``peak``, then a cosine to 0 at ``total_steps`` (then 0).

    For JAX counts this is optax's own ``linear_schedule`` and ``cosine_decay_schedule``
    joined at ``warmup_steps``, the arithmetic the NAdamW baseline has always traced.
    """
    decay = max(total_steps - warmup_steps, 1)

    def schedule(step: Any) -> Any:  # noqa: ANN401
        if not isinstance(step, int | float):
            return _optax_warmup_cosine(peak, warmup_steps, decay)(step)
        if step < warmup_steps:
            return peak * step / warmup_steps
        k = min(step - warmup_steps, decay)
        return peak * 0.5 * (1.0 + math.cos(math.pi * k / decay))

    return schedule


def _optax_warmup_cosine(peak: float, warmup_steps: int, decay_steps: int) -> Schedule:
    import optax

    return optax.join_schedules([optax.linear_schedule(0.0, peak, max(warmup_steps, 1)),
                                 optax.cosine_decay_schedule(peak, decay_steps)],
                                [warmup_steps])


def warmup_linear_decay(peak: float, warmup_steps: int, decay_steps: int,
                        end_factor: float) -> Schedule:
    """Linear warmup 0 -> ``peak``, linear decay to ``end_factor * peak``, then constant."""
    end, decay = end_factor * peak, max(decay_steps, 1)

    def schedule(step: Any) -> Any:
        xp, t = _numbers(step)
        k = xp.clip(t - warmup_steps, 0, decay)
        return xp.where(t < warmup_steps, peak * t / max(warmup_steps, 1),
                        peak + (end - peak) * k / decay)

    return schedule


def cosine_schedule(hyperparameters: Any, step_hint: int) -> Schedule:
    """NAdamW's and AdamW's schedule: warmup over ``warmup_factor * step_hint`` steps, then a
    cosine to 0 at ``step_hint``."""
    hp = hyperparameters
    return warmup_cosine(hp.learning_rate, int(hp.warmup_factor * step_hint), step_hint)


def linear_decay_schedule(hyperparameters: Any, step_hint: int) -> Schedule:
    """The SGD baselines' schedule: warmup over ``warmup_factor * step_hint`` steps, then a
    linear decay to ``end_factor * learning_rate`` over ``decay_steps_factor`` of the rest."""
    hp = hyperparameters
    warmup = int(hp.warmup_factor * step_hint)
    decay = int((step_hint - warmup) * hp.decay_steps_factor)
    return warmup_linear_decay(hp.learning_rate, warmup, decay, hp.end_factor)
