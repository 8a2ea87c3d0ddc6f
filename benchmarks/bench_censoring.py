"""Does a miss's censored value say how good its configuration is? Checked against the same
configuration's other seeds.

    python benchmarks/bench_censoring.py experiments/bench_external_tuning/nadamw/quasi_random/criteo1tb
    python benchmarks/bench_censoring.py DIR... --json out.json

A Bayesian search learns from ``log(t / budget)``, where a trial that missed its target gets a
time imputed from its curve (:func:`external_tuning.observations.objective`). That value is
only useful if it ranks configurations as they really are. A ``paceline tune`` quasi-random
experiment with one study per seed (``bench_external_tuning.py`` trains the same 20 points
once per seed) gives the answer without training anything: every configuration ran several
times, so each trial's value can be set against how the *same configuration* did in its
other seeds (leave one out): the share of them that reached the target, and their mean best
validation value (signed so lower is better).

Per experiment (workload) and per way of valuing a trial it prints the rank correlation
(Spearman) of the trial's value with those two, over every trial and over the misses alone,
and how many misses sit at the cap (valued like a trial that diverged). Ways of valuing a
trial:

* ``imputed``: the search's objective as it is (hits: their time; misses: how far short of
  the target their best value ended, in decades of the target's share);
* ``late trend`` and ``late trend, noise floor``: the rules paceline used before (until
  2026-12-07): the late trend of the best-so-far curve (least squares over the second half of
  the trial's time) extrapolated to the target from the budget on, the cap where it is flat;
  the second never takes the trend below the median eval-to-eval change per the half's width;
* ``best value``: the trial's best validation value alone (signed so lower is better), which
  ignores time: a reference for how much the curve's end says.

A good value correlates *negatively* with the hit rate elsewhere and *positively* with the
best value elsewhere.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def parse(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("experiments", nargs="+", metavar="DIR",
                   help="paceline tune experiments (paceline_tune.json at the root) whose "
                        "configurations ran in several studies")
    p.add_argument("--json", help="write the table's numbers here")
    return p.parse_args(argv)


def repeated_trials(root: Path) -> dict[str, list[Any]]:
    """Per configuration (canonical JSON of its point), its observations over the studies."""
    from external_tuning.observations import Observation
    from external_tuning.report import point_key

    state = json.loads((Path(root) / "paceline_tune.json").read_text())
    out: dict[str, list[Any]] = {}
    for group in state["groups"]:
        for record in group["tuner"]["records"]:
            for obs in record["observations"].values():
                out.setdefault(point_key(record["hyperparameters"]), []).append(
                    Observation.from_json(obs))
    return out


def late_trend(obs: Any, noise_floor: bool = False) -> float:
    """``log(t / budget)`` with a miss's ``t`` extrapolated from its late trend (the rule
    paceline used until 2026-12-07; kept here as the comparison)."""
    from external_tuning.observations import DEFAULT_CAP, HOPELESS
    from sdk.target_reach import best_so_far

    if obs.reached:
        return math.log(obs.time_to_target / obs.budget)
    envelope = best_so_far(obs.curve, obs.minimized)
    if obs.status in HOPELESS or obs.target is None or len(envelope) < 2:
        return math.log(DEFAULT_CAP)
    t_last, v_last = envelope[-1]
    late = [p for p in envelope if p[0] >= t_last / 2]
    late = late if len(late) >= 2 else envelope[-2:]
    slope = _slope(late)
    if noise_floor:
        sign = -1.0 if obs.minimized else 1.0
        raw = [sign * v for t, v in obs.curve if math.isfinite(v) and t >= late[0][0]]
        steps = [abs(b - a) for a, b in zip(raw, raw[1:], strict=False)]
        width = late[-1][0] - late[0][0]
        if steps and width > 0:
            slope = max(slope, statistics.median(steps) / width)
    if not slope > 0:
        return math.log(DEFAULT_CAP)
    goal = -obs.target if obs.minimized else obs.target
    estimate = max(t_last, obs.budget) + (goal - v_last) / slope
    return math.log(min(estimate, DEFAULT_CAP * obs.budget) / obs.budget)


def _slope(points: Sequence[tuple[float, float]]) -> float:
    n = len(points)
    mt, mv = sum(t for t, _ in points) / n, sum(v for _, v in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    return sum((t - mt) * (v - mv) for t, v in points) / var if var > 0 else 0.0


def valuations() -> dict[str, Callable[[Any], float]]:
    from external_tuning.observations import objective

    return {"imputed": objective, "late trend": late_trend,
            "late trend, noise floor": lambda obs: late_trend(obs, noise_floor=True),
            "best value": lambda obs: obs.loss}


def check(trials: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """One row per valuation: its rank correlations with the configuration's other seeds."""
    from scipy.stats import spearmanr

    from external_tuning.observations import DEFAULT_CAP

    rows = []
    for name, value in valuations().items():
        mine, hit_rate, best, missed = [], [], [], []
        for runs in trials.values():
            for i, obs in enumerate(runs):
                others = runs[:i] + runs[i + 1:]
                if not others:
                    continue
                mine.append(value(obs))
                hit_rate.append(sum(o.reached for o in others) / len(others))
                best.append(statistics.fmean(o.loss for o in others))
                missed.append(not obs.reached)

        def rho(xs: list[float], ys: list[float]) -> float:
            return float(spearmanr(xs, ys).statistic) if len(set(xs)) > 1 else math.nan

        misses = [i for i, m in enumerate(missed) if m]
        imputes = name != "best value"
        at_cap = sum(1 for i in misses if math.isclose(mine[i], math.log(DEFAULT_CAP)))
        rows.append({
            "valuation": name, "trials": len(mine), "misses": len(misses),
            "vs_hit_rate": rho(mine, hit_rate), "vs_best": rho(mine, best),
            "misses_vs_hit_rate": rho([mine[i] for i in misses], [hit_rate[i] for i in misses]),
            "misses_vs_best": rho([mine[i] for i in misses], [best[i] for i in misses]),
            "misses_at_cap": at_cap if imputes else None})
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    from sdk.text_tables import format_table

    args = parse(argv)
    table, report = [], {}
    for folder in args.experiments:
        trials = repeated_trials(Path(folder))
        repeats = [len(v) for v in trials.values()]
        rows = check(trials)
        report[folder] = {"configurations": len(trials), "runs_each": repeats, "rows": rows}
        for r in rows:
            table.append((Path(folder).name, f"{len(trials)} x {max(repeats, default=0)}",
                          r["valuation"], f"{r['trials']} ({r['misses']} misses)",
                          *(f"{r[k]:+.2f}" for k in ("vs_hit_rate", "vs_best",
                                                     "misses_vs_hit_rate", "misses_vs_best")),
                          "" if r["misses_at_cap"] is None else r["misses_at_cap"]))
    print(format_table(["experiment", "configs x seeds", "value", "trials",
                        "rho: hit rate elsewhere", "rho: best elsewhere",
                        "misses: hit rate", "misses: best", "misses at the cap"], table))
    print("\n(Spearman rank correlations of each trial's value with how the same configuration "
          "did in its other seeds; a useful value is negative against the hit rate and "
          "positive against the best value there)")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
