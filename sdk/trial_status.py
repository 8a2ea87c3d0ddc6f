"""How a trial ended: the status names of ``paceline_trial.json``, and when a trial is cut off.

A trial is a unit of failure. Whatever goes wrong inside it (the submission raises, calls
``sys.exit``, returns something the API does not allow, the loss becomes NaN, its process
crashes, or it runs past the watchdog) ends that trial alone, as a recorded miss with its
reason; the study goes on with the next trial, and ``--resume`` keeps the record as it is.

The watchdog: a trial may take at most ``WATCHDOG_FACTOR`` times its budget plus
``WATCHDOG_GRACE_SEC`` of wall-clock time (its evaluations, logging and setup are untimed by
the rules but take wall time, hence the allowance). ``$PACELINE_WATCHDOG_FACTOR`` and
``$PACELINE_WATCHDOG_GRACE_SEC`` change the two (a slow machine, or a test that needs a
watchdog of seconds).

Under the dev clock the limit counts the trial process's CPU time instead, in this machine's
seconds (the budget divided by the clock's normalisation scale), so a busy or suspended
machine does not stop a trial the dev clock itself would let finish; a wall-clock backstop of
``WALL_BACKSTOP`` times that limit still stops a trial that hangs without using the CPU.

    >>> watchdog_limit(20.0, factor=3.0, grace_sec=600.0)
    660.0
    >>> dev_clock_limits(20.0, scale=0.5, factor=3.0, grace_sec=600.0)
    (720.0, 2880.0)
"""

from __future__ import annotations

import os
from enum import StrEnum


class TrialStatus(StrEnum):
    """Every status a trial's ``paceline_trial.json`` can hold (plain strings on disk)."""

    RUNNING = "running"
    # finished, with a result the scorer reads
    TARGETS_REACHED = "targets_reached"
    BUDGET_EXHAUSTED = "budget_exhausted"
    MAX_GLOBAL_STEPS = "max_global_steps"
    TRAINING_COMPLETE = "training_complete"
    STOPPED_EARLY = "stopped_early"
    # failures of the trial itself: a miss, with the reason recorded next to the status
    DIVERGED = "diverged"
    FAILED = "failed"
    CRASHED = "crashed"
    TIMED_OUT = "timed_out"


# The trial failed for a reason of its own: the loss diverged, the submission raised or
# exited (failed), its process died (crashed), or the watchdog stopped it (timed_out).
FAILURES = frozenset({TrialStatus.DIVERGED, TrialStatus.FAILED, TrialStatus.CRASHED,
                      TrialStatus.TIMED_OUT})

WATCHDOG_FACTOR = 3.0
WATCHDOG_GRACE_SEC = 600.0
GRACE_VARIABLE = "PACELINE_WATCHDOG_GRACE_SEC"
FACTOR_VARIABLE = "PACELINE_WATCHDOG_FACTOR"
# Under the dev clock: the wall-clock limit, as a multiple of the CPU-time limit (hangs).
WALL_BACKSTOP = 4.0
# Written by Python's faulthandler when a trial's process dies of a fatal signal (segfault).
CRASH_LOG = "paceline_crash.log"


def _from_environment(name: str, default: float) -> float:
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0 or value == float("inf"):
        from sdk.errors import PacelineError

        raise PacelineError(f"${name} must be a finite number >= 0, got {text!r}.")
    return value


def watchdog_limit(budget_sec: float, factor: float | None = None,
                   grace_sec: float | None = None) -> float:
    """Wall-clock seconds after which a trial with this budget is stopped as ``timed_out``.

    ``factor`` and ``grace_sec`` default to the environment's, else to ``WATCHDOG_FACTOR``
    and ``WATCHDOG_GRACE_SEC``.
    """
    if factor is None:
        factor = _from_environment(FACTOR_VARIABLE, WATCHDOG_FACTOR)
    if grace_sec is None:
        grace_sec = _from_environment(GRACE_VARIABLE, WATCHDOG_GRACE_SEC)
    return factor * float(budget_sec) + grace_sec


def dev_clock_limits(budget_sec: float, scale: float, factor: float | None = None,
                     grace_sec: float | None = None) -> tuple[float, float]:
    """``(CPU seconds, wall-clock seconds)`` after which a dev-clock trial is stopped.

    ``budget_sec`` is in calibration-machine seconds and ``scale`` is the machine's dev-clock
    normalisation (calibration-machine seconds per CPU second here), so the CPU limit is
    :func:`watchdog_limit` of the budget in this machine's CPU seconds.
    """
    cpu = watchdog_limit(float(budget_sec) / max(float(scale), 1e-6), factor, grace_sec)
    return cpu, WALL_BACKSTOP * cpu


def is_failure(status: str) -> bool:
    """Whether ``status`` is one of :data:`FAILURES`."""
    return status in FAILURES


__all__ = ["CRASH_LOG", "FAILURES", "WALL_BACKSTOP", "TrialStatus", "WATCHDOG_FACTOR",
           "WATCHDOG_GRACE_SEC", "dev_clock_limits", "is_failure", "watchdog_limit"]
