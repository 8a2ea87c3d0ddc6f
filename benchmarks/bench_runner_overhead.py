"""Per-step overhead of paceline's timed runner against a bare training loop.

Both loops make exactly the same NAdamW updates on the mnist dev workload (same batches,
same hyperparameters); the bare loop just calls ``data_selection`` and ``update_params`` in a
``for`` loop and reads the clock once at each end. It passes per-step keys like the runner's
(numpy rows, which a jitted ``update_params`` copies to the device), all derived before its
clock starts. The runner's figure is its accumulated submission time (what AlgoPerf scores),
which includes its per-step bookkeeping: RNG derivation, clock reads, device sync,
eval-eligibility checks. Evals are pushed out of the way with a huge eval period (they are
untimed anyway).

    .venv/bin/python benchmarks/bench_runner_overhead.py [--steps 4000] [--repeats 15] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import time

from sdk import rng as prng
from sdk.frameworks.adapters import get_adapter
from sdk.registry import baselines, workloads
from sdk.rulesets import get_ruleset
from sdk.runner import RunOptions, train_once
from sdk.search_space import SearchSpace, generate_search
from sdk.submission import load_submission


def _setup(framework: str):
    sub = load_submission("nadamw", framework, "external")
    space = SearchSpace.load(baselines().entry("nadamw").search_space)
    hp = generate_search(space, 1)[0]
    return sub, hp


def bare_loop(framework: str, steps: int) -> float:
    sub, hp = _setup(framework)
    prng.set_framework(framework)
    w = workloads().create("mnist", "dev", framework, time_scale=1e6)
    key = prng.PRNGKey(0)
    data_rng, opt_rng, model_rng, step_rng = prng.split(key, 4)
    queue = w._build_input_queue(data_rng, "train", None, sub.batch_size("mnist"))
    params, model_state = w.init_model_fn(model_rng)
    opt = sub.init_optimizer_state(w, params, model_state, hp, opt_rng)
    types, loss_type = w.model_params_types, w.loss_type
    sync = get_adapter(framework).sync
    # per-step keys as the runner passes them (numpy rows), all derived before the clock
    step_keys = prng.StepKeys(step_rng, 4, framework, block=steps)
    keys = [step_keys(step) for step in range(steps)]
    start = time.time()
    for step in range(steps):
        select_rng, update_rng = keys[step][0], keys[step][1]
        batch = sub.data_selection(w, queue, opt, params, model_state, hp, step, select_rng)
        opt, params, model_state = sub.update_params(w, params, types, model_state, hp, batch,
                                                     loss_type, opt, [], step, update_rng)
    sync(params)
    return time.time() - start


THREADS: list[int | None] = [None]  # --threads: the runner's thread limit (bare loop: the same)


def runner_loop(framework: str, steps: int) -> float:
    sub, hp = _setup(framework)
    w = workloads().create("mnist", "dev", framework, time_scale=1e6)
    options = RunOptions(max_global_steps=steps, save_checkpoints=False, tensorboard=False,
                         threads=THREADS[0])
    result = train_once(w, sub, hp, 0, get_ruleset("0.5"), options, None)
    return result.submission_time_sec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--frameworks", default="pytorch,jax")
    parser.add_argument("--threads", type=int, help="CPU threads for both loops (PyTorch)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
        THREADS[0] = args.threads
    print(f"mnist dev, NAdamW, batch 16, {args.steps} steps, {args.repeats} alternating pairs "
          "(after one warm-up of each); overhead = median over pairs of runner/bare - 1, with "
          "the pairs' interquartile range")
    print(f"{'framework':10s} {'bare ms/step':>13s} {'runner ms/step':>15s} {'overhead':>9s} "
          f"{'IQR':>17s}")
    for framework in args.frameworks.split(","):
        bare_loop(framework, 200)
        runner_loop(framework, 200)
        bare, runner = [], []
        for _ in range(args.repeats):
            bare.append(bare_loop(framework, args.steps))
            runner.append(runner_loop(framework, args.steps))
        b, r = statistics.median(bare), statistics.median(runner)
        ratios = sorted(100 * (y / x - 1) for x, y in zip(bare, runner, strict=True))
        q1, _, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
        print(f"{framework:10s} {1e3 * b / args.steps:13.4f} {1e3 * r / args.steps:15.4f} "
              f"{statistics.median(ratios):8.2f}% {q1:7.2f}% .. {q3:5.2f}%")

if __name__ == "__main__":
    main()
