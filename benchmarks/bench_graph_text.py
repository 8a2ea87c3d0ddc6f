"""Speed and provisional calibration of the ogbg and wmt dev workloads.

    python benchmarks/bench_graph_text.py speed ogbg wmt            # step time, eval time
    python benchmarks/bench_graph_text.py curve ogbg --steps 2000   # one NAdamW learning curve
    python benchmarks/bench_graph_text.py calibrate ogbg --steps 2000 --seeds 3 --json c.json
    python benchmarks/bench_graph_text.py variant ogbg_gelu --base c.json --seeds 3
    python benchmarks/bench_graph_text.py verify ogbg --cpu-per-step 0.031

``speed`` prints, per workload, the train step time (NAdamW, the baseline batch size), the
time of one full evaluation (train subset, validation, test) and the eval share of wall time
implied by the workload's eval period.

``calibrate`` is the target-setting procedure in miniature, in *steps* so that it is not
thrown off by a busy machine: NAdamW (its five search-space points) and heavy-ball momentum
(``--points`` quasi-random points of its space) each train ``--steps`` steps with that as their
schedule length (the target-setting runs' 0.75 x step hint); the best (algorithm, point) by
best validation metric is rerun with ``--seeds`` seeds; the target is the median of their best
validation values, the test target the worst test value (at the best validation eval) among
reruns that reach the target; the step hint is ``steps / 0.75`` and the budget 4/3 of the
target-setting runtime, where the runtime is ``steps`` times the measured single-thread CPU
time per step. It prints the numbers to paste into the family's ``numbers.py`` blocks. ``variant`` reruns the
base's best point on a held-out variant with ``--seeds`` seeds (a reduced form of the
two-algorithm procedure AlgoPerf used for variants) for the variant's own targets; variants
keep the base's budget, eval period and step hint. ``verify`` runs the README's command in
steps: NAdamW's first point with the workload's step hint, for the steps that fit the budget,
and says when it reaches the targets.
``paceline targets`` supersedes this script once it exists.

Timings are process CPU seconds with one thread (a proxy for wall seconds on a quiet
machine); wall seconds on a shared machine are printed too but are not comparable.
"""

from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_SETTING_FRACTION = 0.75  # schedule length of target-setting runs / step hint
BUDGET_FACTOR = 4 / 3  # v0.5 budget / target-setting runtime


def _submission(algorithm: str) -> Any:
    return importlib.import_module(f"baselines.{algorithm}.pytorch_external")


def _batch_size(module: Any, name: str, base: str) -> int:
    try:
        return module.get_batch_size(name)
    except ValueError:
        return module.get_batch_size(base)


OVERRIDES: dict[str, Any] = {}  # --overrides: model changes to try (curve, speed)
DATA_DIR: list[str | None] = [None]  # --data-dir: a prepared dataset other than the cache


def make_workload(name: str, step_hint: int | None = None) -> Any:
    from sdk.registry import workloads

    w = workloads().create(name, "dev", "pytorch", model_overrides=OVERRIDES)
    if step_hint is not None:
        w.numbers = replace(w.numbers, step_hint=int(step_hint))
    return w


def train(name: str, algorithm: str, hparams: dict[str, Any], steps: int, seed: int,
          eval_every: int, quiet: bool = False, step_hint: int | None = None) -> dict[str, Any]:
    """Train ``steps`` steps (schedule length ``step_hint``, default ``steps``); evaluate
    every ``eval_every``."""
    import torch

    from sdk import rng as prng
    from sdk.search_space import make_hyperparameters

    torch.set_num_threads(1)
    prng.set_framework("pytorch")
    w = make_workload(name, step_hint=step_hint or steps)
    module = _submission(algorithm)
    hp = make_hyperparameters(hparams)
    key = prng.PRNGKey(seed)
    data_rng, opt_rng, init_rng, key = prng.split(key, 4)
    batch_size = _batch_size(module, name, w.base_workload_name)
    queue = w._build_input_queue(data_rng, "train", DATA_DIR[0], batch_size)
    params, state = w.init_model_fn(init_rng)
    opt = module.init_optimizer_state(w, params, state, hp, opt_rng)
    curve, train_cpu, eval_cpu, wall0 = [], 0.0, 0.0, time.time()
    for step in range(steps):
        t0 = time.process_time()
        batch = module.data_selection(w, queue, opt, params, state, hp, step, None)
        opt, params, state = module.update_params(
            workload=w, current_param_container=params, current_params_types=None,
            model_state=state, hyperparameters=hp, batch=batch, loss_type=w.loss_type,
            optimizer_state=opt, eval_results=[], global_step=step, rng=None)
        train_cpu += time.process_time() - t0
        if (step + 1) % eval_every == 0 or step + 1 == steps:
            t0 = time.process_time()
            result = w.eval_model(w.eval_batch_size, params, state, None, DATA_DIR[0], None,
                                  step)
            eval_cpu += time.process_time() - t0
            metric = w.target_metric_name
            curve.append({"step": step + 1, "train_cpu": round(train_cpu, 2),
                          "train": result.get(f"train/{metric}"),
                          "validation": result[f"validation/{metric}"],
                          "test": result[f"test/{metric}"],
                          "train_loss": result.get("train/loss")})
            if not quiet:
                print(f"  {algorithm} step {step + 1:5d} cpu {train_cpu:7.1f}s "
                      f"train {curve[-1]['train']:.4f} val {curve[-1]['validation']:.4f} "
                      f"test {curve[-1]['test']:.4f}", flush=True)
            if not np.isfinite(result.get("validation/loss", 0.0)):
                break
    best = max(curve, key=lambda r: r["validation"] if np.isfinite(r["validation"]) else -1e9)
    return {"algorithm": algorithm, "hparams": hparams, "seed": seed, "curve": curve,
            "best_validation": best["validation"], "test_at_best": best["test"],
            "cpu_per_step": train_cpu / max(len(curve) and curve[-1]["step"], 1),
            "eval_cpu": eval_cpu / max(len(curve), 1), "wall": time.time() - wall0}


def _points(algorithm: str, count: int, seed: int) -> list[dict[str, Any]]:
    from sdk.registry import baselines
    from sdk.search_space import SearchSpace, generate_search

    space = SearchSpace.load(baselines().entry(algorithm).search_space)
    return [dict(p._asdict()) if hasattr(p, "_asdict") else dict(p)
            for p in generate_search(space, count, seed)]


def calibrate(args: argparse.Namespace) -> None:
    name = args.workload[0]
    runs = []
    for algorithm, count in (("nadamw", 5), ("momentum", args.points)):
        for i, hp in enumerate(_points(algorithm, count, args.seed)[: args.points]):
            print(f"[{name}] {algorithm} point {i}: {hp}", flush=True)
            runs.append(train(name, algorithm, hp, args.steps, args.seed, args.eval_every))
    best = max(runs, key=lambda r: r["best_validation"])
    print(f"[{name}] best: {best['algorithm']} {best['hparams']} "
          f"val {best['best_validation']:.4f}", flush=True)
    reruns = [best] + [train(name, best["algorithm"], best["hparams"], args.steps,
                             args.seed + k, args.eval_every)
                       for k in range(1, args.seeds)]
    target = statistics.median(r["best_validation"] for r in reruns)
    reached = [r["test_at_best"] for r in reruns if r["best_validation"] >= target]
    cpu_per_step = statistics.median(r["cpu_per_step"] for r in runs + reruns)
    runtime = args.steps * cpu_per_step
    out = {
        "workload": name, "steps": args.steps, "target": round(target, 4),
        "test_target": round(min(reached), 4),
        "budget_sec": round(BUDGET_FACTOR * runtime, 1),
        "step_hint": int(args.steps / TARGET_SETTING_FRACTION),
        "cpu_per_step": round(cpu_per_step, 4),
        "eval_cpu": round(statistics.median(r["eval_cpu"] for r in runs), 3),
        "best": {"algorithm": best["algorithm"], "hparams": best["hparams"]},
        "runs": runs + reruns[1:],
    }
    print(json.dumps({k: v for k, v in out.items() if k != "runs"}, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


def calibrate_variant(args: argparse.Namespace) -> None:
    """A held-out variant: rerun the base's best (algorithm, point) with ``--seeds`` seeds.

    A reduced form of the variants' procedure (AlgoPerf tuned two algorithms per variant):
    targets from the reruns as for a base workload; budget, eval period and step hint are the
    base workload's.
    """
    base = json.loads(Path(args.base).read_text())
    name = args.workload[0]
    runs = [train(name, base["best"]["algorithm"], base["best"]["hparams"], base["steps"],
                  args.seed + k, args.eval_every) for k in range(args.seeds)]
    target = statistics.median(r["best_validation"] for r in runs)
    reached = [r["test_at_best"] for r in runs if r["best_validation"] >= target]
    out = {"workload": name, "base": base["workload"], "steps": base["steps"],
           "target": round(target, 4), "test_target": round(min(reached), 4),
           "best": base["best"], "runs": runs}
    print(json.dumps({k: v for k, v in out.items() if k != "runs"}, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


def verify(args: argparse.Namespace) -> None:
    """The README's run in steps: NAdamW's first point, the workload's step hint as schedule,
    as many steps as fit the budget at ``--cpu-per-step``; reports when it reaches the
    validation and test targets (time = steps x CPU time per step)."""
    hp = _points("nadamw", 5, 0)[0]
    for name in args.workload:
        w = make_workload(name)
        steps = int(w.max_allowed_runtime_sec / args.cpu_per_step)
        r = train(name, "nadamw", hp, steps, args.seed, args.eval_every,
                  step_hint=w.step_hint)
        hit = [c for c in r["curve"] if c["validation"] > w.validation_target_value]
        hit_test = [c for c in r["curve"] if c["test"] > w.test_target_value]
        first = hit[0]["step"] if hit else None
        first_test = hit_test[0]["step"] if hit_test else None
        print(f"{name}: target {w.validation_target_value} reached at step {first} "
              f"(~{first * args.cpu_per_step:.0f}s)" if first else f"{name}: target missed",
              f"test target {w.test_target_value} at step {first_test}; budget {steps} steps "
              f"({w.max_allowed_runtime_sec}s), best val {r['best_validation']:.4f}")


def curve(args: argparse.Namespace) -> None:
    hp = _points("nadamw", 5, 0)[args.point]
    for name in args.workload:
        r = train(name, "nadamw", hp, args.steps, args.seed, args.eval_every)
        print(f"{name}: best val {r['best_validation']:.4f} cpu/step {r['cpu_per_step']:.4f}s "
              f"eval {r['eval_cpu']:.2f}s wall {r['wall']:.0f}s")


def speed(args: argparse.Namespace) -> None:
    print(f"{'workload':18s} {'step cpu(s)':>11s} {'eval cpu(s)':>11s} {'period(s)':>9s} "
          f"{'eval share':>10s}")
    hp = _points("nadamw", 5, 0)[0]
    for name in args.workload:
        r = train(name, "nadamw", hp, args.steps, args.seed, args.steps, quiet=True)
        w = make_workload(name)
        period = w.eval_period_time_sec
        share = r["eval_cpu"] / (period + r["eval_cpu"])
        print(f"{name:18s} {r['cpu_per_step']:11.4f} {r['eval_cpu']:11.2f} {period:9.1f} "
              f"{share:10.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("speed", "curve", "calibrate", "variant", "verify"))
    parser.add_argument("workload", nargs="+")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--eval-every", type=int, default=250)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--points", type=int, default=3)
    parser.add_argument("--point", type=int, default=0, help="NAdamW point for `curve`")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="write every run here (calibrate, variant)")
    parser.add_argument("--base", help="variant: the base workload's calibrate --json file")
    parser.add_argument("--cpu-per-step", type=float, default=0.03,
                        help="verify: seconds per step, to turn the budget into steps")
    parser.add_argument("--overrides", default="{}",
                        help='model overrides as JSON, e.g. \'{"d_model": 96}\'')
    parser.add_argument("--data-dir", help="a prepared dataset folder (default: the cache)")
    args = parser.parse_args()
    OVERRIDES.update(json.loads(args.overrides))
    DATA_DIR[0] = args.data_dir
    {"speed": speed, "curve": curve, "calibrate": calibrate,
     "variant": calibrate_variant, "verify": verify}[args.mode](args)


if __name__ == "__main__":
    main()
