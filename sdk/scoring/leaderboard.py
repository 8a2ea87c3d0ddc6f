"""The whole leaderboard computation: times -> 4x / held-out rule -> ratios -> profiles -> scores.

:func:`score_times` works on a plain times table (what the held-out simulator and the tuner
feed it); :func:`score_submissions` starts from the per-workload times read from logs and adds
the protocol checks (``strict``) and the baseline speedups.

    >>> from sdk.scoring.targets import scoring_rules
    >>> rules = scoring_rules("0.6")
    >>> times = {"fast": {w: 100.0 for w in rules.base_workloads},
    ...          "slow": {w: 200.0 for w in rules.base_workloads}}
    >>> round(score_times(times, rules).scores["slow"], 4)
    0.6717
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from sdk.errors import MixedTargetsError, PacelineError
from sdk.scoring.heldout_rule import apply_heldout_rule
from sdk.scoring.profiles import (
    SCORE_METHODS,
    TimesTable,
    exact_score,
    grid_score,
    performance_profile,
    performance_ratios,
    tau_grid,
)
from sdk.scoring.speedups import Speedup, speedups
from sdk.scoring.targets import ScoringRules, scoring_rules
from sdk.scoring.time_to_target import SubmissionTimes


@dataclass(frozen=True)
class Scores:
    """Every intermediate table of one scoring, keyed by submission then base workload."""

    kept_times: dict[str, dict[str, float]]  # after the 4x / held-out rule
    reasons: dict[tuple[str, str], str]  # why a finite time became a miss
    ratios: dict[str, dict[str, float]]
    taus: np.ndarray
    profiles: dict[str, np.ndarray]  # rho at every tau
    grid: dict[str, float]  # the reference scorer's score
    exact: dict[str, float]  # the exact integral
    method: str = "grid"

    @property
    def scores(self) -> dict[str, float]:
        """The score chosen by ``method``."""
        return self.grid if self.method == "grid" else self.exact

    def ranking(self) -> list[str]:
        """Submissions from the best score down (ties keep the input order)."""
        return sorted(self.scores, key=lambda s: -self.scores[s])


def score_times(
    times: TimesTable, rules: ScoringRules | None = None, method: str = "grid"
) -> Scores:
    """Score a times table (submission -> workload -> seconds) under ``rules``.

    Workloads outside the rules' base and held-out lists are ignored; missing ones are misses.
    """
    if method not in SCORE_METHODS:
        raise PacelineError(f"Unknown score method {method!r}; choose one of "
                            f"{', '.join(SCORE_METHODS)}.")
    rules = rules or scoring_rules()
    bases = list(rules.base_workloads)
    if not bases:
        raise PacelineError("The rules name no base workloads to score.")
    kept, reasons = apply_heldout_rule(times, bases, rules.held_out_workloads,
                                       rules.held_out_ratio_cap, rules.base_of)
    ratios = performance_ratios(kept, bases)
    taus = tau_grid(rules.r_max, rules.tau_grid_points)
    profiles = performance_profile(ratios, taus, len(bases))
    grid = {s: grid_score(rho, taus) for s, rho in profiles.items()}
    exact = {s: exact_score(row.values(), rules.r_max, len(bases)) for s, row in ratios.items()}
    return Scores(kept, reasons, ratios, taus, profiles, grid, exact, method)


@dataclass
class Leaderboard:
    """The result of ``paceline score``: per-workload times, scores, checks, speedups."""

    rules: ScoringRules
    submissions: list[SubmissionTimes]
    scores: Scores
    trial_rule: str
    enforce_budget: bool
    speedups: dict[str, Speedup] | None = None
    baseline: str | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def times(self) -> dict[str, dict[str, float]]:
        """Raw per-workload times of every submission (every workload with logs)."""
        return {s.name: s.times for s in self.submissions}


def score_submissions(
    submissions: Sequence[SubmissionTimes],
    rules: ScoringRules,
    method: str = "grid",
    strict: bool = False,
    baseline: str | None = None,
) -> Leaderboard:
    """Score submissions read from logs together (scores are relative to the group).

    With ``strict`` every shortfall against the protocol (missing workload, study or trial,
    unknown workload) raises one :class:`PacelineError` listing all of them.
    """
    if not submissions:
        raise PacelineError("There are no submissions to score.")
    problems = [p for s in submissions for p in s.problems]
    if strict and problems:
        listing = "\n  - ".join(problems)
        raise PacelineError(f"Strict scoring under the {rules.version} rules found "
                            f"{len(problems)} {'problem' if len(problems) == 1 else 'problems'}"
                            f":\n  - {listing}")
    scales = {s.name: s.scale or "official" for s in submissions}
    if len(set(scales.values())) > 1:
        dev = ", ".join(n for n, sc in scales.items() if sc == "dev")
        raise PacelineError(f"Dev-scale runs ({dev}) cannot be scored together with "
                            "official-scale logs; their targets and budgets differ.")
    for w in rules.scored_workloads:
        used = {(s.workloads[w].target.metric, s.workloads[w].target.value): s.name
                for s in submissions if w in s.workloads}
        if len(used) > 1:
            which = "; ".join(f"{name}: {metric} {value:g}"
                              for (metric, value), name in sorted(used.items()))
            raise MixedTargetsError(
                f"The submissions were run against different {w} targets ({which}); score "
                "them separately, or against one set of targets (`paceline score --targets "
                "JSON`; `paceline leaderboard show|fidelity --dev-targets current` for "
                "today's dev targets).")
    ways = {(s.trial_rule, s.budget_enforced) for s in submissions}
    if len(ways) > 1:
        raise PacelineError("The submissions were read with different trial rules or budget "
                            "settings; read them all the same way.")
    trial_rule, enforce_budget = ways.pop()
    times = {s.name: s.times for s in submissions}
    scores = score_times(times, rules, method)
    board = Leaderboard(rules, list(submissions), scores, trial_rule, enforce_budget,
                        warnings=problems, notes=[n for s in submissions for n in s.notes])
    if rules.held_out_workloads and not any(w in s.workloads for s in submissions
                                            for w in rules.held_out_workloads):
        board.warnings.append(f"No submission has logs for any held-out workload, so under "
                              f"the {rules.version} rules every base workload with a held-out "
                              "variant counts as missed; for logs without held-out runs (v0.6) "
                              "pass --ruleset-version 0.6.")
    if baseline is not None:
        budgets = _budgets(submissions, rules)
        board.speedups = speedups(times, baseline, list(rules.base_workloads), budgets)
        board.baseline = baseline
    return board


def _budgets(submissions: Sequence[SubmissionTimes], rules: ScoringRules) -> dict[str, float]:
    """Budgets per base workload: from the trials' targets (dev meta) else from the rules."""
    out = {}
    for w in rules.base_workloads:
        found = [s.workloads[w].target.budget_sec for s in submissions if w in s.workloads]
        found = [b for b in found if b is not None and math.isfinite(b)]
        fallback = rules.targets[w].budget_sec if w in rules.targets else None
        out[w] = max(found) if found else fallback
    return out
