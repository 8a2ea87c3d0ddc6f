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
    python -m workloads.criteo1tb.provisional_calibration criteo1tb.json

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


def main(argv: list[str] | None = None) -> None:
    from sdk.registry import workloads
    from workloads.calibration_record import numbers_code

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("records", nargs="+", help="JSON files written by `paceline targets --json`")
    p.add_argument("--steps", type=int, default=20, help="steps timed per workload")
    p.add_argument("--data-dir")
    args = p.parse_args(argv)
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
