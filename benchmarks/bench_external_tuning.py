"""How many trials Bayesian search needs, against the benchmark's quasi-random search, to come
within 10% of the best time-to-target known for a search space, on several dev workloads.

    python benchmarks/bench_external_tuning.py --workload mnist --trials 6 --seeds 2   # small
    python benchmarks/bench_external_tuning.py --trials 20 --seeds 5 --workers 2      # full
    python benchmarks/bench_external_tuning.py --space momentum --workload fastmri

Per workload (default: fastmri, ogbg, criteo1tb) and search space (``nadamw``: a wide NAdamW
range space; ``momentum``: the momentum baseline's shipped space; or a JSON file):

1. **Quasi-random**, the benchmark's own search: ``--seeds`` ``paceline tune`` studies of
   ``--trials`` trials each, as AlgoPerf runs its studies: each study asks the same
   quasi-random set (fixed by the space and the trial count) in its own order and trains every
   trial with its own seed. Both searches so carry trial-to-trial noise. With
   ``--quasi-random-once [WORKLOAD...]`` the set is trained once (on the workloads named,
   or on all) and each seed's run reads it in the order
   ``paceline tune --seed S`` would ask it (``QuasiRandomSearch.study_seed``): five times
   cheaper, but then one draw per point stands for every seed, and where a configuration's
   time-to-target varies from seed to seed as much as the 10% margin (criteo1tb, 2026-12-06)
   a lucky draw in that one set is the "best known" every Bayesian study must match with
   draws of its own.
2. **Bayesian** (``paceline tune --search bayesian``): ``--seeds`` independent studies of
   ``--trials`` trials each (``--studies``: one per seed, each with its own Ax seed), each
   trial trained. With ``--warm-start`` (default) a workload's study is warm-started from the
   quasi-random studies of the *other* benchmark workloads (every study: the warm start
   takes each configuration's median over them) (``--warm-start DIR``,
   external_tuning/warm_start.py), as a submitter's study of a new workload would be from the
   workloads they tuned before; its own results on the workload are never used. The model
   learns from every result of those studies as observations of their own workloads
   (``paceline tune --transfer``); ``--no-transfer`` runs the ablation, where they give the
   first points only (its studies in ``bayesian_no_transfer/``).

Both searches stop hopeless trials early (the same rule, ``--early-stopping``), which changes
no time-to-target, only the cost of misses. Then per workload:

* ``best known`` = the fastest time-to-target any trial of either search reached;
* a run's *trials needed* = the first trial count whose best time so far is within ``--within``
  (10%) of ``best known``; a run that never gets there counts as ``trials + 1``;
* the best time after 5, 10 and ``--trials`` trials (median over seeds, a miss infinite).

It prints one row per run, then per workload and search the median and range of trials needed,
the best times, hits, and the wall time of the experiments, and the ratio Bayesian /
quasi-random of the median trials needed (the goal: at most 0.5) with the range a bootstrap
over seeds gives it (:func:`ratio_spread`). Every experiment lives under
``--out``, so rerunning the command resumes where it stopped. Wall times depend on the machine
and its load; everything else is in dev-clock seconds.
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

REPO = Path(__file__).resolve().parents[1]
WORKLOADS = ("fastmri", "ogbg", "criteo1tb")
SPACES: dict[str, Any] = {
    # A NAdamW space wide enough that tuning matters on the dev workloads.
    "nadamw": {
        "learning_rate": {"min": 1e-4, "max": 3e-2, "scaling": "log"},
        "one_minus_beta1": {"min": 0.01, "max": 0.3, "scaling": "log"},
        "beta2": {"feasible_points": [0.999]},
        "weight_decay": {"min": 1e-3, "max": 0.5, "scaling": "log"},
        "warmup_factor": {"min": 0.0, "max": 0.2, "scaling": "linear"},
        "label_smoothing": {"feasible_points": [0.0, 0.1, 0.2]},
        "dropout_rate": {"feasible_points": [0.0]},
    },
    "momentum": REPO / "baselines" / "momentum" / "tuning_search_space.json",
}
SUBMISSIONS = {"nadamw": "nadamw", "momentum": "momentum"}
CHECKPOINTS = (5, 10)


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workload", action="append", help=f"dev workload (repeat; default "
                                                       f"{', '.join(WORKLOADS)})")
    p.add_argument("--bayesian-on", action="append", metavar="WORKLOAD",
                   help="run and report the Bayesian studies of these --workload's only (the "
                        "others still train their quasi-random sets, the warm start's "
                        "source); default: every workload")
    p.add_argument("--space", default="nadamw",
                   help="nadamw, momentum, or a search-space JSON file (then --submission)")
    p.add_argument("--submission", help="default: the baseline the space belongs to")
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--within", type=float, default=0.10)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--warm-start", action=argparse.BooleanOptionalAction, default=True,
                   help="warm-start the Bayesian studies from the other workloads' "
                        "quasi-random studies (default: on)")
    p.add_argument("--transfer", action=argparse.BooleanOptionalAction, default=True,
                   help="the warm-started Bayesian model learns from the other workloads' "
                        "results too (paceline tune --transfer; default: on); "
                        "--no-transfer: its studies go to bayesian_no_transfer/")
    p.add_argument("--quasi-random-once", nargs="*", metavar="WORKLOAD",
                   help="train the quasi-random set once and read it in each seed's order "
                        "(cheaper; no trial noise for that search), on the workloads named "
                        "(none named: on every workload)")
    p.add_argument("--out", default="experiments/bench_external_tuning")
    p.add_argument("--json", help="write every run's times and the summary here")
    args = p.parse_args()
    args.workload = args.workload or list(WORKLOADS)
    args.bayesian_on = args.bayesian_on or list(args.workload)
    if set(args.bayesian_on) - set(args.workload):
        p.error("--bayesian-on names a workload that is not a --workload")
    args.bayesian = "bayesian" if args.transfer or not args.warm_start else "bayesian_no_transfer"
    once = args.quasi_random_once
    args.quasi_random_once = (set() if once is None else set(once) if once
                              else set(args.workload))
    if args.submission is None:
        if args.space not in SUBMISSIONS:
            p.error("--submission is needed with a search-space file")
        args.submission = SUBMISSIONS[args.space]
    return args


def space_file(args: argparse.Namespace, root: Path) -> Path:
    source = SPACES.get(args.space, args.space)
    if isinstance(source, dict):
        path = root / "space.json"
        path.write_text(json.dumps(source, indent=1))
        return path
    return Path(source)


def tune(args: argparse.Namespace, root: Path, name: str, extra: list[str]) -> float:
    """One ``paceline tune`` experiment (resumable); its wall seconds over every invocation."""
    from sdk.cli.main import main as paceline

    argv = ["tune", "--submission", args.submission, "--tuning-search-space",
            str(args.space_path), "--trials", str(args.trials), "--seed", "0",
            "--experiment-dir", str(root), "--experiment-name", name, "--workers",
            str(args.workers), "--early-stopping", "--no-tensorboard", "--no-progress", *extra]
    print(f"== {name}", file=sys.stderr, flush=True)
    start = time.time()
    with contextlib.redirect_stdout(io.StringIO()):  # the per-run report; stderr keeps lines
        code = paceline(argv)
    if code != 0:
        raise SystemExit(f"paceline tune failed for {name} (exit {code}).")
    record = root / name / "bench_wall_sec.json"
    spent = (json.loads(record.read_text()) if record.is_file() else 0.0) + time.time() - start
    record.write_text(json.dumps(spent))
    return spent


def ledger(root: Path) -> dict[str, Any]:
    """A ``paceline tune`` experiment's ledger."""
    return json.loads((root / "paceline_tune.json").read_text())


def observed(root: Path, what: str = "time") -> dict[int, list[tuple[dict[str, Any], float]]]:
    """Per study of a ``paceline tune`` experiment, in asked order: (point, time-to-target,
    inf for a miss), or with ``what="best"`` (point, best validation value, signed so that
    lower is better: the error for a metric to maximise is its negative; inf: none)."""
    state = ledger(root)
    out: dict[int, list[tuple[dict[str, Any], float]]] = {}
    for group in state["groups"]:
        rows = []
        for rec in sorted(group["tuner"]["records"], key=lambda r: r["index"]):
            for obs in rec["observations"].values():
                x = obs.get("time_to_target") if what == "time" else best_value(obs)
                rows.append((rec["hyperparameters"], math.inf if x is None else float(x)))
        out[int(group["study"])] = rows
    return out


def best_value(obs: dict[str, Any]) -> float | None:
    """A trial's best validation value (its :class:`Observation`'s), signed so that lower is
    better."""
    from external_tuning.observations import Observation

    loss = Observation.from_json({"workload": "", "status": "", "time_to_target": None,
                                  "budget": 1.0, **obs}).loss
    return None if math.isinf(loss) else loss


def minimized(root: Path) -> bool:
    """Whether the experiment's target metric is one to minimise (a loss, an error rate)."""
    return any(obs.get("minimized") for group in ledger(root)["groups"]
               for rec in group["tuner"]["records"] for obs in rec["observations"].values())


def trained_once(root: Path) -> bool:
    """Whether the quasi-random experiment at ``root`` trained its set once
    (``--quasi-random-once``): one study planned."""
    state = ledger(root)
    return int(state["config"].get("num_studies", len(state["groups"]))) == 1


def quasi_random_runs(args: argparse.Namespace, root: Path,
                      what: str = "time") -> list[list[float]]:
    """Each seed's quasi-random study in the order it asked its points; where the set was
    trained once (``--quasi-random-once``), that set read in each seed's order (``what``:
    as :func:`observed`)."""
    from external_tuning.report import point_key
    from external_tuning.strategies.quasi_random import QuasiRandomSearch, planned_points
    from sdk.search_space import SearchSpace

    studies = observed(root, what)
    if not trained_once(root) or args.seeds == 1:
        return [[t for _, t in rows] for _, rows in sorted(studies.items())][:args.seeds]
    trained = {point_key(p): t for p, t in studies[0]}
    space = SearchSpace.from_json(ledger(root)["config"]["space"])
    runs = []
    for seed in range(args.seeds):
        order = planned_points(space, args.trials, QuasiRandomSearch.study_seed(seed, 0, ()))
        runs.append([trained[point_key(p)] for p in order])
    return runs


def seed_noise(root: Path, within: float) -> dict[str, Any] | None:
    """How much a configuration's time-to-target varies from seed to seed, from a
    quasi-random experiment with one study per seed (every study runs the same set): per
    configuration the seeds it reached the target in and its times. ``None`` for a set
    trained once."""
    from external_tuning.report import point_key

    if trained_once(root):
        return None
    times: dict[str, list[float]] = {}
    for rows in observed(root).values():
        for point, t in rows:
            times.setdefault(point_key(point), []).append(t)
    hits = [[t for t in ts if math.isfinite(t)] for ts in times.values()]
    shares = [len(h) / len(ts) for h, ts in zip(hits, times.values(), strict=True)]
    spreads = [max(h) / min(h) for h in hits if len(h) >= 2]
    best = min((t for ts in times.values() for t in ts), default=math.inf)
    fast = [ts for ts in times.values() if min(ts) <= (1 + within) * best]
    return {"configurations": len(times), "seeds": max(map(len, times.values()), default=0),
            "always": shares.count(1.0), "sometimes": sum(0 < x < 1 for x in shares),
            "never": shares.count(0.0),
            "median_spread": statistics.median(spreads) if spreads else math.nan,
            "best": best,
            # the configurations that reached the best time (within the margin) once: how
            # often they did, over their seeds
            "fast_configurations": len(fast),
            "fast_share": (sum(t <= (1 + within) * best for ts in fast for t in ts)
                           / max(1, sum(map(len, fast))))}


def trials_needed(times: list[float], threshold: float) -> int | None:
    best = math.inf
    for i, t in enumerate(times, start=1):
        best = min(best, t)
        if best <= threshold:
            return i
    return None


def checkpoints(trials: int) -> tuple[int, ...]:
    """The trial counts the best time is reported after: 5, 10 (when fewer) and all."""
    return (*(n for n in CHECKPOINTS if n < trials), trials)


def best_after(times: list[float], n: int) -> float:
    return min(times[:n], default=math.inf)


def ratio_spread(bayesian: list[int], quasi_random: list[int], draws: int = 4000,
                 seed: int = 0) -> tuple[float, float]:
    """The 10th and 90th percentiles of the ratio of medians (Bayesian / quasi-random trials
    needed) when each search's seeds are drawn again with replacement (a bootstrap): how far
    the measured ratio could move with other seeds.

    >>> ratio_spread([2, 2, 2], [4, 4, 4])
    (0.5, 0.5)
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    b = np.median(rng.choice(bayesian, (draws, len(bayesian))), axis=1)
    q = np.median(rng.choice(quasi_random, (draws, len(quasi_random))), axis=1)
    lo, hi = np.percentile(b / q, [10, 90])
    return float(lo), float(hi)


def warm_start_flags(args: argparse.Namespace, root: Path, workload: str) -> list[str]:
    """``--warm-start`` from the quasi-random study of every other benchmark workload."""
    if not args.warm_start:
        return []
    return [*(flag for other in args.workload if other != workload
              for flag in ("--warm-start", str(root / "quasi_random" / other))),
            *([] if args.transfer else ["--no-transfer"])]


def summarize(args: argparse.Namespace, root: Path, workload: str,
              walls: dict[str, float]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    def searches(what: str) -> dict[str, list[list[float]]]:
        return {"quasi-random": quasi_random_runs(args, root / "quasi_random" / workload, what),
                "bayesian": [[x for _, x in rows] for _, rows in sorted(
                    observed(root / args.bayesian / workload, what).items())]}

    series, values = searches("time"), searches("best")
    sign = 1.0 if minimized(root / "quasi_random" / workload) else -1.0
    best = min((min(ts) for runs in series.values() for ts in runs), default=math.inf)
    runs, summary = [], []
    for search, per_seed in series.items():
        needed = []
        for seed, times in enumerate(per_seed):
            n = trials_needed(times, (1 + args.within) * best) if math.isfinite(best) else None
            needed.append(n if n is not None else args.trials + 1)
            runs.append({"workload": workload, "search": search, "seed": seed, "needed": n,
                         "hits": sum(map(math.isfinite, times)), "trials": len(times),
                         "best_found": min(times, default=math.inf), "times": times})
        once = search == "quasi-random" and trained_once(root / "quasi_random" / workload)
        summary.append({
            "workload": workload, "search": search + (" (set trained once)" if once else ""),
            "runs": len(per_seed), "best_known": best,
            "needed": needed, "median_needed": statistics.median(needed),
            "min_needed": min(needed),
            "max_needed": max(needed),
            "got_within": sum(n <= args.trials for n in needed),
            **{f"best_after_{n}": statistics.median(best_after(t, n) for t in per_seed)
               for n in checkpoints(args.trials)},
            # the best validation value after n trials (median over seeds): where few
            # trials reach the target, how close each search got
            **{f"value_after_{n}": sign * statistics.median(best_after(v, n)
                                                            for v in values[search])
               for n in checkpoints(args.trials)},
            "wall_sec": walls[search]})
    return runs, summary


def main() -> None:
    args = parse()
    root = Path(args.out) / args.space.replace("/", "_")
    root.mkdir(parents=True, exist_ok=True)
    args.space_path = space_file(args, root)
    # every quasi-random set first: the Bayesian studies are warm-started from them
    walls = {w: {"quasi-random": tune(args, root, f"quasi_random/{w}", [
        "--workload", w, "--studies", "1" if w in args.quasi_random_once else str(args.seeds)])}
             for w in args.workload}
    for w in args.bayesian_on:
        walls[w]["bayesian"] = tune(args, root, f"{args.bayesian}/{w}",
                                    ["--workload", w, "--studies", str(args.seeds),
                                     "--search", "bayesian",
                                     *warm_start_flags(args, root, w)])
    all_runs, all_summary = [], []
    for w in args.bayesian_on:
        runs, summary = summarize(args, root, w, walls[w])
        all_runs += runs
        all_summary += summary
    noise = {w: n for w in args.workload
             if (n := seed_noise(root / "quasi_random" / w, args.within)) is not None}
    report(args, all_runs, all_summary, noise)


def _needed(value: int | None, trials: int) -> str | int:
    return value if value is not None else f">{trials}"


def _time(t: float) -> str:
    return f"{t:.1f}" if math.isfinite(t) else "miss"


def report(args: argparse.Namespace, runs: list[dict[str, Any]],
           summary: list[dict[str, Any]], noise: dict[str, dict[str, Any]]) -> None:
    from sdk.text_tables import format_table

    print(format_table(["workload", "search", "seed", "trials needed", "best found (s)",
                        "hits"],
                       [(r["workload"], r["search"], r["seed"],
                         _needed(r["needed"], r["trials"]), _time(r["best_found"]),
                         f"{r['hits']}/{r['trials']}") for r in runs]))
    shown = checkpoints(args.trials)
    rows = []
    for x in summary:
        rows.append((x["workload"], x["search"], x["median_needed"],
                     f"{x['min_needed']}-{x['max_needed']}", f"{x['got_within']}/{x['runs']}",
                     *(_time(x[f"best_after_{n}"]) for n in shown),
                     _time(x["best_known"]), f"{x['wall_sec']:.0f}"))
        if x["search"] == "bayesian":
            qr = next(y for y in summary if y["workload"] == x["workload"]
                      and y["search"].startswith("quasi-random"))
            lo, hi = ratio_spread(x["needed"], qr["needed"])
            rows.append((x["workload"], "bayesian / quasi-random",
                         f"{x['median_needed'] / qr['median_needed']:.2f}",
                         f"{lo:.2f}-{hi:.2f}", "",
                         *([""] * len(shown)), "", ""))
    print()
    print(format_table(["workload", "search", "median trials needed", "range", "got within",
                        *(f"best after {n} (s)" for n in shown), "best known (s)",
                        "wall (s)"], rows))
    print()
    print(format_table(["workload", "search", *(f"best value after {n}" for n in shown)],
                       [(x["workload"], x["search"],
                         *(f"{x[f'value_after_{n}']:.4g}" for n in shown)) for x in summary]))
    warm = ("warm-started from the other workloads' quasi-random studies"
            + (", learning from all their results" if args.transfer
               else ", only its own results in the model")
            if args.warm_start and len(args.workload) > 1
            else "cold (quasi-random initial points)")
    qr = ("one study per seed, or where marked one trained set read in each seed's order"
          if args.quasi_random_once else "one study per seed")
    print(f"\n(space {args.space}, submission {args.submission}, {args.trials} trials, "
          f"{args.seeds} seeds; quasi-random: {qr}; Bayesian {warm}; trials needed: first "
          f"trial count within {100 * args.within:.0f}% of the best known time, '>{args.trials}' and "
          f"{args.trials + 1} in the statistics: never; best after n: median over seeds of "
          "the fastest time-to-target, and of the best validation value, within the first n "
          "trials; goal: the ratio of medians at most 0.5; its range: the 10th-90th "
          "percentiles of the ratio with each search's seeds drawn again with replacement)")
    if noise:
        print()
        print(format_table(
            ["workload", "configurations x seeds", "hit in every seed", "in some", "in none",
             "median max/min time", f"within {100 * args.within:.0f}% of best: configs",
             "their seeds within"],
            [(w, f"{n['configurations']} x {n['seeds']}", n["always"], n["sometimes"],
              n["never"], f"{n['median_spread']:.2f}", n["fast_configurations"],
              f"{100 * n['fast_share']:.0f}%") for w, n in noise.items()]))
        print("(seed-to-seed noise of the quasi-random sets trained once per seed: how many "
              "configurations reached the target in every seed, in some, in none; the median "
              "over configurations of their slowest hit over their fastest; the "
              "configurations that reached the best time once, and the share of their seeds "
              "that did)")
    if args.json:
        Path(args.json).write_text(json.dumps({"args": vars(args), "runs": runs,
                                               "summary": summary, "seed_noise": noise},
                                              indent=1, default=str))


if __name__ == "__main__":
    main()
