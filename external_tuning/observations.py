"""What one finished trial tells a search, and the number a search minimises.

A trial that reached the validation target gives its time-to-target ``t`` (submission seconds at
the first eval at or beyond the target, the scorer's rule). Every other trial is *censored*:
it ran out of budget, was stopped early, diverged or raised, so all we know is that its
time-to-target is larger than what it had. Paceline imputes a time for it:

* a trial with a validation curve: the late trend of its best-so-far curve (least squares over
  the evals in the second half of its time) is extrapolated to the target; the result is clipped to
  ``[budget, cap * budget]`` (a trial cut short before its budget, e.g. by
  ``--max-global-steps``, is extrapolated from the budget on), so a miss never ranks above a
  hit and a near miss ranks above a far one;
* the trend is never taken below what the curve's own noise can resolve: the median change
  from one eval to the next over that second half, per the width of it. A best-so-far that
  stayed flat there because the evals scatter around a slow descent (criteo1tb's loss moves
  by about 0.002 an eval) says only that the pace is below the noise, not that it is zero; so
  a near miss gets a time near the budget and a far one a time near the cap, ranked by its gap
  in units of that noise, where a zero slope would value both as if they had diverged;
* a trial that diverged, raised, or whose curve neither improves nor scatters: ``cap * budget``.

``cap`` defaults to the benchmark's ``r_max`` (4): beyond 4x the fastest time a workload gives
no credit, so nothing is gained by telling worse misses apart.

The objective a search minimises is ``log(t / budget)`` (negative for hits). For one
configuration shared by several workloads it is the mean of that over workloads: the log of the
geometric mean of ``t / budget``. The benchmark's ratios are scale-free per workload, so any
per-workload normalisation ranks configurations the same way; the log keeps one slow workload
from dominating.

    >>> obs = Observation.from_time(10.0, budget=20.0)
    >>> round(objective(obs), 4)
    -0.6931
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any

from sdk.rulesets import DEFAULT_VERSION, get_ruleset
from sdk.target_reach import best_so_far, first_reaching_index
from sdk.trial_status import FAILURES, TrialStatus

DEFAULT_CAP = get_ruleset(DEFAULT_VERSION).r_max
# Statuses whose curve says nothing about how close the configuration came: the trial
# diverged, raised, crashed or was stopped by the watchdog.
HOPELESS = FAILURES


@dataclass(frozen=True)
class Observation:
    """One trial of one configuration on one workload, as the search sees it.

    ``curve`` holds ``(submission seconds, validation metric)`` per eval, in eval order.
    ``time_to_target`` is ``None`` for a miss.
    """

    workload: str
    status: str
    time_to_target: float | None
    budget: float
    target: float | None = None
    minimized: bool = False
    curve: tuple[tuple[float, float], ...] = ()
    reason: str = ""
    trial_dir: str | None = None
    global_step: int = 0

    @property
    def reached(self) -> bool:
        return self.time_to_target is not None

    @property
    def eval_index(self) -> int | None:
        """Index of the first eval at or beyond the target (the scorer's trial rule)."""
        if not self.reached or self.target is None:
            return None
        return first_reaching_index([v for _, v in self.curve], self.target, self.minimized)

    @property
    def best_value(self) -> float | None:
        finite = [v for _, v in self.curve if math.isfinite(v)]
        if not finite:
            return None
        return min(finite) if self.minimized else max(finite)

    @classmethod
    def from_time(cls, time_to_target: float | None, budget: float,
                  workload: str = "objective", status: str | None = None) -> Observation:
        """An observation from a bare time-to-target (``None`` or ``inf``: a miss)."""
        if not budget > 0:
            raise ValueError(f"The budget must be positive, got {budget}.")
        if time_to_target is not None and not math.isfinite(time_to_target):
            time_to_target = None
        status = status or (TrialStatus.TARGETS_REACHED if time_to_target is not None
                            else "missed")
        return cls(workload=workload, status=status, time_to_target=time_to_target,
                   budget=float(budget))

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["curve"] = [list(p) for p in self.curve]
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Observation:
        fields = dict(data)
        fields["curve"] = tuple((float(t), _num(v)) for t, v in fields.get("curve", ()))
        return cls(**fields)


def _num(value: Any) -> float:
    return math.nan if value is None else float(value)


def imputed_time(obs: Observation, cap: float = DEFAULT_CAP, noise_floor: bool = True) -> float:
    """The observed time-to-target, or the imputed one for a censored trial (see module doc).

    ``noise_floor=False`` takes the late trend as it is, flat where noise hides it (the rule
    before the floor; ``benchmarks/bench_censoring.py`` compares the two).
    """
    if obs.time_to_target is not None:
        return float(obs.time_to_target)
    worst = cap * obs.budget
    if obs.status in HOPELESS or obs.target is None:
        return worst
    envelope = best_so_far(obs.curve, obs.minimized)
    if len(envelope) < 2:
        return worst
    goal = obs.target if not obs.minimized else -obs.target
    t_last = envelope[-1][0]
    late = [p for p in envelope if p[0] >= t_last / 2]
    late = late if len(late) >= 2 else envelope[-2:]
    slope = _slope(late)
    if noise_floor:
        slope = max(slope, resolvable_slope(obs.curve, obs.minimized, since=late[0][0]))
    if not slope > 0:
        return worst
    t_last, v_last = envelope[-1]
    # Never before the budget (a miss is a miss), and ranked by the gap left at the late pace.
    estimate = max(t_last, obs.budget) + (goal - v_last) / slope
    return min(estimate, worst)


def resolvable_slope(curve: Sequence[tuple[float, float]], minimized: bool,
                     since: float) -> float:
    """The smallest pace the curve's evals from ``since`` on can tell from none.

    The median absolute change from one eval to the next (the curve's noise), per the time
    those evals span; 0 with fewer than two of them or when they do not move.

        >>> round(resolvable_slope([(0, 0.5), (10, 0.48), (20, 0.49), (30, 0.47)], True, 10), 6)
        0.00075
    """
    late = [(t, v) for t, v in curve if math.isfinite(t) and math.isfinite(v) and t >= since]
    if len(late) < 2 or late[-1][0] <= late[0][0]:
        return 0.0
    noise = statistics.median(abs(b - a) for (_, a), (_, b) in pairwise(late))
    return noise / (late[-1][0] - late[0][0])


def _slope(points: Sequence[tuple[float, float]]) -> float:
    """Least-squares slope of value over time (0 when time does not vary)."""
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mv = sum(v for _, v in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    if var <= 0:
        return 0.0
    return sum((t - mt) * (v - mv) for t, v in points) / var


def objective(obs: Observation, cap: float = DEFAULT_CAP) -> float:
    """``log(t / budget)`` with ``t`` observed or imputed: what a search minimises."""
    return math.log(imputed_time(obs, cap) / obs.budget)


def shared_objective(observations: Mapping[str, Observation], cap: float = DEFAULT_CAP) -> float:
    """One configuration on several workloads: the mean of the per-workload objectives."""
    if not observations:
        raise ValueError("A shared objective needs at least one workload's observation.")
    return sum(objective(o, cap) for o in observations.values()) / len(observations)


@dataclass
class TrialRecord:
    """One configuration a search asked for, and what each workload said about it."""

    index: int
    hyperparameters: dict[str, Any]
    observations: dict[str, Observation] = field(default_factory=dict)
    objective: float | None = None
    source: str = ""  # how the strategy chose the point ("quasi-random", "bayesian", ...)

    @property
    def complete(self) -> bool:
        return self.objective is not None

    def time_to_target(self, workload: str | None = None) -> float | None:
        """The observed time-to-target on ``workload`` (the only one if omitted)."""
        if workload is None:
            if len(self.observations) != 1:
                return None
            workload = next(iter(self.observations))
        obs = self.observations.get(workload)
        return obs.time_to_target if obs is not None else None

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "hyperparameters": self.hyperparameters,
            "observations": {w: o.to_json() for w, o in self.observations.items()},
            "objective": self.objective,
            "source": self.source,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TrialRecord:
        return cls(
            index=int(data["index"]),
            hyperparameters=dict(data["hyperparameters"]),
            observations={w: Observation.from_json(o)
                          for w, o in data.get("observations", {}).items()},
            objective=data.get("objective"),
            source=data.get("source", ""),
        )
