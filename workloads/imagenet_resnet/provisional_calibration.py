"""Provisional dev-scale calibration of the ImageNet workloads, the target-setting procedure in
miniature, until ``paceline targets`` replaces it.

    python -m workloads.imagenet_resnet.provisional_calibration probe imagenet_vit --runtime 60
    python -m workloads.imagenet_resnet.provisional_calibration targets imagenet_resnet \\
        --runtime 60 --points 3 --seeds 3
    python -m workloads.imagenet_resnet.provisional_calibration check imagenet_resnet

``targets``: for each algorithm (NAdamW, heavy-ball momentum) run ``--points`` points of its
search space (AlgoPerf's quasi-random order) for ``--runtime`` seconds with targets disabled
and the schedule length set to the steps that fit in the runtime; rerun the best point with
``--seeds`` seeds; target = median of the best validation accuracies, test target = worst test
accuracy (at a run's best-validation eval) among reruns that reached it, budget = 4/3 x runtime, step hint = the steps
NAdamW takes in the budget. With ``--best-from BASE.json`` (a variant) the search is skipped:
the base workload's best point is rerun on the variant and the base's budget kept. ``check`` runs NAdamW's first search-space point under the
workload's real numbers and reports time-to-target. ``probe`` is one NAdamW run.

Time is measured with ``--clock cpu`` (default: this process's CPU time with one torch thread,
which a busy shared machine does not distort) or ``--clock wall`` (what ``paceline run`` uses).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from dataclasses import replace
from typing import Any

from sdk.registry import baselines, workloads
from sdk.rulesets import get_ruleset
from sdk.runner import RunOptions, train_once
from sdk.search_space import SearchSpace, generate_search, make_hyperparameters
from sdk.submission import load_submission

UNREACHABLE = {"validation_target_value": 2.0, "test_target_value": 2.0}


def _clock(kind: str) -> Any:
    if kind == "wall":
        return time.time
    # offset so the runner's first eval happens at step 1, as with wall-clock time
    return lambda: 1e6 + time.process_time()


def _points(algorithm: str, n: int) -> list[dict[str, Any]]:
    space = SearchSpace.load(baselines().entry(algorithm).search_space)
    return [dict(p._asdict()) for p in generate_search(space, n, seed=None)]


def run_one(name: str, algorithm: str, hp: dict[str, Any], seed: int, *, clock: str,
            numbers: dict[str, Any] | None = None, max_steps: int | None = None) -> dict:
    """One trial through the real runner; returns the result and every eval."""
    workload = workloads().create(name, "dev", "pytorch")
    if numbers:
        workload.numbers = replace(workload.numbers, **numbers)
    evals: list[dict[str, float]] = []
    original = workload.eval_model

    def recording(*args: Any, **kwargs: Any) -> dict[str, float]:
        result = original(*args, **kwargs)
        evals.append(result)
        return result

    workload.eval_model = recording
    submission = load_submission(algorithm, "pytorch", "external")
    options = RunOptions(threads=1 if clock == "cpu" else None, max_global_steps=max_steps,
                         tensorboard=False, save_checkpoints=False)
    result = train_once(workload, submission, make_hyperparameters(hp), seed,
                        get_ruleset("0.5"), options, None, clock=_clock(clock))
    best = max(evals, key=lambda e: e["validation/accuracy"])
    return {"result": result.to_json(), "evals": evals,
            "best_val": best["validation/accuracy"], "best_test": best["test/accuracy"],
            "step_time": result.submission_time_sec / max(result.global_step, 1)}


def step_time(name: str, algorithm: str, hp: dict[str, Any], clock: str, steps: int = 40) -> float:
    """Seconds per step after warm-up: the difference of a short and a longer run."""
    times = []
    for n in (steps // 4, steps):
        out = run_one(name, algorithm, hp, 0, clock=clock, max_steps=n,
                      numbers={**UNREACHABLE, "eval_period_time_sec": 1e9})
        times.append(out["result"]["submission_time_sec"])
    return (times[1] - times[0]) / (steps - steps // 4)


def ts_numbers(runtime: float, eval_period: float, schedule_steps: int) -> dict[str, Any]:
    return {**UNREACHABLE, "max_allowed_runtime_sec": runtime,
            "eval_period_time_sec": eval_period, "step_hint": schedule_steps}


def targets(args: argparse.Namespace) -> dict:
    first = _points("nadamw", 1)[0]
    sec = step_time(args.workload, "nadamw", first, args.clock)
    schedule = int(args.runtime / sec)
    numbers = ts_numbers(args.runtime, args.eval_period, schedule)
    print(f"step time {sec * 1000:.1f} ms -> {schedule} steps in {args.runtime}s", flush=True)
    trials = []
    if args.best_from:  # a variant: the base workload's best point, the base's budget
        with open(args.best_from) as f:
            base = json.load(f)
        trials.append(base["best"])
        numbers["step_hint"] = int(base["runtime"] / sec)
    for algorithm in args.algorithms.split(",") if not args.best_from else []:
        picked = [int(i) for i in args.indices.get(algorithm, "").split(",") if i] or \
            list(range(1, args.points + 1))
        points = _points(algorithm, max(picked))
        for i, hp in ((i - 1, points[i - 1]) for i in picked):
            out = run_one(args.workload, algorithm, hp, 1000 + i, clock=args.clock,
                          numbers=numbers)
            trials.append({"algorithm": algorithm, "hp": hp, "best_val": out["best_val"],
                           "best_test": out["best_test"], "steps": out["result"]["global_step"]})
            print(f"  {algorithm} point {i + 1}: best val {out['best_val']:.4f} test "
                  f"{out['best_test']:.4f} ({out['result']['global_step']} steps)", flush=True)
    best = max(trials, key=lambda t: t["best_val"])
    reruns = []
    for seed in range(args.seeds):
        out = run_one(args.workload, best["algorithm"], best["hp"], 2000 + seed,
                      clock=args.clock, numbers=numbers)
        reruns.append({"best_val": out["best_val"], "best_test": out["best_test"]})
        print(f"  rerun {seed}: best val {out['best_val']:.4f} test {out['best_test']:.4f}",
              flush=True)
    target = statistics.median(r["best_val"] for r in reruns)
    reached = [r["best_test"] for r in reruns if r["best_val"] >= target]
    budget = round(args.runtime * 4 / 3, 1)
    if args.best_from:
        budget = base["derived"]["budget_sec"]
    hint = base["derived"]["step_hint"] if args.best_from else int(budget / sec)
    derived = {"validation_target": math.floor(target * 1e4) / 1e4,
               "test_target": math.floor(min(reached) * 1e4) / 1e4,
               "budget_sec": budget, "step_hint": hint,
               "eval_period_sec": args.eval_period, "step_time_sec": sec}
    print(json.dumps(derived), flush=True)
    return {"workload": args.workload, "clock": args.clock, "runtime": args.runtime,
            "trials": trials, "best": best, "reruns": reruns, "derived": derived}


def check(args: argparse.Namespace) -> dict:
    first = _points("nadamw", 1)[0]
    out = run_one(args.workload, "nadamw", first, args.seed, clock=args.clock)
    r = out["result"]
    evals = [(round(e["validation/accuracy"], 4), round(e["test/accuracy"], 4))
             for e in out["evals"]]
    print(f"{args.workload}: {r['status']}, time-to-target {r['time_to_target_sec']}, "
          f"budget {r['budget_sec']}, steps {r['global_step']}, eval time "
          f"{r['eval_time_sec']:.1f}s of {r['total_duration_sec']:.1f}s, evals {evals}")
    return out


def probe(args: argparse.Namespace) -> dict:
    first = _points("nadamw", 1)[0]
    sec = step_time(args.workload, "nadamw", first, args.clock)
    schedule = int(args.runtime / sec)
    out = run_one(args.workload, "nadamw", first, args.seed, clock=args.clock,
                  numbers=ts_numbers(args.runtime, args.eval_period, schedule))
    r = out["result"]
    print(f"{args.workload}: step {sec * 1000:.1f} ms, {schedule} steps, best val "
          f"{out['best_val']:.4f}, best test {out['best_test']:.4f}, eval "
          f"{r['eval_time_sec']:.1f}s / total {r['total_duration_sec']:.1f}s; val curve "
          f"{[round(e['validation/accuracy'], 3) for e in out['evals']]}")
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", choices=["targets", "check", "probe"])
    p.add_argument("workload")
    p.add_argument("--runtime", type=float, default=60.0)
    p.add_argument("--eval-period", type=float, default=10.0)
    p.add_argument("--points", type=int, default=3)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--algorithms", default="nadamw,momentum")
    p.add_argument("--indices", action="append", default=[], metavar="ALGO=I,J",
                   help="run these (1-based) search-space points of ALGO instead of --points")
    p.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    p.add_argument("--best-from", metavar="JSON",
                   help="targets for a variant: rerun the best point of this base record")
    p.add_argument("--json", help="write the record here")
    args = p.parse_args(argv)
    args.indices = dict(item.split("=", 1) for item in args.indices)
    record = {"targets": targets, "check": check, "probe": probe}[args.action](args)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(record, f, indent=1, default=str)


if __name__ == "__main__":
    main()
