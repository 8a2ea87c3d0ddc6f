"""Stopping trials that can no longer reach the target before the budget runs out.

A trial that misses the target counts as infinitely slow however long it ran, so the rest of
its budget buys nothing but a better-imputed miss. :class:`TargetOutOfReach` is paceline's
own rule (Ax's early stopping compares trials with each other; this one asks the benchmark's
question of one trial). After every eval, once at least ``min_budget_fraction`` of the budget
is spent and ``min_evals`` evals exist, it takes the best-so-far validation curve and its pace
(metric gained per submission second), the larger of

* the pace over the second half of the time spent so far, and
* the pace over the last ``window`` evals,

and stops the trial when even ``optimism`` times that pace, kept up for the rest of the
budget, would not reach the target. Training curves flatten as they go, so extrapolating a
past pace in a straight line, doubled, is optimistic: the rule stops only trials that are
clearly too slow. Where a curve is not flattening (its best-so-far gained more in the second
half of the time spent than in the first: BLEU on wmt, which crawls near zero and then
climbs ever faster) a straight line is no upper bound, so the rule abstains. Replayed on 192
dev trials that ran to their hit or their budget's end
(``python benchmarks/bench_early_stopping.py DIR...``, docs/external_tuning.md), that guard
took the rule from 7 false stops among 99 hits (6 of 12 wmt hits) to 1, a hit in the last
1% of its budget, at the same saving on the misses (33% of their budget against 34%).
A schedule that saves its gains for the very end (a cosine decay's last steps, a late
learning-rate drop) can still be cut short, which is why the rule is on by default only for
Bayesian search, where a stopped trial is one censored observation among many. The
quasi-random protocol simulates the benchmark and keeps it off unless asked
(``paceline tune --early-stopping``).

    >>> rule = TargetOutOfReach()
    >>> curve = [(0, 0.1), (10, 0.5), (20, 0.52), (30, 0.53), (40, 0.53)]
    >>> rule.check(curve, target=0.95, minimized=False, budget=60) is not None
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sdk.target_reach import best_so_far


@dataclass(frozen=True)
class TargetOutOfReach:
    """The rule above; an instance is the ``early_stop`` hook of :class:`sdk.runner.RunOptions`."""

    min_budget_fraction: float = 0.25
    min_evals: int = 4
    window: int = 3
    optimism: float = 2.0

    def check(self, curve: Sequence[tuple[float, float]], target: float, minimized: bool,
              budget: float, metric: str = "metric") -> str | None:
        """Why to stop a trial with this ``(seconds, validation value)`` curve, or ``None``."""
        sign = -1.0 if minimized else 1.0
        envelope = best_so_far(curve, minimized)
        goal = sign * target
        if not envelope or envelope[-1][1] >= goal:
            return None
        t_now, best = envelope[-1]
        if len(envelope) < self.min_evals or t_now < self.min_budget_fraction * budget:
            return None
        half = next(p for p in envelope if p[0] >= t_now / 2)
        second_half = _pace(half, envelope[-1])
        if second_half > max(_pace(envelope[0], half), 0.0):
            return None  # not flattening: a straight line is no upper bound
        paces = [second_half]
        if len(envelope) > self.window:
            paces.append(_pace(envelope[-1 - self.window], envelope[-1]))
        pace = max(paces)
        remaining = max(budget - t_now, 0.0)
        shown = sign * best
        if pace <= 0:
            return (f"validation {metric} has not improved on {shown:.4g} since "
                    f"{half[0]:.0f}s ({t_now:.0f}s of the {budget:.0f}s budget spent); the "
                    f"target is {target:g}")
        reachable = best + self.optimism * pace * remaining
        if reachable < goal:
            return (f"at {t_now:.0f}s of the {budget:.0f}s budget, validation {metric} is "
                    f"{shown:.4g}; even {self.optimism:g}x its best pace so far reaches only "
                    f"{sign * reachable:.4g} by the budget, short of the target {target:g}")
        return None

    def __call__(self, workload: Any, budget: float, eval_results: list) -> str | None:
        """The runner's hook: ``eval_results`` is ``[(global_step, row), ...]``."""
        metric = workload.target_metric_name
        key = f"validation/{metric}"
        curve = [(float(row["score"]), float(row[key])) for _, row in eval_results
                 if row.get(key) is not None and row.get("score") is not None]
        return self.check(curve, workload.validation_target_value, workload.metric_minimized,
                          budget, metric)


def _pace(a: tuple[float, float], b: tuple[float, float]) -> float:
    dt = b[0] - a[0]
    return (b[1] - a[1]) / dt if dt > 0 else 0.0
