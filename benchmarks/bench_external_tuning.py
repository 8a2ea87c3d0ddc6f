"""How many trials Bayesian search needs, against quasi-random search, to get within 10% of
the best time-to-target seen, on dev workloads, over several seeds.

    python benchmarks/bench_external_tuning.py                                 # small
    python benchmarks/bench_external_tuning.py --trials 20 --seeds 5 --workers 2   # full
    python benchmarks/bench_external_tuning.py --workload mnist --workload ogbg --trials 16

For every seed and both searches the script runs one ``paceline tune`` study of ``--trials``
trials on each workload (real training, AlgoPerf's timing; the Bayesian search starts from its
own quasi-random points, ``min(5, trials/3)`` of them, then asks Ax/BoTorch). Then per
workload:

* ``best`` = the fastest time-to-target any trial of any run reached;
* a run's *trials needed* = the first trial count at which its best time so far is within
  ``--within`` (10%) of ``best``; a run that never gets there counts as ``trials + 1``.

AlgoPerf's quasi-random set is fixed by the space and the number of points, so seeds change
the order of the quasi-random trials (and Ax's randomness), not the set. It prints one row per
run and, per search, the median and mean trials needed, how many runs got
there, and the ratio Bayesian / quasi-random of the medians (the goal is at most 0.5). Each
run is a ``paceline tune`` experiment under ``--out``, so rerunning the command resumes where
it stopped. Wall times are printed for orientation only: they depend on the machine's load.
On a machine slower than the one the dev targets were calibrated on, pass ``--speed-factor``
(more budget), or most trials miss and the comparison says little.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SEARCHES = ("quasi-random", "bayesian")
# A NAdamW space wide enough that tuning matters on the dev workloads.
SPACE = {
    "learning_rate": {"min": 1e-4, "max": 3e-2, "scaling": "log"},
    "one_minus_beta1": {"min": 0.01, "max": 0.3, "scaling": "log"},
    "beta2": {"feasible_points": [0.999]},
    "weight_decay": {"min": 1e-3, "max": 0.5, "scaling": "log"},
    "warmup_factor": {"min": 0.0, "max": 0.2, "scaling": "linear"},
    "label_smoothing": {"feasible_points": [0.0, 0.1, 0.2]},
    "dropout_rate": {"feasible_points": [0.0]},
}


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workload", action="append", help="dev workload (repeat; default mnist)")
    p.add_argument("--submission", default="nadamw")
    p.add_argument("--space", help="search space JSON (default: a wide NAdamW space)")
    p.add_argument("--trials", type=int, default=6)
    p.add_argument("--seeds", type=int, default=2)
    p.add_argument("--within", type=float, default=0.10)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--speed-factor", type=float)
    p.add_argument("--early-stopping", action="store_true",
                   help="stop hopeless trials in both searches (default: off, so the searches "
                        "differ only in where they look)")
    p.add_argument("--out", default="experiments/bench_external_tuning")
    p.add_argument("--json", help="write every run's times and the summary here")
    return p.parse_args()


def run_one(args: argparse.Namespace, search: str, seed: int, space: Path) -> float:
    """One study (resumable); returns the wall seconds spent on it over every invocation."""
    from sdk.cli.main import main as paceline

    argv = ["tune", "--submission", args.submission, "--tuning-search-space", str(space),
            "--studies", "1", "--trials", str(args.trials), "--search", search,
            "--seed", str(seed), "--experiment-dir", args.out,
            "--experiment-name", f"{search}/seed_{seed}", "--workers", str(args.workers),
            "--threads", str(args.threads), "--no-tensorboard", "--no-progress",
            "--early-stopping" if args.early_stopping else "--no-early-stopping"]
    for w in args.workload:
        argv += ["--workload", w]
    if args.speed_factor:
        argv += ["--speed-factor", str(args.speed_factor)]
    start = time.time()
    with contextlib.redirect_stdout(io.StringIO()):  # the per-run report; stderr keeps lines
        code = paceline(argv)
    if code != 0:
        raise SystemExit(f"paceline tune failed for {search} seed {seed} (exit {code}).")
    record = Path(args.out) / search / f"seed_{seed}" / "bench_wall_sec.json"
    spent = (json.loads(record.read_text()) if record.is_file() else 0.0) + time.time() - start
    record.write_text(json.dumps(spent))
    return spent


def times_in_order(root: Path, workload: str) -> tuple[list[float], list[float]]:
    """Per trial on ``workload``, in the order the search asked for them: the time-to-target
    (``inf``: missed) and the imputed time the search saw (a miss extrapolated, see
    :mod:`external_tuning.observations`)."""
    from external_tuning.observations import Observation, imputed_time

    state = json.loads((root / "paceline_tune.json").read_text())
    times, imputed = [], []
    for group in state["groups"]:
        if workload not in group["workloads"]:
            continue
        for rec in sorted(group["tuner"]["records"], key=lambda r: r["index"]):
            obs = rec["observations"].get(workload)
            if obs is None:
                continue
            t = obs.get("time_to_target")
            times.append(math.inf if t is None else float(t))
            imputed.append(imputed_time(Observation.from_json(obs)))
    return times, imputed


def trials_needed(times: list[float], threshold: float) -> int | None:
    best = math.inf
    for i, t in enumerate(times, start=1):
        best = min(best, t)
        if best <= threshold:
            return i
    return None


def _needed(value: int | None, trials: int) -> str | int:
    return value if value is not None else f">{trials}"


def main() -> None:
    args = parse()
    args.workload = args.workload or ["mnist"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    space = Path(args.space) if args.space else out / "space.json"
    if not args.space:
        space.write_text(json.dumps(SPACE, indent=1))
    walls: dict[tuple[str, int], float] = {}
    for seed in range(args.seeds):
        for search in SEARCHES:
            print(f"== {search}, seed {seed}", file=sys.stderr, flush=True)
            walls[(search, seed)] = run_one(args, search, seed, space)
    from sdk.text_tables import format_table

    runs: list[dict[str, Any]] = []
    for w in args.workload:
        series = {(s, seed): times_in_order(out / s / f"seed_{seed}", w)
                  for s in SEARCHES for seed in range(args.seeds)}
        best = min(min(t) for t, _ in series.values())
        best_imputed = min(min(i) for _, i in series.values())
        for (s, seed), (times, imputed) in series.items():
            needed = trials_needed(times, (1 + args.within) * best) \
                if math.isfinite(best) else None
            runs.append({"workload": w, "search": s, "seed": seed, "needed": needed,
                         "needed_imputed": trials_needed(imputed,
                                                         (1 + args.within) * best_imputed),
                         "best_found": min(times), "hits": sum(map(math.isfinite, times)),
                         "trials": len(times), "times": times, "imputed": imputed,
                         "best_seen": best, "wall_sec": walls[(s, seed)]})
        if not math.isfinite(best):
            print(f"No trial of any run reached the target of {w}: the time-to-target "
                  "comparison is empty. On a slower machine than the calibration one, pass a "
                  "larger --speed-factor. The 'imputed' columns compare the searches on the "
                  "times the searches saw (misses extrapolated) instead.", file=sys.stderr)
    print(format_table(
        ["workload", "search", "seed", "trials needed", "best found(s)", "hits",
         "needed (imputed)", "wall(s)"],
        [(r["workload"], r["search"], r["seed"], _needed(r["needed"], r["trials"]),
          r["best_found"], f"{r['hits']}/{r['trials']}",
          _needed(r["needed_imputed"], r["trials"]), r["wall_sec"]) for r in runs]))
    summary = []
    for w in args.workload:
        medians: dict[str, dict[str, float]] = {"needed": {}, "needed_imputed": {}}
        for s in SEARCHES:
            mine = [r for r in runs if r["workload"] == w and r["search"] == s]
            row: dict[str, Any] = {"workload": w, "search": s, "runs": len(mine),
                                   "best_seen": mine[0]["best_seen"]}
            for key in medians:
                counts = [r[key] if r[key] is not None else args.trials + 1 for r in mine]
                medians[key][s] = statistics.median(counts)
                row[f"median_{key}"] = medians[key][s]
                row[f"mean_{key}"] = statistics.mean(counts)
                row[f"reached_{key}"] = sum(r[key] is not None for r in mine)
            summary.append(row)
        summary.append({"workload": w, "search": "bayesian / quasi-random", "runs": None,
                        "best_seen": None,
                        **{f"median_{k}": v["bayesian"] / v["quasi-random"]
                           for k, v in medians.items()},
                        **{f"{a}_{k}": None for k in medians for a in ("mean", "reached")}})
    print()
    print(format_table(
        ["workload", "search", "median trials", "mean trials", "got within", "best seen(s)",
         "median (imputed)", "mean (imputed)"],
        [(x["workload"], x["search"], x["median_needed"], x["mean_needed"],
          f"{x['reached_needed']}/{x['runs']}" if x["runs"] else "-", x["best_seen"],
          x["median_needed_imputed"], x["mean_needed_imputed"]) for x in summary]))
    print(f"\n(trials needed: first trial count with a time within {100 * args.within:.0f}% of "
          f"the best any run saw; '>{args.trials}' and {args.trials + 1} in the statistics: "
          "never; goal: the ratio of medians at most 0.5. 'imputed': the same on the times "
          "the searches saw, with misses extrapolated, for runs where few trials hit)")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "runs": runs,
                                               "summary": summary}, indent=1, default=str))


if __name__ == "__main__":
    main()
