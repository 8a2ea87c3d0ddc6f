"""Self-tuning protocol: time-to-target of the helper-built example vs fixed-point NAdamW vs
schedule-free AdamW, on the dev workloads that exist.

Each (ruleset version, submission) is one real command,
``paceline run --ruleset self --ruleset-version V --submission S --workload W ... --studies N``
(no hyperparameters, budget = external budget x the version's multiplier, AlgoPerf's log
layout), run one after another in a subprocess. Per workload and version it prints, for each
submission, the studies that reached the validation target, the per-workload
time-to-target (AlgoPerf's self-tuning rule: the median over studies, a miss counts as
infinity), each study's time, the median step count, and the speedup over NAdamW.

    .venv/bin/python benchmarks/bench_self_tuning.py                      # mnist, 1 study
    .venv/bin/python benchmarks/bench_self_tuning.py --studies 3 --versions 0.6
    .venv/bin/python benchmarks/bench_self_tuning.py --full               # the lead's run
    .venv/bin/python benchmarks/bench_self_tuning.py --accounting         # v0.5 view drift

``--accounting`` measures the budget view's own accounting (a v0.5 submission has no
``train_state``) against the runner: it runs a v0.5-style submission built on the helpers on
MNIST under the self-tuning protocol and, after every evaluation, compares the view's elapsed
time with the runner's ``accumulated_submission_time``.

``--full`` is every dev workload, both frameworks where they exist, both versions, with each
version's number of studies (v0.5: 5, v0.6: 3). Finished trials are kept (``--resume``), so
an interrupted run continues where it stopped. ``--threads 1`` (default) avoids thread
oversubscription, which on a shared 2-core machine slows MNIST steps by 50x; on a quiet
machine pass ``--threads 0`` to let the frameworks choose. Timings on a shared machine are
provisional.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sdk.registry import workloads
from sdk.rulesets import VERSIONS, get_ruleset
from sdk.text_tables import format_table

REPO = Path(__file__).resolve().parents[1]
SUBMISSIONS = ("nadamw", "schedule_free_adamw", "self_tuning_example")
REFERENCE = "nadamw"


def dev_workloads() -> list[str]:
    return workloads().names(scale="dev", variants=False)


def run_one(version: str, submission: str, names: list[str], framework: str,
            args: argparse.Namespace) -> list[dict[str, Any]]:
    """One `paceline run --ruleset self` command; its trials from the --json summary."""
    root = Path(args.experiment_dir)
    summary = root / f"summary_v{version}_{framework}_{submission}.json"
    studies = args.studies or get_ruleset(version).num_studies
    cmd = [sys.executable, "-m", "sdk.cli.main", "run", "--ruleset", "self",
           "--ruleset-version", version, "--submission", submission, "--framework", framework,
           "--studies", str(studies), "--seed", str(args.seed), "--experiment-dir", str(root),
           "--experiment-name", f"v{version}/{submission}", "--resume", "--no-progress",
           "--no-tensorboard", "--json", str(summary)]
    for name in names:
        cmd += ["--workload", name]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if args.speed_factor:
        cmd += ["--speed-factor", str(args.speed_factor)]
    env = dict(os.environ)
    if args.threads == 1:  # XLA's CPU pools take their size from flags, not from --threads
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false "
                            "intra_op_parallelism_threads=1").strip()
    print(f"== rules v{version}, {submission}, {framework}: {', '.join(names)}, "
          f"{studies} stud{'y' if studies == 1 else 'ies'}", file=sys.stderr, flush=True)
    started = time.time()
    done = subprocess.run(cmd, cwd=REPO, env=env, stdout=subprocess.DEVNULL)
    if done.returncode != 0 or not summary.is_file():
        print(f"   failed (exit {done.returncode})", file=sys.stderr)
        return []
    print(f"   {time.time() - started:.0f} s wall", file=sys.stderr)
    return json.loads(summary.read_text())["trials"]


def median_time(trials: list[dict[str, Any]]) -> float:
    """AlgoPerf's self-tuning time-to-target of one workload: median over studies."""
    times = [t["time_to_target_sec"] if t["time_to_target_sec"] is not None else math.inf
             for t in trials]
    return statistics.median(times) if times else math.nan


def fmt_time(t: float) -> str:
    return "inf" if math.isinf(t) else "-" if math.isnan(t) else f"{t:.1f}"


def table(results: dict[tuple[str, str, str, str], list[dict[str, Any]]]) -> str:
    rows = []
    for (version, framework, workload, submission), trials in sorted(results.items()):
        if not trials:
            rows.append([workload, framework, f"v{version}", submission, "failed", "", "", "",
                         "", ""])
            continue
        t = median_time(trials)
        ref_trials = results.get((version, framework, workload, REFERENCE), [])
        ref = median_time(ref_trials) if ref_trials else math.nan
        speedup = ref / t if math.isfinite(t) and math.isfinite(ref) else math.nan
        hit = sum(tr["reached_validation_target"] for tr in trials)
        rows.append([
            workload, framework, f"v{version}", submission, f"{hit}/{len(trials)}",
            fmt_time(t), " ".join(fmt_time(tr["time_to_target_sec"] or math.inf)
                                  for tr in sorted(trials, key=lambda x: x["study"])),
            f"{trials[0]['budget_sec']:.0f}",
            f"{statistics.median(tr['global_step'] for tr in trials):.0f}",
            "-" if math.isnan(speedup) else f"{speedup:.2f}",
        ])
    return format_table(["workload", "framework", "rules", "submission", "hit",
                         "time-to-target(s)", "per study", "budget(s)", "steps",
                         "vs nadamw"], rows)


V05_SUBMISSION = '''
import torch
from algorithmic_efficiency import spec
from self_tuning import BudgetView, EndOfBudgetGuard, TimeSchedule, warmup_cosine

RECORD = []


def get_batch_size(workload_name):
    return 32


def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):
    return {"optimizer": torch.optim.Adam(model_params.parameters()),
            "budget": BudgetView.for_workload(workload, hyperparameters),
            "guard": EndOfBudgetGuard(), "schedule": TimeSchedule(warmup_cosine(0.05), 3e-3)}


def update_params(workload, current_param_container, current_params_types, model_state,
                  hyperparameters, batch, loss_type, optimizer_state, eval_results,
                  global_step, rng):
    snap = optimizer_state["budget"].observe(global_step, eval_results)
    RECORD.append((global_step, snap.elapsed_sec, snap.estimated_sec))
    optimizer_state["guard"].check(snap)
    lr = optimizer_state["schedule"].lr(snap, end_sec=optimizer_state["guard"].horizon_sec(snap))
    opt = optimizer_state["optimizer"]
    for group in opt.param_groups:
        group["lr"] = lr
    opt.zero_grad()
    logits, new_state = workload.model_fn(current_param_container, batch, model_state,
                                          spec.ForwardPassMode.TRAIN, rng, True)
    loss = workload.loss_fn(batch["targets"], logits, batch.get("weights"))
    (loss["summed"] / loss["n_valid_examples"]).backward()
    opt.step()
    optimizer_state["budget"].finish_step()
    return optimizer_state, current_param_container, new_state


def data_selection(workload, input_queue, optimizer_state, current_param_container,
                   model_state, hyperparameters, global_step, rng):
    return next(input_queue)
'''


def accounting_drift(args: argparse.Namespace) -> str:
    """Run the v0.5-style submission; the view's elapsed time vs the runner's, per eval."""
    import csv
    import tempfile

    from sdk.cli.main import main as paceline

    rows = []
    for speed in args.accounting_speeds:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "v05_helpers.py"
            path.write_text(V05_SUBMISSION)
            cmd = ["run", "--workload", "mnist", "--submission", str(path), "--ruleset",
                   "self", "--ruleset-version", "0.5", "--speed-factor", str(speed),
                   "--no-progress", "--no-tensorboard", "--no-checkpoints",
                   "--experiment-dir", tmp, "--seed", str(args.seed), "--json",
                   str(Path(tmp) / "s.json")]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            paceline(cmd)
            record = sys.modules["paceline_submission_v05_helpers"].RECORD
            trial = json.loads((Path(tmp) / "s.json").read_text())["trials"][0]
            with open(Path(trial["trial_dir"]) / "eval_measurements.csv") as f:
                evals = list(csv.DictReader(f))
            seen = {step: (elapsed, est) for step, elapsed, est in record}
            drift = [seen[int(r["global_step"])][0] - float(r["accumulated_submission_time"])
                     for r in evals if int(r["global_step"]) in seen]
            rows.append([f"{trial['budget_sec']:.1f}", len(evals), trial["global_step"],
                         trial["status"], f"{1000 * drift[-1]:+.1f}",
                         f"{1000 * max(abs(d) for d in drift):.1f}",
                         f"{1000 * record[-1][2]:.0f}",
                         f"{trial['budget_sec'] - float(evals[-1]['score']):.3f}"])
            del sys.modules["paceline_submission_v05_helpers"]
    return format_table(["budget(s)", "evals", "steps", "status", "drift at end(ms)",
                         "max |drift|(ms)", "estimated(ms)", "last eval before end(s)"], rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workloads", nargs="+", metavar="NAME",
                   help="dev workloads (default: mnist; 'all' = every dev workload)")
    p.add_argument("--submissions", nargs="+", default=list(SUBMISSIONS))
    p.add_argument("--frameworks", nargs="+", default=["pytorch"], choices=["pytorch", "jax"])
    # the default stays the two versions docs/measurements/self-tuning.md was measured with
    p.add_argument("--versions", nargs="+", default=["0.5", "0.6"], choices=VERSIONS)
    p.add_argument("--studies", type=int, default=None,
                   help="studies per workload (default: 1; --full: the version's number)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="0 = the frameworks' default")
    p.add_argument("--speed-factor", type=float, default=None)
    p.add_argument("--experiment-dir", default=str(REPO / "experiments" / "bench_self_tuning"))
    p.add_argument("--full", action="store_true",
                   help="every dev workload, both frameworks, each version's studies")
    p.add_argument("--accounting", action="store_true",
                   help="measure the v0.5 budget view's drift against the runner instead")
    p.add_argument("--accounting-speeds", nargs="+", type=float, default=[0.1, 0.5],
                   metavar="X", help="--speed-factor of the accounting runs")
    args = p.parse_args(argv)
    if args.accounting:
        print(accounting_drift(args))
        return 0
    if args.full:
        args.workloads = args.workloads or ["all"]
        args.frameworks = ["pytorch", "jax"]
    elif args.studies is None:
        args.studies = 1
    names = args.workloads or ["mnist"]
    if "all" in names:
        names = dev_workloads()
    results: dict[tuple[str, str, str, str], list[dict[str, Any]]] = {}
    for version in args.versions:
        for framework in args.frameworks:
            have = [n for n in names if framework in workloads().entry(n).frameworks("dev")]
            if not have:
                continue
            for submission in args.submissions:
                trials = run_one(version, submission, have, framework, args)
                for name in have:
                    results[(version, framework, name, submission)] = [
                        t for t in trials if t["workload"] == name]
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
