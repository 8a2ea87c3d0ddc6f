"""Performance ratios, performance profiles and the benchmark score, over plain numbers.

A *times table* maps submission -> workload -> seconds to target: ``math.inf`` for a miss,
NaN (or an absent key) for a workload without logs, which scores like a miss. With ``n`` the
number of base workloads and ``r_{s,w} = t_{s,w} / min_s' t_{s',w}``:

    rho_s(tau) = |{w : r_{s,w} <= tau}| / n            B_s = integral_1^r_max rho_s / (r_max - 1)

``method="grid"`` is the reference scorer's value (rho on ``numpy.linspace(1, r_max, 100)``,
trapezoid rule, divided by ``r_max - 1``), the default because the published leaderboards are
computed that way. ``method="exact"`` is the integral of the step function itself,
``(1/n) * sum_w max(0, r_max - r_w) / (r_max - 1)``. They differ by at most
``1/(2 * (points - 1))`` (0.005 with 100 points); e.g. every ratio 2 gives 0.6717 (grid) and
2/3 (exact).

Ratios within ``RATIO_TOLERANCE`` (relative) of a grid point count as reaching it, so that
rescaling every time (seconds to hours) cannot move a workload across a grid point through
float rounding.

    >>> benchmark_scores({"a": {"w": 10.0}, "b": {"w": 20.0}}, ["w"], r_max=4.0)["b"]
    0.6717171717171717
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

TimesTable = Mapping[str, Mapping[str, float]]
RATIO_TOLERANCE = 1e-12
SCORE_METHODS = ("grid", "exact")


def time_of(times: TimesTable, submission: str, workload: str) -> float:
    """The time in the table, NaN when the workload has no entry."""
    value = times[submission].get(workload)
    return math.nan if value is None else float(value)


def best_times(times: TimesTable, workloads: Sequence[str]) -> dict[str, float]:
    """Per workload, the smallest time over submissions (NaN entries ignored)."""
    out = {}
    for w in workloads:
        column = [time_of(times, s, w) for s in times]
        column = [t for t in column if not math.isnan(t)]
        out[w] = min(column) if column else math.nan
    return out


def ratio(t: float, best: float) -> float:
    """``t / best``; ``inf`` for a miss or no best; ``1`` for ``t == best == 0``.

        >>> ratio(3.0, 2.0), ratio(math.inf, 2.0), ratio(0.0, 0.0), ratio(2.0, 0.0)
        (1.5, inf, 1.0, inf)
    """
    if not (math.isfinite(t) and math.isfinite(best) and best >= 0):
        return math.inf
    if best == 0:
        return 1.0 if t == 0 else math.inf
    return t / best


def performance_ratios(
    times: TimesTable, workloads: Sequence[str], reference: str | None = None
) -> dict[str, dict[str, float]]:
    """``t / best`` per submission and workload (``inf`` for misses and missing logs).

    With ``reference`` the denominator is that submission's time instead of the best. A best
    time of 0 (a target met at the first eval with no submission time charged, as a clock
    of coarse resolution reads a one-millisecond step) keeps the definition's limit: 1 for
    the submissions at 0, ``inf`` for the others.
    """
    if reference is not None:
        denominators = {w: time_of(times, reference, w) for w in workloads}
    else:
        denominators = best_times(times, workloads)
    out: dict[str, dict[str, float]] = {}
    for s in times:
        row = {}
        for w in workloads:
            t, d = time_of(times, s, w), denominators[w]
            row[w] = ratio(t, d)
        out[s] = row
    return out


def tau_grid(r_max: float = 4.0, points: int = 100, r_min: float = 1.0) -> np.ndarray:
    """The reference scorer's linear grid of tau values."""
    return np.linspace(r_min, r_max, num=points)


def performance_profile(
    ratios: Mapping[str, Mapping[str, float]], taus: np.ndarray, num_workloads: int
) -> dict[str, np.ndarray]:
    """rho_s(tau) at every tau: the share of ``num_workloads`` with ratio <= tau."""
    taus = np.asarray(taus, dtype=float)
    out = {}
    for s, row in ratios.items():
        r = np.array([v for v in row.values() if math.isfinite(v)], dtype=float)
        reached = r[:, None] <= taus[None, :] * (1 + RATIO_TOLERANCE)
        out[s] = reached.sum(axis=0) / num_workloads
    return out


def grid_score(rho: np.ndarray, taus: np.ndarray) -> float:
    """Trapezoid integral of rho over the grid, divided by the grid's width."""
    taus = np.asarray(taus, dtype=float)
    return float(np.trapezoid(rho, x=taus) / (taus.max() - taus.min()))


def exact_score(ratios: Iterable[float], r_max: float, num_workloads: int) -> float:
    """The exact integral of the profile step function over [1, r_max], normalised."""
    total = 0.0
    for r in ratios:
        if math.isfinite(r) and r <= r_max * (1 + RATIO_TOLERANCE):
            total += max(0.0, r_max - max(r, 1.0))
    return total / ((r_max - 1.0) * num_workloads)


def benchmark_scores(
    times: TimesTable,
    workloads: Sequence[str],
    r_max: float = 4.0,
    points: int = 100,
    num_workloads: int | None = None,
    method: str = "grid",
    reference: str | None = None,
) -> dict[str, float]:
    """The benchmark score of every submission in ``times`` over ``workloads``.

    ``num_workloads`` (default ``len(workloads)``) is the profile's denominator; the reference
    scorer keeps it at the number of base workloads even when some have no logs at all.
    """
    if method not in SCORE_METHODS:
        raise ValueError(f"Unknown score method {method!r}; choose one of {SCORE_METHODS}.")
    n = num_workloads or len(workloads)
    ratios = performance_ratios(times, workloads, reference)
    if method == "exact":
        return {s: exact_score(row.values(), r_max, n) for s, row in ratios.items()}
    taus = tau_grid(r_max, points)
    return {s: grid_score(rho, taus)
            for s, rho in performance_profile(ratios, taus, n).items()}
