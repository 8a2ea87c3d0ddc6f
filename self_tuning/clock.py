"""Where time comes from: the runner's clock, or a simulated clock for tests.

Every time-keeping piece of :mod:`self_tuning` reads time through a :class:`Clock`, so the
same budget arithmetic, schedules, guards and races run unchanged on a simulated clock in
tests and on the real one inside ``paceline run``.

    >>> clock = SimulatedClock()
    >>> clock.advance(1.5)
    >>> clock.now()
    1.5
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

from sdk.clock import active_clock
from sdk.frameworks.checkpoints import checkpointable


@runtime_checkable
class Clock(Protocol):
    """Anything with ``now() -> seconds``; differences between readings are durations."""

    def now(self) -> float: ...


@checkpointable
class WallClock:
    """The clock the runner times the trial with (and ``train_state`` holds readings of).

    Inside a trial that is the runner's own clock: ``time.time()`` under AlgoPerf's wall
    clock, the dev clock's charged seconds under ``--clock dev`` (:mod:`sdk.clock`); outside a
    trial, ``time.time()``.
    """

    def now(self) -> float:
        clock = active_clock()
        return clock() if clock is not None else time.time()

    def __repr__(self) -> str:
        return "WallClock()"


@checkpointable
class SimulatedClock:
    """A clock that only moves when told to: deterministic tests of time-based code.

    Args:
        start: the first reading (AlgoPerf's ``train_state`` holds epoch seconds, so tests
            that mimic it may start at any value).
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = float(start)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds`` (never backwards)."""
        if seconds < 0:
            raise ValueError(f"A clock cannot go back in time (advance({seconds})).")
        self._now += float(seconds)

    def __repr__(self) -> str:
        return f"SimulatedClock(now={self._now})"


WALL_CLOCK = WallClock()
