"""Per-step overhead of paceline's timed runner against a bare training loop.

Both loops make exactly the same NAdamW updates on the mnist dev workload (same seeds,
batches, initial parameters and hyperparameters; the "same updates" column checks that 300
steps of each end with bit-identical parameters). The bare loop just calls
``data_selection`` and ``update_params`` in a ``for`` loop and reads the clock once at each
end. It passes per-step keys like the runner's
(numpy rows, which a jitted ``update_params`` copies to the device), all derived before its
clock starts. The runner's figure is its accumulated submission time (what AlgoPerf scores),
which includes its per-step bookkeeping: RNG derivation, clock reads, device sync,
eval-eligibility checks. Evals are pushed out of the way with a huge eval period (they are
untimed anyway). Both loops time steps 1 to N-1: step 0 carries JAX's compilation of the
submission's update, a fixed cost whose noise would swamp a per-step figure. Pairs alternate their order (runner first, then bare first), so a drift of
the machine's speed within a pair does not favour either loop.

A second measurement isolates the runner's own cost from the noise of the updates: both
loops run a no-op submission (``data_selection`` takes the next batch, ``update_params``
returns its inputs), so what is left of a step is the loop itself; the difference in
microseconds per step, divided by the bare loop's NAdamW step, is the runner's per-step
overhead with far less noise than the ratio of two noisy NAdamW timings.

    .venv/bin/python benchmarks/bench_runner_overhead.py [--steps 4000] [--repeats 15] [--threads 1]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import tempfile
import time
import types
from pathlib import Path

from sdk import rng as prng
from sdk.frameworks.adapters import get_adapter
from sdk.registry import baselines, workloads
from sdk.rulesets import get_ruleset
from sdk.runner import RunOptions, train_once
from sdk.search_space import SearchSpace, generate_search
from sdk.submission import Submission, load_submission

THREADS: list[int | None] = [None]  # --threads: the runner's thread limit (bare loop: the same)


def _noop_submission() -> Submission:
    """A submission that takes a batch and changes nothing: what remains is the loop."""

    def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):
        return None

    def update_params(workload, current_param_container, current_params_types, model_state,
                      hyperparameters, batch, loss_type, optimizer_state, eval_results,
                      global_step, rng, train_state=None):
        return optimizer_state, current_param_container, model_state

    def prepare_for_eval(workload, current_param_container, current_params_types,
                         model_state, hyperparameters, loss_type, optimizer_state,
                         eval_results, global_step, rng):
        return optimizer_state, current_param_container, model_state

    def data_selection(workload, input_queue, optimizer_state, current_param_container,
                       model_state, hyperparameters, global_step, rng):
        return next(input_queue)

    def get_batch_size(workload_name):
        return 16

    module = types.ModuleType("noop_submission")
    for fn in (init_optimizer_state, update_params, prepare_for_eval, data_selection,
               get_batch_size):
        setattr(module, fn.__name__, fn)
    return Submission(module=module, name="noop", path=None, api_version="0.6")


def _setup(framework: str, noop: bool = False):
    sub = _noop_submission() if noop else load_submission("nadamw", framework, "external")
    space = SearchSpace.load(baselines().entry("nadamw").search_space)
    hp = generate_search(space, 1)[0]
    return sub, hp


def bare_loop(framework: str, steps: int, noop: bool = False,
              sub: Submission | None = None) -> float:
    """The same trial as :func:`runner_loop` without the runner: seeds, batches and updates
    derived exactly as the runner derives them for seed 0 under external tuning."""
    own, hp = _setup(framework, noop)
    sub = sub or own
    adapter = get_adapter(framework)
    adapter.setup(THREADS[0])
    prng.set_framework(framework)
    w = workloads().create("mnist", "dev", framework, time_scale=1e6)
    key, _ = prng.split(prng.PRNGKey(0), 2)  # the external-tuning ruleset's extra split
    data_rng, opt_rng, model_rng, step_rng = prng.split(key, 4)
    adapter.seed(model_rng)
    queue = w._build_input_queue(data_rng, "train", None, sub.batch_size("mnist"))
    params, model_state = w.init_model_fn(model_rng)
    opt = sub.init_optimizer_state(w, params, model_state, hp, opt_rng)
    types_, loss_type = w.model_params_types, w.loss_type
    # per-step keys as the runner passes them (numpy rows), all derived before the clock
    step_keys = prng.StepKeys(step_rng, 4, framework, block=steps)
    keys = [step_keys(step) for step in range(steps)]
    start = None
    for step in range(steps):
        select_rng, update_rng = keys[step][0], keys[step][1]
        batch = sub.data_selection(w, queue, opt, params, model_state, hp, step, select_rng)
        opt, params, model_state = sub.update_params(w, params, types_, model_state, hp, batch,
                                                     loss_type, opt, [], step, update_rng)
        if start is None:  # step 0 (with JAX's compilation) is not a per-step cost
            adapter.sync(params)
            start = time.time()
    adapter.sync(params)
    return time.time() - start


def runner_loop(framework: str, steps: int, noop: bool = False,
                sub: Submission | None = None) -> float:
    own, hp = _setup(framework, noop)
    w = workloads().create("mnist", "dev", framework, time_scale=1e6)
    options = RunOptions(max_global_steps=steps, save_checkpoints=False, tensorboard=False,
                         threads=THREADS[0])
    with tempfile.TemporaryDirectory() as tmp:
        result = train_once(w, sub or own, hp, 0, get_ruleset("0.5"), options, Path(tmp))
        with open(Path(tmp) / "eval_measurements.csv") as f:
            first = next(csv.DictReader(f))
    # the first eval follows step 0 (with JAX's compilation), which is not a per-step cost
    assert first["global_step"] == "1"
    return result.submission_time_sec - float(first["accumulated_submission_time"])


def _recording(framework: str) -> tuple[Submission, list]:
    """NAdamW whose ``update_params`` keeps a copy of the parameters it returns last."""
    real = load_submission("nadamw", framework, "external")
    last: list = []

    def update_params(*args, **kwargs):
        out = real.update_params(*args, **kwargs)
        last[:] = [_flat(out[1])]
        return out

    module = types.ModuleType("recording_nadamw")
    for name in ("init_optimizer_state", "data_selection", "get_batch_size",
                 "prepare_for_eval"):
        setattr(module, name, getattr(real.module, name))
    module.update_params = update_params
    return Submission(module=module, name="nadamw", path=None, api_version=real.api_version), last


def _flat(params) -> list:
    import numpy as np

    if hasattr(params, "state_dict"):
        return [v.detach().numpy().copy() for v in params.state_dict().values()]
    import jax

    return [np.asarray(x).copy() for x in jax.tree_util.tree_leaves(params)]


def same_updates(framework: str, steps: int = 300) -> bool:
    """Whether both loops end ``steps`` NAdamW steps with bit-identical parameters."""
    import numpy as np

    sub, bare = _recording(framework)
    bare_loop(framework, steps, sub=sub)
    sub, run = _recording(framework)
    runner_loop(framework, steps, sub=sub)
    return len(bare[0]) == len(run[0]) and all(
        np.array_equal(a, b) for a, b in zip(bare[0], run[0], strict=True))


def _pairs(framework: str, steps: int, repeats: int, noop: bool) -> tuple[list, list]:
    """``repeats`` (bare, runner) timings, alternating which of the two runs first."""
    bare_loop(framework, 200, noop)
    runner_loop(framework, 200, noop)
    bare, runner = [], []
    for i in range(repeats):
        if i % 2:
            bare.append(bare_loop(framework, steps, noop))
            runner.append(runner_loop(framework, steps, noop))
        else:
            runner.append(runner_loop(framework, steps, noop))
            bare.append(bare_loop(framework, steps, noop))
    return bare, runner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=4000)
    parser.add_argument("--noop-steps", type=int, default=20000,
                        help="steps of each no-op-submission loop")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--frameworks", default="pytorch,jax")
    parser.add_argument("--threads", type=int, help="CPU threads for both loops (PyTorch)")
    args = parser.parse_args()
    if min(args.steps, args.noop_steps) < 10 or args.repeats < 1:
        parser.error("--steps and --noop-steps must be at least 10 and --repeats at least 1")
    if not set(args.frameworks.split(",")) <= {"pytorch", "jax"}:
        parser.error(f"--frameworks takes pytorch, jax or both, comma-separated, "
                     f"not {args.frameworks!r}")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
        THREADS[0] = args.threads
    print(f"mnist dev, batch 16. NAdamW: {args.steps} steps, {args.repeats} pairs alternating "
          "their order (after one warm-up of each); overhead = median over pairs of "
          "runner/bare - 1, with the pairs' interquartile range. Loop only: the same with a "
          f"no-op submission, {args.noop_steps} steps; runner cost = the median difference "
          "per step, and as a share of the bare NAdamW step.")
    print(f"{'framework':10s} {'bare ms/step':>13s} {'runner ms/step':>15s} {'overhead':>9s} "
          f"{'IQR':>17s} {'loop bare us':>13s} {'loop runner us':>15s} "
          f"{'runner cost us':>15s} {'share':>7s} {'same updates':>13s}")
    for framework in args.frameworks.split(","):
        same = "yes" if same_updates(framework) else "NO"
        timed, noop_timed = args.steps - 1, args.noop_steps - 1  # steps 1 .. N-1
        bare, runner = _pairs(framework, args.steps, args.repeats, noop=False)
        b, r = statistics.median(bare), statistics.median(runner)
        ratios = sorted(100 * (y / x - 1) for x, y in zip(bare, runner, strict=True))
        q1, _, q3 = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else ratios * 3
        nb, nr = _pairs(framework, args.noop_steps, args.repeats, noop=True)
        cost = statistics.median((y - x) / noop_timed for x, y in zip(nb, nr, strict=True))
        print(f"{framework:10s} {1e3 * b / timed:13.4f} {1e3 * r / timed:15.4f} "
              f"{statistics.median(ratios):8.2f}% {q1:7.2f}% .. {q3:5.2f}% "
              f"{1e6 * statistics.median(nb) / noop_timed:13.2f} "
              f"{1e6 * statistics.median(nr) / noop_timed:15.2f} "
              f"{1e6 * cost:15.2f} {100 * cost / (b / timed):6.2f}% {same:>13s}")


if __name__ == "__main__":
    main()
