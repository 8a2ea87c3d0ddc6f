"""Geometric-mean speedup of each submission against a named baseline.

Per base workload the speedup is ``t_baseline / t_submission`` (above 1: faster than the
baseline); the summary is the geometric mean over base workloads. As in the reference's
``compute_speedups.py``, a miss (or no logs) is replaced by the workload's budget under the
ruleset being scored plus ``MISS_PENALTY_SEC``, so two misses are a speedup of 1. The
reference prints the inverse, ``gmean(t_submission / t_baseline)``, as "time reduction"
``1 - gmean``; :attr:`Speedup.time_reduction` is that number. Unlike the reference, which
always uses the v0.5 budgets, the budgets are those of the version being scored.

    paceline score logs/external_tuning --ruleset-version 0.6 --baseline baseline
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sdk.errors import PacelineError
from sdk.scoring.profiles import TimesTable, time_of

# Seconds added to the budget to stand for a miss (the reference scorer's convention).
MISS_PENALTY_SEC = 1.0


@dataclass(frozen=True)
class Speedup:
    """One submission against the baseline."""

    submission: str
    baseline: str
    per_workload: dict[str, float]  # t_baseline / t_submission
    geomean: float

    @property
    def time_reduction(self) -> float:
        """``1 - gmean(t_submission / t_baseline)``: the share of time saved on average."""
        return 1.0 - 1.0 / self.geomean


def speedups(
    times: TimesTable,
    baseline: str,
    workloads: Sequence[str],
    budgets: Mapping[str, float | None],
) -> dict[str, Speedup]:
    """Every submission's speedup against ``baseline`` over ``workloads``."""
    if baseline not in times:
        raise PacelineError(f"The baseline {baseline!r} is not among the scored submissions "
                            f"({', '.join(times) or 'none'}).")
    if not workloads:
        raise PacelineError("There are no base workloads to compute speedups over.")

    def penalised(submission: str, workload: str) -> float:
        t = time_of(times, submission, workload)
        if math.isfinite(t):
            if t <= 0:
                raise PacelineError(f"{submission} has a time-to-target of {t:g} s on "
                                    f"{workload}; times must be positive.")
            return t
        budget = budgets.get(workload)
        if budget is None:
            raise PacelineError(f"No budget is known for {workload}, so a miss there cannot "
                                "be turned into a time; add \"budget_sec\" for it to the "
                                "--targets file.")
        return budget + MISS_PENALTY_SEC

    out = {}
    for s in times:
        per = {w: penalised(baseline, w) / penalised(s, w) for w in workloads}
        geomean = math.exp(sum(math.log(v) for v in per.values()) / len(per))
        out[s] = Speedup(s, baseline, per, geomean)
    return out
