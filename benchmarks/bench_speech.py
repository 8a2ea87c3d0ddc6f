"""Speed of the dev speech workloads: train step, full evaluation, eval share, data loading.

    .venv/bin/python benchmarks/bench_speech.py                  # every speech workload
    .venv/bin/python benchmarks/bench_speech.py --workloads librispeech_conformer \
        --threads 1 2 --steps 20

For each workload and thread count it times ``--steps`` NAdamW updates (first point of the
baseline's search space, the workload's dev batch) and one full evaluation (eval_train,
validation and test), in wall and process CPU seconds, and prints the eval share a run would
have at the workload's eval period. CPU seconds are the better guide on a busy machine: with
one thread they are what the wall time would be on an idle one.
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def bench(name: str, threads: int, steps: int, data_dir: str | None) -> dict:
    import torch

    from sdk import spec
    from sdk.registry import baselines, workloads
    from sdk.search_space import SearchSpace, generate_search
    from sdk.submission import load_submission

    torch.set_num_threads(threads)
    w = workloads().create(name, "dev", "pytorch")
    sub = load_submission("nadamw", "pytorch", "external")
    space = SearchSpace.load(baselines().entry("nadamw").search_space)
    hp = generate_search(space, 1)[0]
    rng = np.array([0, 1], np.uint32)
    queue = w._build_input_queue(rng, "train", data_dir, sub.batch_size(name))
    params, state = w.init_model_fn(rng)
    opt = sub.init_optimizer_state(w, params, state, hp, rng)
    batches = [next(queue) for _ in range(steps + 1)]

    def update(i: int) -> None:
        nonlocal opt, params, state
        opt, params, state = sub.update_params(
            workload=w, current_param_container=params, current_params_types=None,
            model_state=state, hyperparameters=hp, batch=batches[i],
            loss_type=spec.LossType.CTC_LOSS, optimizer_state=opt, eval_results=[],
            global_step=i, rng=rng)

    update(0)  # warm-up
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(1, steps + 1):
        update(i)
    step_wall = (time.perf_counter() - wall) / steps
    step_cpu = (time.process_time() - cpu) / steps
    wall, cpu = time.perf_counter(), time.process_time()
    w.eval_model(w.eval_batch_size, params, state, rng, data_dir, None, steps)
    eval_wall, eval_cpu = time.perf_counter() - wall, time.process_time() - cpu
    period = w.eval_period_time_sec
    return {"workload": name, "threads": threads, "batch": w.effective_batch_size(
        sub.batch_size(name)), "step_wall": step_wall, "step_cpu": step_cpu,
        "eval_wall": eval_wall, "eval_cpu": eval_cpu,
        "eval_share_cpu": eval_cpu / (period + eval_cpu), "period": period,
        "budget_steps_cpu": w.max_allowed_runtime_sec / step_cpu}


def main() -> None:
    from sdk.registry import workloads
    from sdk.text_tables import format_table
    from workloads.common.speech import data

    names = [n for n in workloads().names(scale="dev") if n.startswith("librispeech")]
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workloads", nargs="+", default=names)
    p.add_argument("--threads", nargs="+", type=int, default=[1])
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--data-dir")
    args = p.parse_args()
    started = time.perf_counter()
    data.load_dev(args.data_dir)
    load = time.perf_counter() - started
    rows = []
    for name in args.workloads:
        for threads in args.threads:
            r = bench(name, threads, args.steps, args.data_dir)
            rows.append((r["workload"], r["threads"], r["batch"],
                         f"{1000 * r['step_wall']:.0f}", f"{1000 * r['step_cpu']:.0f}",
                         f"{r['eval_wall']:.2f}", f"{r['eval_cpu']:.2f}",
                         f"{r['period']:g}", f"{100 * r['eval_share_cpu']:.1f}%",
                         f"{r['budget_steps_cpu']:.0f}"))
    print(f"data loaded in {load:.1f}s (prepared first if it was missing)")
    print(format_table(["workload", "threads", "batch", "step ms (wall)", "step ms (cpu)",
                        "eval s (wall)", "eval s (cpu)", "eval period s",
                        "eval share (cpu)", "steps in budget (cpu)"], rows))


if __name__ == "__main__":
    main()
