"""What one finished trial tells a search, and the number a search minimises.

A trial that reached the validation target gives its time-to-target ``t`` (submission seconds at
the first eval at or beyond the target, the scorer's rule). Every other trial is *censored*:
it ran out of budget, was stopped early, diverged or raised, so all we know is that its
time-to-target is larger than what it had. Paceline imputes a time for it:

* a trial with a validation value: how far short of the target its best value ended, as a
  share of the target (its *shortfall*), counted in decades from 0.01% (valued at the budget)
  to 100% (valued at ``cap * budget``): ``t = budget * cap ** x`` with
  ``x = log10(shortfall / 1e-4) / 4`` clipped to ``[0, 1]``. So a miss never ranks above a
  hit, a near miss ranks above a far one, and 1% short is valued as far from 0.1% short on
  criteo1tb's loss (0.47) as on fastmri's SSIM (0.71);
* a trial that diverged, raised, or has no finite validation value: ``cap * budget``.

Why closeness and not a trend: measured on per-seed quasi-random studies
(``benchmarks/bench_censoring.py``), how close a miss came is what says how its configuration
does in other seeds; extrapolating its late trend to the target did not (criteo1tb: noise
keeps the best-so-far of a near miss flat, so the trend was zero and the miss valued as if
it diverged; fastmri: a steep curve far from the target extrapolated closer than a flat one
near it).

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
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from sdk.rulesets import DEFAULT_VERSION, get_ruleset
from sdk.target_reach import first_reaching_index
from sdk.target_reach import shortfall as target_shortfall
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

    @property
    def loss(self) -> float:
        """The best validation value signed so that lower is better (an accuracy's negative);
        ``inf`` when the curve has no value: the one number to rank trials by their curves.

            >>> Observation("w", "missed", None, 60.0, 0.9, False, ((5.0, 0.8),)).loss
            -0.8
        """
        best = self.best_value
        return math.inf if best is None else (best if self.minimized else -best)

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


# A miss this share of its target short is valued at the budget, and one this share short at
# the cap; the decades between are spread evenly.
SHORTFALL_AT_BUDGET = 1e-4
SHORTFALL_AT_CAP = 1.0


def shortfall(obs: Observation) -> float | None:
    """How far short of the target the trial's best value ended, as a share of the target
    (the absolute gap for a target of 0); 0 or less: at or beyond it. ``None``: no value.

        >>> o = Observation("w", "budget_exhausted", None, 60.0, 0.5, True, ((10.0, 0.51),))
        >>> round(shortfall(o), 6)
        0.02
    """
    best = obs.best_value
    if best is None or obs.target is None:
        return None
    return target_shortfall(best, obs.target, obs.minimized)


def imputed_time(obs: Observation, cap: float = DEFAULT_CAP) -> float:
    """The observed time-to-target, or the imputed one for a censored trial (see module doc).

        >>> o = Observation("w", "budget_exhausted", None, 60.0, 0.5, True, ((10.0, 0.505),))
        >>> round(imputed_time(o), 1)  # 1% short: halfway between budget and cap in log
        120.0
    """
    if obs.time_to_target is not None:
        return float(obs.time_to_target)
    short = shortfall(obs)
    if obs.status in HOPELESS or short is None:
        return cap * obs.budget
    lo, hi = math.log10(SHORTFALL_AT_BUDGET), math.log10(SHORTFALL_AT_CAP)
    x = (math.log10(short) - lo) / (hi - lo) if short > 0 else 0.0
    return obs.budget * cap ** min(1.0, max(0.0, x))


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
