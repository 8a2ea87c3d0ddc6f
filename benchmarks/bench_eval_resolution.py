"""Would more frequent evaluations make dev results predict official ones better?

    python benchmarks/bench_eval_resolution.py EXP/leaderboard/self_va100-2026 \\
        --official $OFF --official-targets $T [--entry NAME ...] [--dev-targets current]

A time-to-target is read at the first evaluation at or beyond the target, so it can only
take the values of the evaluations' times: with few evaluations per budget, entries that
reach a target tie at the same evaluation and their order is lost. This benchmark reads a
leaderboard run (``paceline leaderboard run``, best with ``--whole-budget``) twice and
compares each reading with the official results by ``paceline leaderboard fidelity``'s
statistics (:func:`sdk.scoring.fidelity.fidelity`):

* **at the evaluations**, the scorer's rule (the numbers ``leaderboard fidelity`` prints);
* **between evaluations**: the crossing time interpolated linearly between the last
  evaluation short of the target and the first at or beyond it, in the trial the scorer
  picked; what evaluating without pause would give, so an upper bound on what any shorter
  dev eval period can change.

It prints, per reading, hit/miss agreement, Kendall tau of the scores, pairwise decision
accuracy and each workload's Kendall tau of times, and the number of evaluations per trial.
Hits and misses are the same in both readings (the crossing lies within the same budget); only
the times, hence ties, scores and order, move. Nothing is trained.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dir", help="a `paceline leaderboard run` folder (leaderboard/<rules>)")
    p.add_argument("--official", required=True, help="folder of the official logs")
    p.add_argument("--official-targets", help="targets JSON the official logs are scored with")
    p.add_argument("--dev-targets", default="current",
                   help="dev targets: 'current' (default: the shipped ones) or a targets JSON")
    p.add_argument("--entry", action="append", help="only these entries (repeat)")
    return p.parse_args()


def crossing(trial: Any, target: Any) -> float:
    """The chosen trial's crossing time, interpolated between the evals around it."""
    from sdk.scoring.reader import read_curve

    if trial is None or trial.index is None:
        return math.inf
    if trial.index == 0:
        return trial.time_sec
    curve = read_curve(trial.path, f"validation/{target.metric}")  # path: the eval log
    (v0, v1), (t0, t1) = curve.values[trial.index - 1:trial.index + 1], \
        curve.times[trial.index - 1:trial.index + 1]
    if not (math.isfinite(v0) and v1 != v0):
        return trial.time_sec
    return float(t0 + (target.value - v0) / (v1 - v0) * (t1 - t0))


def readings(logs: dict[str, Any], workloads: list[str]) -> tuple[dict, dict, list[int]]:
    """``(at evals, between evals, evals per chosen trial)`` per entry and workload."""
    at, between, evals = {}, {}, []
    for name, times in logs.items():
        at[name], between[name] = {}, {}
        for w in workloads:
            wt = times.workloads.get(w)
            if wt is None:
                continue  # not run at dev
            at[name][w] = wt.time_sec
            studies = [crossing(s.chosen, wt.target) for s in wt.studies]
            between[name][w] = statistics.median(studies) if studies else math.inf
            evals += [s.chosen.num_evals for s in wt.studies if s.chosen is not None]
    return at, between, evals


def main() -> int:
    from sdk.cli.leaderboard_read import dev_times, load_run, official_board
    from sdk.scoring.fidelity import fidelity

    args = parse()
    summary = load_run(args.dir)
    workloads = list(summary["workloads"])
    logs = dev_times(summary, args.dev_targets)
    if args.entry:
        logs = {n: t for n, t in logs.items() if n in set(args.entry)}
    frameworks = {n: r.get("framework") or "unknown" for n, r in summary["entries"].items()}
    official_times, _ = official_board(args.official, summary["ruleset_version"],
                                       summary["ruleset"], args.official_targets)
    official = {n: {w: t.times.get(w, math.inf) for w in workloads}
                for n, t in official_times.items()}
    at, between, evals = readings(logs, workloads)
    print(f"{len(logs)} entries, {len(workloads)} workloads; evaluations per chosen trial: "
          f"{min(evals)}-{max(evals)} (median {statistics.median(evals):g})\n")
    print(f"{'reading':15s} {'hit/miss':>9s} {'score tau':>9s} {'pairwise':>9s}  "
          "Kendall tau of times per workload (entries hitting on both sides)")
    for label, dev in (("at evals", at), ("between evals", between)):
        r = fidelity(dev, official, workloads, frameworks)
        agree = sum(w.agree for w in r.workloads)
        pairs = sum(w.pairs for w in r.workloads)
        taus = ", ".join(f"{w.workload} {w.tau:+.2f}" for w in r.workloads
                         if not math.isnan(w.tau))
        print(f"{label:15s} {f'{agree}/{pairs}':>9s} {r.score_tau:9.2f} "
              f"{f'{r.pairs_agree}/{r.pairs}':>9s}  {taus}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
