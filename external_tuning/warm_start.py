"""Warm-starting a Bayesian search from earlier studies of the same search space.

A submitter tunes one search space on eight workloads, often after tuning it somewhere
else before. What those studies found is the best first guess for the next one (Feurer,
Springenberg & Hutter, AAAI 2015, "Initializing Bayesian hyperparameter optimization via
meta-learning"): instead of the benchmark's quasi-random points, a warm-started Bayesian
search's first trials are configurations that did well in the earlier studies, chosen as a
portfolio so that each one covers workloads the others do less well on. The Gaussian process
then takes over from the new workload's own results, and from the earlier studies' results
too: every configuration they ran (inside the new space) enters the model as an observation of
its own workload (:attr:`PriorDesign.related`), so the Gaussian process learns how the
workloads' objectives co-vary and does not forget, after one unlucky trial of the new
workload, a region where the others were fast (transfer across workloads; see
:mod:`external_tuning.strategies.bayesian`).

How the points are chosen (:func:`prior_design`):

1. Every trial under the given folders is read as ``paceline freeze`` reads it
   (:func:`external_tuning.evidence.load_evidence`: AlgoPerf's layout, ``hparams.json`` per
   trial, time-to-target by the scorer's rules, misses imputed from their curve): per
   workload and configuration the median of ``log(t / budget)``.
2. Per workload, configurations are ranked and given their percentile (0 = best, ties
   share); time scales differ across workloads, ranks do not.
3. Greedy portfolio: the next point is the one that lowers most the mean, over the studied
   workloads, of the best percentile among the points chosen so far (a workload a point never
   ran on counts it at 0.5, the median); ties go to the better mean percentile.
4. Only configurations inside the new search space are candidates (ranges within bounds,
   choices among the feasible points; a parameter the space fixes takes the space's value).

``paceline tune --search bayesian --warm-start DIR`` (repeatable) uses it; the chosen points
are stored in the tuning ledger, so a resumed study proposes what the uninterrupted one would.

    paceline tune --workload fastmri --submission nadamw --tuning-search-space space.json \\
        --search bayesian --trials 20 --warm-start experiments/dev/external_tuning/nadamw
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from external_tuning.evidence import Evidence, load_evidence
from sdk.scoring.targets import ScoringRules
from sdk.search_space import Choice, Range, SearchSpace, is_number, same_value

UNSEEN_PERCENTILE = 0.5


@dataclass(frozen=True)
class PriorDesign:
    """The warm start's points, best first, and what they were chosen from."""

    points: tuple[dict[str, Any], ...]
    workloads: tuple[str, ...]
    candidates: int
    outside: int
    notes: tuple[str, ...] = field(default=())
    # per (workload, configuration inside the space): {"workload", "point", "objective"},
    # the median log(t / budget) over the configuration's runs there
    related: tuple[dict[str, Any], ...] = field(default=())

    def describe(self) -> str:
        """One line for the user."""
        if not self.points:
            return (f"warm start: none of the {self.candidates} configurations studied lies "
                    "inside this search space; the initial trials stay quasi-random.")
        skipped = (f"; {self.outside} outside this search space skipped" if self.outside
                   else "")
        return (f"warm start: the first {len(self.points)} trial(s) are the configurations "
                f"that did best on {', '.join(self.workloads)} ({self.candidates} studied"
                f"{skipped})" + (f"; the model learns from their {len(self.related)} "
                                 "result(s) there too." if self.related else "."))


def prior_design(paths: Sequence[str | Path], space: SearchSpace, rules: ScoringRules,
                 count: int, exclude: Sequence[str] = ()) -> PriorDesign:
    """At most ``count`` points of ``space`` from the studies under ``paths`` (module
    docstring); workloads named in ``exclude`` are ignored."""
    evidence = load_evidence(paths, rules)
    workloads = [w for w in evidence.workloads if w not in set(exclude)]
    percentiles = {w: workload_percentiles(evidence, w) for w in workloads}
    inside: dict[str, dict[str, Any]] = {}
    for key, point in evidence.points.items():
        projected = project(point, space)
        if projected is not None and any(key in percentiles[w] for w in workloads):
            inside[key] = projected
    studied = {k for w in workloads for k in percentiles[w]}
    chosen = portfolio(percentiles, sorted(inside), count)
    return PriorDesign(tuple(inside[k] for k in chosen), tuple(workloads), len(studied),
                       len(studied - set(inside)), tuple(evidence.notes),
                       related_observations(evidence, workloads, inside))


def related_observations(evidence: Evidence, workloads: Sequence[str],
                         inside: Mapping[str, dict[str, Any]]) -> tuple[dict[str, Any], ...]:
    """Per workload and configuration inside the space, the median objective of its runs,
    in a fixed order (workload, then configuration key)."""
    by_pair: dict[tuple[str, str], list[float]] = {}
    for run in evidence.runs:
        if run.workload in workloads and run.key in inside:
            by_pair.setdefault((run.workload, run.key), []).append(run.objective)
    return tuple({"workload": w, "point": dict(inside[k]),
                  "objective": statistics.median(v)} for (w, k), v in sorted(by_pair.items()))


def workload_percentiles(evidence: Evidence, workload: str) -> dict[str, float]:
    """Per configuration its rank on ``workload`` as a percentile in (0, 1), 0 = fastest."""
    by_key: dict[str, list[float]] = {}
    for run in evidence.runs:
        if run.workload == workload:
            by_key.setdefault(run.key, []).append(run.objective)
    medians = {k: statistics.median(v) for k, v in by_key.items()}
    ordered = sorted(medians.values())
    n = len(ordered)
    out = {}
    for key, value in medians.items():
        below = sum(v < value for v in ordered)
        ties = sum(v == value for v in ordered)
        out[key] = (below + 0.5 * ties) / n
    return out


def portfolio(percentiles: Mapping[str, Mapping[str, float]], candidates: Sequence[str],
              count: int) -> list[str]:
    """Greedily the ``count`` candidates whose best-per-workload percentile is lowest."""
    workloads = list(percentiles)
    if not workloads:
        return []

    def of(key: str, w: str) -> float:
        return percentiles[w].get(key, UNSEEN_PERCENTILE)

    def mean_of(key: str) -> float:
        return statistics.fmean(of(key, w) for w in workloads)

    def loss(key: str, best: Mapping[str, float]) -> tuple[float, float, str]:
        covered = statistics.fmean(min(best[w], of(key, w)) for w in workloads)
        return (covered, mean_of(key), key)

    best = {w: 1.0 for w in workloads}
    chosen: list[str] = []
    left = list(candidates)
    while left and len(chosen) < count:
        pick = min(left, key=functools.partial(loss, best=best))
        chosen.append(pick)
        left.remove(pick)
        best = {w: min(best[w], of(pick, w)) for w in workloads}
    return chosen


def project(point: Mapping[str, Any], space: SearchSpace) -> dict[str, Any] | None:
    """``point`` as a point of ``space``, or ``None`` when it lies outside it."""
    out: dict[str, Any] = {}
    for p in space.parameters:
        if isinstance(p, Range):
            if p.min == p.max:
                out[p.name] = p.min
                continue
            value = point.get(p.name)
            if not is_number(value) or not p.min <= float(value) <= p.max:
                return None
            out[p.name] = float(value)
            continue
        assert isinstance(p, Choice)
        if len(p.feasible_points) == 1:
            out[p.name] = p.feasible_points[0]
            continue
        match = [v for v in p.feasible_points if same_value(v, point.get(p.name))]
        if not match:
            return None
        out[p.name] = match[0]
    return out
