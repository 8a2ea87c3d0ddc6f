"""A step-time estimate that shrugs off warm-up, outliers and slow drift.

The first steps of a run are slow (JIT compilation, cuDNN autotuning, allocator warm-up),
single steps are sometimes slow (a checkpoint flush, a noisy neighbour), and the typical step
time itself drifts (thermal throttling, a longer sequence bucket, a second process on the
GPU). :class:`StepTimer` therefore

* ignores the first ``skip`` samples (until then it reports the fastest of them),
* estimates with the median of the last ``window`` samples: one outlier never moves it, and a
  lasting change of step time takes over after ``window / 2`` steps;
* also reports the mean (for summing durations), a tail quantile (how slow a bad step
  gets) and the worst step of a long window (how long a stall lasts: a busy machine pauses a
  process for tens of milliseconds now and then, a rare event the quantile does not see).

    >>> timer = StepTimer(skip=1, window=5)
    >>> for seconds in [9.0, 1.0, 1.1, 0.9, 5.0, 1.0]:
    ...     timer.add(seconds)
    >>> timer.estimate(), timer.worst()
    (1.0, 5.0)
"""

from __future__ import annotations

import math
from collections import deque
from statistics import median

from sdk.frameworks.checkpoints import checkpointable


@checkpointable
class StepTimer:
    """Running robust estimate of the duration of one training step.

    Args:
        skip: how many first samples are warm-up and ignored once later ones exist.
        window: how many recent samples the median looks at.
        worst_window: how many recent samples :meth:`worst` looks at.
    """

    def __init__(self, skip: int = 3, window: int = 64, worst_window: int = 16384) -> None:
        if skip < 0 or window < 1 or worst_window < 1:
            raise ValueError("StepTimer needs skip >= 0, window >= 1 and worst_window >= 1.")
        self.skip = int(skip)
        self.window = int(window)
        self.worst_window = int(worst_window)
        self._warmup: list[float] = []
        self._recent: deque[float] = deque(maxlen=self.window)
        # sliding-window maximum: (index, value) pairs with decreasing values
        self._maxima: deque[tuple[int, float]] = deque()
        self._settled_count = 0
        self.count = 0

    def add(self, seconds: float) -> None:
        """Record one step's duration (non-finite or negative values are ignored)."""
        if not math.isfinite(seconds) or seconds < 0:
            return
        self.count += 1
        if len(self._warmup) < self.skip:
            self._warmup.append(float(seconds))
            return
        seconds = float(seconds)
        self._recent.append(seconds)
        index = self._settled_count
        self._settled_count += 1
        while self._maxima and self._maxima[-1][1] <= seconds:
            self._maxima.pop()
        self._maxima.append((index, seconds))
        if self._maxima[0][0] <= index - self.worst_window:
            self._maxima.popleft()

    @property
    def settled(self) -> bool:
        """Whether samples after the warm-up exist."""
        return bool(self._recent)

    def estimate(self) -> float | None:
        """Median of the recent samples; during warm-up the fastest sample so far (the others
        may include compilation); ``None`` before any sample."""
        if self._recent:
            return median(self._recent)
        if self._warmup:
            return min(self._warmup)
        return None

    def mean(self) -> float | None:
        """Mean of the recent samples (unbiased for sums of durations, unlike the median)."""
        samples = self._recent or self._warmup
        return sum(samples) / len(samples) if samples else None

    def tail(self, q: float = 0.95) -> float | None:
        """The ``q`` quantile of the recent samples, how slow a bad step gets (``None`` during
        warm-up)."""
        samples = sorted(self._recent)
        if not samples:
            return None
        return samples[min(int(q * len(samples)), len(samples) - 1)]

    def worst(self) -> float | None:
        """The longest of the last ``worst_window`` samples after warm-up (``None`` before)."""
        return self._maxima[0][1] if self._maxima else None

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_recent"] = list(self._recent)
        state["_maxima"] = list(self._maxima)
        return state

    def __setstate__(self, state: dict) -> None:
        recent = state.pop("_recent")
        maxima = state.pop("_maxima", None)
        state.setdefault("worst_window", 16384)
        self.__dict__.update(state)
        self._recent = deque(recent, maxlen=self.window)
        if maxima is None:  # a checkpoint written before worst() existed
            self._settled_count = len(self._recent)
            maxima = [(self._settled_count - 1, max(self._recent))] if self._recent else []
        self._maxima = deque(maxima)
