"""Provisional dev numbers from a `paceline targets --steps` record on a busy machine.

`paceline targets` fixes the *steps* of every target-setting run, so its targets do not
depend on how busy the machine is; its budgets and eval periods do, because they come from
the measured wall time per step. On a shared machine with many more runnable processes than
cores, wall time per step is several times the time a quiet 2-core machine takes. This
script keeps the record's targets and step hint and recomputes the time-based numbers from
the *CPU time* per step and per evaluation of the NAdamW baseline with one thread (a process'
CPU time hardly depends on the load; one thread on a quiet 2-core machine takes about that
wall time, two threads somewhat less, so the budgets err on the generous side):

* budget = budget factor (4/3) x target-setting steps x CPU seconds per step;
* eval period = the targets tool's rule (evals at most 10% of wall time, at most 100 per
  budget) applied to the CPU seconds per evaluation;
* a variant keeps its base workload's budget, eval period and step hint (v0.5 rules).

    paceline targets criteo1tb --scale dev --steps 600 --trials 2 --seeds 2 \\
        --algorithms nadamw,momentum --threads 1 --json criteo1tb.json
    python -m workloads.criteo1tb.provisional_calibration numbers criteo1tb.json

``run`` trains one step-limited run (targets ignored) and prints its best validation value,
to compare the NAdamW baseline's first point with a target-setting point on equal terms:

    python -m workloads.criteo1tb.provisional_calibration run criteo1tb --steps 800
    python -m workloads.criteo1tb.provisional_calibration run criteo1tb --steps 600 \\
        --hparams '{"learning_rate": 0.00198, "one_minus_beta1": 0.0457, ...}'

The final numbers come from `paceline targets suite --write` on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import namedtuple
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np


def cpu_times(name: str, steps: int = 20, data_dir: str | None = None) -> dict[str, float]:
    """CPU seconds per NAdamW training step (first search point) and per evaluation."""
    import torch

    from baselines.nadamw import pytorch_impl as nadamw
    from sdk.registry import baselines, workloads

    torch.set_num_threads(1)
    workload = workloads().create(name, "dev", "pytorch")
    point = json.loads(Path(baselines().entry("nadamw").search_space).read_text())[0]
    hp = namedtuple("Hyperparameters", point)(**point)
    rng = np.array([0, 1], dtype=np.uint32)
    queue = workload._build_input_queue(rng, "train", data_dir, nadamw.get_batch_size(
        workload.base_workload_name))
    params, state = workload.init_model_fn(rng)
    opt = nadamw.init_optimizer_state(workload, params, state, hp, rng)

    def step(i: int) -> None:
        nonlocal opt, params, state
        opt, params, state = nadamw.update_params(workload, params, None, state, hp,
                                                  next(queue), workload.loss_type, opt, [], i,
                                                  rng)

    for i in range(3):  # warm-up
        step(i)
    start = time.process_time()
    for i in range(steps):
        step(i)
    step_time = (time.process_time() - start) / steps
    workload.eval_model(workload.eval_batch_size, params, state, rng, data_dir, None, 0)
    start = time.process_time()
    workload.eval_model(workload.eval_batch_size, params, state, rng, data_dir, None, 0)
    return {"step_time_sec": step_time, "eval_time_sec": time.process_time() - start}


def numbers_from_record(record: dict[str, Any], times: dict[str, float],
                        base: Any = None) -> Any:
    """The record's v0.5 numbers with the budget and eval period recomputed from CPU times."""
    from sdk.rulesets import WorkloadNumbers
    from workloads.target_setting import eval_period_for

    numbers = WorkloadNumbers(**record["numbers"]["0.5"])
    if base is not None:  # held-out variant: the base's budget, eval period and step hint
        return replace(numbers, max_allowed_runtime_sec=base.max_allowed_runtime_sec,
                       eval_period_time_sec=base.eval_period_time_sec,
                       step_hint=base.step_hint)
    procedure = record["procedure"]
    budget = round(procedure["budget_factor"] * procedure["steps"] * times["step_time_sec"], 1)
    return replace(numbers, max_allowed_runtime_sec=budget,
                   eval_period_time_sec=eval_period_for(times["eval_time_sec"], budget))


def step_limited_run(name: str, steps: int, step_hint: int | None = None,
                     hparams: dict[str, Any] | None = None,
                     overrides: dict[str, Any] | None = None, seed: int = 1,
                     data_dir: str | None = None, out: Path | None = None,
                     eval_period: float | None = None) -> dict[str, Any]:
    """NAdamW (its first search point updated with ``hparams``) for exactly ``steps`` steps,
    schedules over ``step_hint`` (default ``steps``), targets ignored; its best evaluation."""
    import shutil
    import tempfile

    from sdk.registry import baselines, workloads
    from sdk.rulesets import get_ruleset
    from sdk.runner import RunOptions, train_once
    from sdk.search_space import make_hyperparameters
    from sdk.submission import load_submission
    from workloads.target_setting import best_eval, eval_rows

    workload = workloads().create(name, "dev", "pytorch", model_overrides=overrides)
    workload.numbers = replace(workload.numbers, step_hint=step_hint or steps,
                               max_allowed_runtime_sec=1e9,
                               eval_period_time_sec=eval_period or
                               workload.numbers.eval_period_time_sec)
    point = json.loads(Path(baselines().entry("nadamw").search_space).read_text())[0]
    point.update(hparams or {})
    folder = Path(out) if out else Path(tempfile.mkdtemp(prefix=f"{name}_"))
    shutil.rmtree(folder, ignore_errors=True)
    options = RunOptions(data_dir=data_dir, max_global_steps=steps, tensorboard=False,
                         save_checkpoints=False, threads=1, ignore_targets=True)
    train_once(workload, load_submission("nadamw", "pytorch", "external"),
               make_hyperparameters(point), seed, get_ruleset("0.5"), options, folder)
    metric, minimized = workload.target_metric_name, workload.metric_minimized
    best, test = best_eval(eval_rows(folder), metric, minimized)
    return {"workload": name, "steps": steps, "step_hint": step_hint or steps,
            "hyperparameters": point, "overrides": overrides or {},
            f"best_validation_{metric}": best, f"test_{metric}_at_best": test,
            "trial_dir": str(folder)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="action", required=True)
    num = sub.add_parser("numbers", help="numbers blocks from `paceline targets --json` files")
    num.add_argument("records", nargs="+", help="JSON files written by `paceline targets`")
    num.add_argument("--steps", type=int, default=20, help="steps timed per workload")
    num.add_argument("--data-dir")
    run = sub.add_parser("run", help="one step-limited NAdamW run; prints its best eval")
    run.add_argument("workload")
    run.add_argument("--steps", type=int, required=True)
    run.add_argument("--step-hint", type=int, help="schedule length (default: --steps)")
    run.add_argument("--hparams", type=json.loads, help="JSON updating NAdamW's first point")
    run.add_argument("--overrides", type=json.loads, help="JSON model overrides")
    run.add_argument("--seed", type=int, default=1)
    run.add_argument("--data-dir")
    run.add_argument("--out", help="trial directory (default: a temporary one)")
    run.add_argument("--eval-period", type=float, metavar="SEC",
                     help="wall seconds between evals (default: the workload's)")
    args = p.parse_args(argv)
    if args.action == "run":
        print(json.dumps(step_limited_run(args.workload, args.steps, args.step_hint,
                                          args.hparams, args.overrides, args.seed,
                                          args.data_dir, args.out, args.eval_period),
                         indent=2))
        return
    numbers_main(args)


def numbers_main(args: argparse.Namespace) -> None:
    from sdk.registry import workloads
    from workloads.calibration_record import numbers_code

    records: dict[str, dict[str, Any]] = {}
    for path in args.records:
        loaded = json.loads(Path(path).read_text())  # {"workloads": {name: record}}
        records.update(loaded.get("workloads", {}))
    derived: dict[str, Any] = {}
    for name in sorted(records, key=lambda n: records[n]["base"] is not None):
        record = records[name]
        base_name = workloads().entry(name).base
        base = None
        if base_name is not None:
            base = derived.get(base_name) or workloads().workload_class(
                base_name, "dev", "pytorch").numbers_for("0.5")
        times = cpu_times(name, args.steps, args.data_dir) if base is None else {}
        derived[name] = numbers_from_record(record, times, base)
        if times:
            print(f"# {name}: {1000 * times['step_time_sec']:.1f} ms CPU per step, "
                  f"{times['eval_time_sec']:.2f} s CPU per eval (1 thread)")
        print(f"# paceline-targets: begin {name}")
        print(numbers_code(derived[name], name.upper()))
        print(f"# paceline-targets: end {name}")


if __name__ == "__main__":
    main()
