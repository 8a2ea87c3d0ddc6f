"""`paceline run`: train a submission on workloads under a ruleset, AlgoPerf-style.

    paceline run --workload mnist --framework pytorch --submission nadamw
    paceline run --workload suite --submission my_algo/submission.py \\
        --tuning-search-space my_algo/tuning_search_space.json --studies 1 --trials 5
    paceline run --workload mnist --submission nadamw --ruleset self --ruleset-version 0.6
    torchrun --standalone --nnodes=1 --nproc_per_node=2 -m sdk.cli.main run \
        --workload mnist --submission nadamw          # PyTorch DDP (docs/runner.md)

Writes ``<experiment-dir>/<ruleset>_tuning/<submission>/study_<k>/<workload>_<framework>/
trial_<n>/`` in AlgoPerf's format and prints a table per trial and per workload.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path
from typing import Any

from sdk.cli.command import Command
from sdk.cli.validate import (
    MAX_JOBS,
    MAX_STUDIES,
    MAX_THREADS,
    MAX_TRIALS,
    finite_positive_float,
    positive_int,
)
from sdk.clock import CLOCKS
from sdk.errors import PacelineError
from sdk.rulesets import (
    DEFAULT_VERSION,
    RULESETS,
    VERSION_CHOICES,
    resolve_version,
    version_label,
)


def add_common_run_flags(p: argparse.ArgumentParser) -> None:
    """Flags shared by `run`, `tune` and `heldout`: what to train, where, under which rules."""
    p.add_argument("--workload", action="append", metavar="NAME",
                   help="workload name; repeat for several; 'suite' = the scored workloads "
                        "at this scale (default: mnist)")
    p.add_argument("--framework", choices=["pytorch", "jax"], default="pytorch")
    p.add_argument("--submission", required=True,
                   help="a submission .py file (or its folder) or a registered baseline name")
    p.add_argument("--tuning-search-space", metavar="JSON",
                   help="search space (external tuning; default: a baseline's own space)")
    p.add_argument("--ruleset", choices=RULESETS, default="external")
    p.add_argument("--ruleset-version", choices=VERSION_CHOICES, type=resolve_version,
                   default=DEFAULT_VERSION,
                   help=f"AlgoPerf rules to follow; 'latest' is the newest (default "
                        f"{DEFAULT_VERSION}, the benchmark paper's)")
    p.add_argument("--scale", choices=["dev", "official"], default="dev")
    p.add_argument("--seed", type=int, help="base seed (default: random, recorded in logs)")
    p.add_argument("--experiment-dir", default="experiments", metavar="DIR")
    p.add_argument("--experiment-name", metavar="NAME",
                   help="default: <scale>/<ruleset>_tuning/<submission>")
    p.add_argument("--data-dir", metavar="DIR",
                   help="dataset directory (default: paceline's prepared data cache)")
    p.add_argument("--max-global-steps", type=positive_int(), metavar="N")
    p.add_argument("--clock", choices=CLOCKS, default=None,
                   help="how submission time is measured: 'dev' = this trial's CPU time, "
                        "compilation left out, in calibration-machine seconds (default at dev "
                        "scale); 'wall' = AlgoPerf's wall clock (the official scale's)")
    p.add_argument("--speed-factor", type=finite_positive_float, default=None, metavar="X",
                   help="dev scale only: override the probed normalisation, as for a machine "
                        "X times slower than the calibration machine (default: "
                        "$PACELINE_SPEED_FACTOR, else probed by `paceline calibrate`)")
    p.add_argument("--threads", type=positive_int(MAX_THREADS), metavar="N",
                   help="CPU threads for the framework")
    p.add_argument("--api-version", choices=["0.5", "0.6"],
                   help="force the submission API generation (default: detected from imports)")
    p.add_argument("--torch-compile", action="store_true", help="torch.compile the model")
    p.add_argument("--no-checkpoints", action="store_true",
                   help="do not checkpoint after evals (no --resume possible)")
    p.add_argument("--no-tensorboard", action="store_true")
    p.add_argument("--whole-budget", action="store_true",
                   help="train every trial for its whole budget, past its targets, so that "
                        "other targets can be judged from its evaluations later "
                        "(`leaderboard fidelity --dev-targets`); time-to-target is still "
                        "recorded")
    p.add_argument("--wandb", action="store_true",
                   help="also log every trial to Weights & Biases, as AlgoPerf's --use_wandb "
                        "(needs `pip install wandb`; project $WANDB_PROJECT, else 'paceline')")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="live progress bar (default: when stderr is a terminal)")
    p.add_argument("--json", metavar="OUT", help="write a machine-readable summary here")


def configure(p: argparse.ArgumentParser) -> None:
    add_common_run_flags(p)
    p.add_argument("--studies", type=positive_int(MAX_STUDIES), default=1, metavar="N")
    p.add_argument("--trials", type=positive_int(MAX_TRIALS), default=1, metavar="M",
                   help="trials per study (external tuning; default 1)")
    p.add_argument("--resume", action="store_true",
                   help="continue killed trials from their last checkpoint and keep "
                        "finished ones")
    p.add_argument("--overwrite", action="store_true", help="start existing trials again")
    p.add_argument("--pdb", action="store_true",
                   help="open a post-mortem debugger where a submission raised (runs trials "
                        "one at a time, in this process)")
    p.add_argument("--jobs", type=positive_int(MAX_JOBS), default=None, metavar="N",
                   help="trials run side by side, one single-threaded trial per process "
                        "(default: one per core under the dev clock, else 1)")


def run(args: argparse.Namespace) -> int:
    """Run the plan; under ``torchrun`` ranks other than 0 train silently and report nothing
    (rank 0 prints, writes ``--json`` and the trials' logs; see :mod:`sdk.distributed`)."""
    from sdk import distributed

    if distributed.is_rank0():
        return _run(args)
    args.json = None
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet), \
            contextlib.redirect_stderr(quiet):
        _run(args)
    return 0


def _run(args: argparse.Namespace) -> int:
    from sdk.distributed import ddp_active, is_rank0
    from sdk.run_context import prepare

    ctx = prepare(args)
    from sdk.experiment import plan_trials
    from sdk.parallel import jobs_for, run_specs, submission_ref
    from sdk.text_tables import failed_trials_note, measurement_note, trials_table, workloads_table
    from sdk.trial_status import TrialStatus, is_failure

    if args.studies < 1 or args.trials < 1:
        raise PacelineError("--studies and --trials must be at least 1.")
    specs = plan_trials(ctx.workloads, args.framework, args.scale, args.ruleset,
                        ctx.search_space, args.studies, args.trials, ctx.seed, ctx.root)
    print(f"paceline: {ctx.submission.name} ({args.framework}, API v{ctx.submission.api_version})"
          f" on {', '.join(ctx.workloads)} at {args.scale} scale, {args.ruleset} tuning, rules "
          f"{version_label(ctx.table.version)}; {len(specs)} trial(s), seed {ctx.seed}; "
          f"logs in {ctx.root}",
          file=sys.stderr)
    results = []

    def report(result) -> None:  # noqa: ANN001
        results.append(result)
        hit = (f"reached {result.target_metric} {result.validation_target:g} at "
               f"{result.time_to_target_sec:.1f}s" if result.time_to_target_sec is not None
               else f"missed the target (best {result.best_validation_metric})")
        why = f" ({result.reason})" if is_failure(result.status) and result.reason else ""
        print(f"  {result.workload} study {result.study} trial {result.trial}: {result.status}"
              f"{why}, {result.global_step} steps, {hit}", file=sys.stderr)
        if args.json:
            _write_summary(args.json, ctx, results)

    # a DDP run is one trial at a time, all ranks on it together
    jobs = 1 if args.pdb or ddp_active() else jobs_for(args.jobs, ctx.options, len(specs))
    ctx.options.post_mortem = args.pdb
    try:
        run_specs(specs, ctx.submission, submission_ref(args), ctx.table, ctx.options, jobs,
                  ctx.workload_kwargs, on_result=report)
    finally:
        if args.json and results:
            _write_summary(args.json, ctx, results)
    if not is_rank0():
        return 0
    from sdk.scoring import load_submission_times

    rules = run_rules(ctx.table.version, args.ruleset, ctx.workloads)
    mine = load_submission_times(ctx.root, rules, framework=args.framework)
    print(trials_table(results))
    print()
    print(workloads_table(results, mine.workloads))
    for note in (failed_trials_note(results), measurement_note(results)):
        if note:
            print(note, file=sys.stderr)
    if results and all(is_failure(r.status) and r.status != TrialStatus.DIVERGED
                       for r in results):
        first = results[0]
        raise PacelineError(
            f"Every trial failed; trial {first.trial} of study {first.study} on "
            f"{first.workload}: {first.reason.rstrip('.')} (recorded in "
            f"{Path(first.trial_dir or '.') / 'paceline_trial.json'})."
        )
    if args.scale == "dev":
        print()
        print(score_against_references(ctx, args, rules, mine))
        if args.ruleset == "self":
            from sdk.dev_leaderboard import place_runs

            print()
            print(place_runs({f"{ctx.submission.name} (this run)": mine}, ctx.workloads,
                             args.ruleset, ctx.table.version))
    return 0


def run_rules(version: str, ruleset: str, names: list[str]):  # noqa: ANN201
    """The scoring rules for a run's own workloads.

    A run trains only the workloads it names, never their held-out variants, so v0.5's
    held-out rule is not applied here (`paceline heldout` simulates it).
    """
    from sdk.scoring import rules_over

    return rules_over(version, names, self_tuning=ruleset == "self")


def score_against_references(ctx, args: argparse.Namespace, rules, mine) -> str:  # noqa: ANN001
    """The benchmark score of this run next to the kit's baselines (shipped timings)."""
    from sdk.scoring.against import compare

    return compare({f"{ctx.submission.name} (this run)": mine}, ctx.workloads, args.scale,
                   args.ruleset, ctx.table.version, rules)


def _write_summary(path: str, ctx, results) -> None:  # noqa: ANN001
    from sdk.trial_logs import atomic_write_json

    atomic_write_json(Path(path), {
        "submission": ctx.submission.name,
        "ruleset": ctx.options.ruleset,
        "ruleset_version": ctx.table.version,
        "seed": ctx.seed,
        "experiment": str(ctx.root),
        "trials": [r.to_json() for r in results],
    })


COMMAND = Command(
    name="run",
    help="train a submission on workloads with AlgoPerf's timing and log format",
    description=__doc__,
    configure=configure,
    run=run,
)


def run_like_paceline_run(argv: list[str], isolate: bool = False) -> list[Any]:
    """What `paceline run ARGV` does up to the trial results (no tables, no scoring).

    ``isolate``: run the trials in worker processes even one at a time.
    """
    from sdk.experiment import plan_trials
    from sdk.parallel import jobs_for, run_plan_parallel, run_specs, submission_ref
    from sdk.run_context import prepare

    parser = argparse.ArgumentParser(prog="paceline run")
    configure(parser)
    run_args = parser.parse_args(argv)
    run_args._argv = ["run", *argv]
    ctx = prepare(run_args)
    specs = plan_trials(ctx.workloads, run_args.framework, run_args.scale, run_args.ruleset,
                        ctx.search_space, run_args.studies, run_args.trials, ctx.seed, ctx.root)
    jobs = jobs_for(run_args.jobs, ctx.options, len(specs))
    results: list[Any] = []

    def report(result: Any) -> None:
        results.append(result)
        hit = (f"reached the target at {result.time_to_target_sec:.1f}s"
               if result.time_to_target_sec is not None else "missed the target")
        print(f"  {ctx.submission.name} {result.workload} study {result.study} trial "
              f"{result.trial}: {result.status}, {result.global_step} steps, {hit}",
              file=sys.stderr)

    if isolate and not (jobs > 1 and len(specs) > 1):
        run_plan_parallel(specs, submission_ref(run_args), ctx.table, ctx.options, jobs,
                          ctx.workload_kwargs, on_result=report)
    else:
        run_specs(specs, ctx.submission, submission_ref(run_args), ctx.table, ctx.options,
                  jobs, ctx.workload_kwargs, on_result=report)
    return results
