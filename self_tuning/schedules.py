"""Learning-rate schedules keyed to the fraction of the time budget, not to ``step_hint``.

A schedule here is a plain function ``f -> multiplier`` of the fraction ``f`` of a time
window that has passed (0 at its start, 1 at its end); the peak learning rate multiplies it.
Pieces compose by multiplication (:func:`multiply`), and :class:`TimeSchedule` turns one into
a learning rate for *this* step from a :class:`~self_tuning.budget.BudgetSnapshot`. Because the
fraction is re-read from the clock at every step, the schedule reaches its end when the time
window ends, whatever the step time did on the way; a step-indexed schedule sized with
``step_hint`` (or with an early step-time measurement) ends too early or too late as soon as
steps get faster or slower.

With warmup length ``w``, decay window ``[s, e]`` and final multiplier ``m``::

    linear_warmup:          min(1, f / w)
    cosine_decay:           m + (1 - m) * (1 + cos(pi * p)) / 2,   p = clip((f - s) / (e - s), 0, 1)
    linear_decay:           1 - (1 - m) * p
    sqrt_decay:             1 - (1 - m) * sqrt(p)
    warmup_cosine(w):       linear_warmup(w) * cosine_decay(s=w)
    warmup_constant_decay:  linear_warmup(w) * <shape>_decay(s, e)   ("trapezoid", WSD)

    >>> sched = warmup_cosine(warmup=0.1)
    >>> [round(sched(f), 3) for f in (0.0, 0.05, 0.1, 0.55, 1.0)]
    [0.0, 0.5, 1.0, 0.5, 0.0]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from sdk.frameworks.checkpoints import checkpointable
from self_tuning.budget import BudgetSnapshot

Schedule = Callable[[float], float]
"""A learning-rate multiplier as a function of the fraction of the time window passed."""


def _progress(f: float, start: float, end: float) -> float:
    if end <= start:
        return 1.0 if f >= start else 0.0
    return min(max((f - start) / (end - start), 0.0), 1.0)


def _check_fraction(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a fraction in [0, 1], got {value}.")


# The pieces are small frozen dataclasses rather than closures, so a submission can keep them
# in its optimizer state and the runner can checkpoint them (closures do not pickle).


@checkpointable
@dataclass(frozen=True)
class Constant:
    value: float = 1.0

    def __call__(self, f: float) -> float:
        return self.value


@checkpointable
@dataclass(frozen=True)
class LinearWarmup:
    warmup: float

    def __call__(self, f: float) -> float:
        return 1.0 if self.warmup == 0 else min(max(f / self.warmup, 0.0), 1.0)


@checkpointable
@dataclass(frozen=True)
class Decay:
    """1 until ``start``, then ``shape`` down to ``final`` at ``end``, then ``final``."""

    start: float = 0.0
    end: float = 1.0
    final: float = 0.0
    shape: str = "cosine"

    def __call__(self, f: float) -> float:
        p = _progress(f, self.start, self.end)
        if self.shape == "cosine":
            return self.final + (1.0 - self.final) * 0.5 * (1.0 + math.cos(math.pi * p))
        if self.shape == "linear":
            return 1.0 - (1.0 - self.final) * p
        return 1.0 - (1.0 - self.final) * math.sqrt(p)


@checkpointable
@dataclass(frozen=True)
class Product:
    schedules: tuple[Schedule, ...]

    def __call__(self, f: float) -> float:
        out = 1.0
        for s in self.schedules:
            out *= s(f)
        return out


DECAY_SHAPES = ("cosine", "linear", "sqrt")


def constant(value: float = 1.0) -> Schedule:
    """``f -> value``."""
    return Constant(value)


def linear_warmup(warmup: float) -> Schedule:
    """Rise linearly from 0 to 1 over the first ``warmup`` of the window, then stay at 1."""
    _check_fraction("warmup", warmup)
    return LinearWarmup(warmup)


def _decay(start: float, end: float, final: float, shape: str) -> Schedule:
    _check_fraction("start", start)
    _check_fraction("end", end)
    if shape not in DECAY_SHAPES:
        raise ValueError(f"Unknown decay shape {shape!r}; choose one of "
                         f"{', '.join(DECAY_SHAPES)}.")
    return Decay(start, end, final, shape)


def cosine_decay(start: float = 0.0, end: float = 1.0, final: float = 0.0) -> Schedule:
    """1 until ``start``, a half cosine down to ``final`` at ``end``, then ``final``."""
    return _decay(start, end, final, "cosine")


def linear_decay(start: float = 0.0, end: float = 1.0, final: float = 0.0) -> Schedule:
    """1 until ``start``, a straight line down to ``final`` at ``end``, then ``final``."""
    return _decay(start, end, final, "linear")


def sqrt_decay(start: float = 0.0, end: float = 1.0, final: float = 0.0) -> Schedule:
    """1 until ``start``, then ``1 - (1 - final) * sqrt(progress)`` (a fast first drop)."""
    return _decay(start, end, final, "sqrt")


def multiply(*schedules: Schedule) -> Schedule:
    """The product of several schedules (e.g. a warmup and a decay)."""
    return Product(tuple(schedules))


def warmup_cosine(warmup: float = 0.02, end: float = 1.0, final: float = 0.0) -> Schedule:
    """Linear warmup, then cosine decay from the end of warmup to ``end``."""
    return multiply(linear_warmup(warmup), cosine_decay(warmup, end, final))


def warmup_linear(warmup: float = 0.02, end: float = 1.0, final: float = 0.0) -> Schedule:
    """Linear warmup, then linear decay from the end of warmup to ``end``."""
    return multiply(linear_warmup(warmup), linear_decay(warmup, end, final))


def warmup_constant_decay(warmup: float = 0.02, decay_start: float = 0.8, end: float = 1.0,
                          final: float = 0.0, shape: str = "linear") -> Schedule:
    """Warmup, hold the peak until ``decay_start``, then decay (``shape``) to ``final`` at ``end``.

    Also called trapezoidal or warmup-stable-decay (WSD).
    """
    if decay_start < warmup:
        raise ValueError(f"decay_start ({decay_start}) must not come before the end of warmup "
                         f"({warmup}).")
    return multiply(linear_warmup(warmup), _decay(decay_start, end, final, shape))


@checkpointable
class TimeSchedule:
    """Per-step learning rates from a fraction-of-time schedule.

    The window runs from ``start_sec`` to ``end_sec`` of submission time; ``end_sec=None``
    means the whole budget. For step ``t`` with elapsed submission time ``e_t``::

        lr_t = peak * schedule((e_t - start_sec) / (end_sec - start_sec))

    Args:
        schedule: a :data:`Schedule`.
        peak: the learning rate at multiplier 1.
        start_sec: where the window starts (e.g. when a race ended).
        end_sec: where it ends (e.g. ``guard.horizon_sec(snapshot)``), or ``None``.

        >>> from self_tuning.budget import BudgetSnapshot
        >>> snap = BudgetSnapshot(100.0, 50.0, 0.1, 0.0, 500, 100.0, 1.0, "train_state")
        >>> TimeSchedule(linear_decay(), peak=0.1).lr(snap)
        0.05
    """

    def __init__(self, schedule: Schedule, peak: float, start_sec: float = 0.0,
                 end_sec: float | None = None) -> None:
        self.schedule = schedule
        self.peak = float(peak)
        self.start_sec = float(start_sec)
        self.end_sec = end_sec

    def fraction(self, snap: BudgetSnapshot, end_sec: float | None = None) -> float:
        """Progress through the window at this snapshot, in [0, 1]."""
        end = end_sec if end_sec is not None else self.end_sec
        return snap.fraction_of(snap.budget_sec if end is None else end, self.start_sec)

    def lr(self, snap: BudgetSnapshot, end_sec: float | None = None) -> float:
        """The learning rate for the step that starts at ``snap`` (``end_sec`` overrides)."""
        return self.peak * self.schedule(self.fraction(snap, end_sec))

    def as_step_fn(self, snap: BudgetSnapshot,
                   end_sec: float | None = None) -> Callable[[int], float]:
        """A step-indexed schedule projected from ``snap`` with its current step time.

        For APIs that want ``step -> lr`` (an optax schedule, a torch ``LambdaLR``): step
        ``snap.global_step + k`` is assumed to start ``k * step_time_sec`` later. Rebuild it
        from a fresh snapshot now and then, and the projection follows the real step time.
        """
        end = end_sec if end_sec is not None else self.end_sec
        end = snap.budget_sec if end is None else end
        step_time = snap.step_time_sec or 0.0
        base_step, base_elapsed = snap.global_step, snap.elapsed_sec
        span = end - self.start_sec

        def fn(step: int) -> float:
            elapsed = base_elapsed + (int(step) - base_step) * step_time
            f = 1.0 if span <= 0 else min(max((elapsed - self.start_sec) / span, 0.0), 1.0)
            return self.peak * self.schedule(f)

        return fn
