"""`paceline tune` and `paceline freeze`.

    paceline tune --workload mnist --submission nadamw --studies 2 --trials 5 --workers 2
    paceline tune --workload mnist --submission nadamw --dry-run --json plan.json
    paceline tune --workload mnist --workload fashion_mnist --submission my/submission.py \\
        --tuning-search-space my/space.json --search bayesian --shared --trials 20
    paceline freeze experiments/dev/external_tuning/nadamw_bayesian --points 5 \\
        --out tuning_search_space.json

``--search NAME`` is looked up in :func:`sdk.registry.search_strategies` (plug-ins through the
``paceline.search_strategies`` entry point); the strategy decides what differs between
searches (:mod:`external_tuning.strategy`). This module stays light (no torch, jax or Ax at import): `paceline --help` imports it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from sdk.cli.command import Command
from sdk.errors import PacelineError
from sdk.rulesets import version_label

DEFAULT_SEARCH = "quasi-random"
EXECUTORS = ("inline", "processes", "submitit-local", "slurm")


def configure_tune(p: argparse.ArgumentParser) -> None:
    from sdk.cli.run_cmd import add_common_run_flags
    from sdk.cli.validate import MAX_STUDIES, MAX_TRIALS, MAX_WORKERS, positive_int

    add_common_run_flags(p)
    p.add_argument("--studies", type=positive_int(MAX_STUDIES), metavar="N",
                   help="studies per workload (default: the ruleset's, 5 in v0.5, 3 in v0.6)")
    p.add_argument("--trials", type=positive_int(MAX_TRIALS), metavar="M",
                   help="trials per study (default: the ruleset's 5)")
    p.add_argument("--search", default=DEFAULT_SEARCH, metavar="NAME",
                   help="a registered search strategy: quasi-random, the benchmark's own "
                        "protocol (default); bayesian: Ax + BoTorch on time-to-target; or a "
                        "plug-in's (entry point paceline.search_strategies)")
    p.add_argument("--shared", action="store_true",
                   help="bayesian: search one configuration shared by all --workload's, "
                        "judged on all of them")
    p.add_argument("--initial-trials", type=positive_int(MAX_TRIALS), metavar="N",
                   help="bayesian: quasi-random trials before the model (default: "
                        "min(5, trials/3))")
    p.add_argument("--warm-start", action="append", default=[], metavar="DIR",
                   help="bayesian: earlier studies of this search space (any experiment in "
                        "AlgoPerf's layout, e.g. paceline tune folders of other workloads); "
                        "the first trials are the configurations that did best there "
                        "(repeat for several folders), and the model learns from all their "
                        "results (see --no-transfer)")
    p.add_argument("--transfer", action=argparse.BooleanOptionalAction, default=True,
                   help="bayesian with --warm-start: the model learns from every result of "
                        "the earlier studies, as observations of their own workloads "
                        "(default: on); --no-transfer: their best points start the search, "
                        "and only its own trials inform the model")
    p.add_argument("--early-stopping", action=argparse.BooleanOptionalAction, default=None,
                   help="stop trials that can no longer reach the target within the budget "
                        "(default: on for bayesian, off for quasi-random)")
    p.add_argument("--workers", type=positive_int(MAX_WORKERS), default=None, metavar="K",
                   help="trials run at once (default: one per core under the dev clock, "
                        "else 1)")
    p.add_argument("--executor", choices=EXECUTORS,
                   help="where trials run (default: inline for one worker, processes for more)")
    p.add_argument("--slurm", action="append", default=[], metavar="KEY=VALUE",
                   help="a submitit/SLURM job setting, e.g. partition=gpu, timeout_min=240, "
                        "gpus_per_node=1 (repeat)")
    p.add_argument("--dry-run", action="store_true",
                   help="list every trial's hyperparameters per study without training "
                        "(as JSON with --json OUT, '-' for stdout)")
    p.add_argument("--overwrite", action="store_true",
                   help="delete this experiment's tuning state and trials and start again")


def run_tune(args: argparse.Namespace) -> int:
    from sdk.run_context import prepare

    strategy = _check_tune_flags(args)
    slurm = _key_values(args.slurm)
    ctx = prepare(args)
    study = _make_study(args, ctx, strategy)
    if args.dry_run:
        return _dry_run(study, args.json)
    return _run_study(args, ctx, study, slurm)


def _check_tune_flags(args: argparse.Namespace) -> Any:
    """The strategy ``--search`` names, after the flags that need no submission are checked."""
    from sdk.registry import search_strategies

    if args.ruleset != "external":
        raise PacelineError("paceline tune runs the external-tuning ruleset; for self-tuning "
                            "use paceline run --ruleset self.")
    strategy = search_strategies().strategy_class(args.search)
    if args.warm_start and not strategy.takes_prior:
        raise PacelineError(f"--warm-start gives first points to a search that learns from "
                            f"its trials (e.g. --search bayesian); a {args.search} search has "
                            "no use for them.")
    if args.shared and strategy.fixed_plan:
        raise PacelineError(f"--shared applies to searches that learn from earlier trials "
                            f"(e.g. --search bayesian); a {args.search} search already runs "
                            "the same points on every workload.")
    return strategy


def _make_study(args: argparse.Namespace, ctx: Any, strategy: Any) -> Any:
    """The tuning experiment the flags describe (resumed from its folder if it exists)."""
    from external_tuning.early_stopping import TargetOutOfReach
    from external_tuning.study import Study

    root = ctx.root
    if args.experiment_name is None and args.search != DEFAULT_SEARCH:
        suffix = args.search.replace("-", "_") + ("_shared" if args.shared else "")
        root = root.with_name(f"{root.name}_{suffix}")
    if args.overwrite:
        _remove_experiment(root, ctx.workloads, args.framework)
    early = args.early_stopping if args.early_stopping is not None else strategy.early_stopping
    config = _tune_config(args, ctx, root, early)
    threads = ctx.options.threads
    if threads is None and args.workers > 1:
        threads = max(1, (os.cpu_count() or 1) // args.workers)
    options = replace(ctx.options, resume=True, overwrite=False, progress=False,
                      threads=threads, early_stop=TargetOutOfReach() if early else None)
    return Study(config, root, options, workload_facts(config, ctx.table), threads)


def _tune_config(args: argparse.Namespace, ctx: Any, root: Path, early: bool) -> Any:
    """The flags as a :class:`~external_tuning.study.TuneConfig` (sets ``args.workers``)."""
    from external_tuning.study import TuneConfig, read_state

    table = ctx.table
    studies = args.studies if args.studies is not None else table.num_studies
    trials = args.trials if args.trials is not None else table.num_trials
    if studies < 1 or trials < 1:
        raise PacelineError("--studies and --trials must be at least 1.")
    if args.workers is None:
        from sdk.parallel import jobs_for

        args.workers = jobs_for(None, ctx.options, studies * trials * len(ctx.workloads))
    saved = read_state(root)
    seed = args.seed if args.seed is not None else (saved[0].seed if saved else ctx.seed)
    space = ctx.search_space
    assert space is not None
    if space.is_list and trials > len(space.points):
        print(f"paceline tune: {space.source} lists {len(space.points)} points, so each study "
              f"runs {len(space.points)} trials, not {trials} (as AlgoPerf does).",
              file=sys.stderr)
        trials = len(space.points)
    return TuneConfig(
        submission=args.submission, submission_name=ctx.submission.name,
        framework=args.framework, scale=args.scale, ruleset_version=table.version,
        api_version=ctx.submission.api_version, workloads=tuple(ctx.workloads),
        space=space.to_json(), search=args.search, num_studies=studies, num_trials=trials,
        seed=seed, shared=args.shared, initial_trials=args.initial_trials,
        early_stopping=early, max_global_steps=args.max_global_steps,
        workload_kwargs=dict(ctx.workload_kwargs), cap=table.r_max,
        clock=ctx.options.clock, clock_scale=ctx.options.clock_scale,
        warm_start=tuple(args.warm_start), transfer=args.transfer,
        **_warm_start(args, space, table, trials, saved[0] if saved else None),
    )


def _warm_start(args: argparse.Namespace, space: Any, table: Any, trials: int,
                saved: Any) -> dict[str, tuple[dict[str, Any], ...]]:
    """``prior`` (the first points) and ``related`` (the results the model learns from) of
    ``--warm-start``; the saved ones when resuming."""
    if not args.warm_start:
        return {}
    if saved is not None and saved.warm_start == tuple(args.warm_start):
        return {"prior": saved.prior, "related": saved.related if args.transfer else ()}
    from external_tuning.strategies.bayesian import default_initial_trials
    from external_tuning.warm_start import prior_design
    from sdk.scoring.targets import scoring_rules

    missing = [d for d in args.warm_start if not Path(d).is_dir()]
    if missing:
        raise PacelineError(f"--warm-start {missing[0]} is not a folder.")
    count = args.initial_trials or default_initial_trials(trials)
    design = prior_design(args.warm_start, space, scoring_rules(table.version), count)
    if not args.transfer:
        design = replace(design, related=())
    print(f"paceline tune: {design.describe()}", file=sys.stderr)
    return {"prior": design.points, "related": design.related}


def _run_study(args: argparse.Namespace, ctx: Any, study: Any, slurm: dict[str, Any]) -> int:
    """Run what is left of the experiment, then print its summary."""
    from external_tuning.executors import make_executor
    from external_tuning.progress import StudyProgress

    config, root, table = study.config, study.root, ctx.table
    kind = args.executor or ("inline" if args.workers == 1 else "processes")
    executor = make_executor(kind, args.workers, study.threads, root / "submitit", slurm)
    print(f"paceline tune: {ctx.submission.name} ({args.framework}) on "
          f"{', '.join(ctx.workloads)} at {args.scale} scale, "
          f"rules {version_label(table.version)}; "
          f"{args.search} search, {config.num_studies} studies x {config.num_trials} trials, "
          f"seed {config.seed}, {args.workers} worker(s) ({kind}); logs in {root}",
          file=sys.stderr)
    _print_forecast(study, ctx, args.workers)
    progress = StudyProgress(bar=ctx.options.progress)
    try:
        study.run(executor, on_trial=progress.trial, on_start=progress.start,
                  on_submit=progress.submitted)
    finally:
        progress.close()
        if args.json:
            _write_summary(args.json, study, config, root)
    from external_tuning import report

    print(report.text(report.summary(study.groups, table.r_max)))
    print(f"\nScore it: paceline score {root} --ruleset-version {table.version}\n"
          f"Freeze a search space: paceline freeze {root} --points {table.num_trials} "
          "--out tuning_search_space.json")
    return 0


def _print_forecast(study: Any, ctx: Any, workers: int) -> None:
    """One line before the trials start: how many, their budgets, and the wall time."""
    from sdk.forecast import Forecast, machine_factors

    pending = study.pending_workloads()
    if not pending:
        return
    budgets = {w: study.facts[w].budget for w in set(pending)}
    here = {w: machine_factors(study.options, w, study.config.framework) for w in budgets}
    forecast = Forecast(tuple(budgets[w] for w in pending), workers, study.options.clock,
                        tuple(here[w][0] for w in pending), tuple(here[w][1] for w in pending))
    print(forecast.line("paceline tune"), file=sys.stderr)


def workload_facts(config: Any, table: Any) -> dict[str, Any]:
    """Budget, metric and target of each workload, as its trials will see them."""
    from external_tuning.executors import WorkloadFacts
    from sdk.registry import workloads

    out = {}
    for name in config.workloads:
        w = workloads().create(name, config.scale, config.framework,
                               ruleset_version=config.ruleset_version, **config.workload_kwargs)
        out[name] = WorkloadFacts(
            budget=w.max_allowed_runtime_sec * table.budget_multiplier("external"),
            metric=w.target_metric_name, target=w.validation_target_value,
            minimized=w.metric_minimized)
    return out


def _key_values(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise PacelineError(f"--slurm takes KEY=VALUE, got {item!r}.")
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    return out


def _remove_experiment(root: Path, workload_names: list[str], framework: str) -> None:
    """``--overwrite``: delete the experiment's trials paceline made, refusing anything else.

    Every ``trial_<n>`` folder under ``study_*/<workload>_<framework>/`` must be a trial
    directory paceline made (:func:`sdk.trial_logs.is_trial_dir`) and nothing else may sit
    beside them; otherwise nothing is deleted and one sentence names the folder.
    """
    from external_tuning.study import STATE_FILE
    from sdk.trial_logs import is_trial_dir

    if not root.exists():
        return
    doomed = [study / f"{name}_{framework}" for study in sorted(root.glob("study_*"))
              for name in workload_names if (study / f"{name}_{framework}").exists()]
    for folder in doomed:
        for item in folder.iterdir():
            if not (item.name.startswith("trial_") and is_trial_dir(item)):
                raise PacelineError(f"{item} was not made by paceline, so --overwrite does not "
                                    "delete it or its folder; move it away first.")
    (root / STATE_FILE).unlink(missing_ok=True)
    for folder in doomed:
        shutil.rmtree(folder)


def _dry_run(study: Any, json_out: str | None) -> int:
    plan = study.dry_run()
    if json_out:
        text = json.dumps(plan, indent=2) + "\n"
        if json_out == "-":
            sys.stdout.write(text)
        else:
            from sdk.trial_logs import atomic_write_text

            atomic_write_text(Path(json_out), text)
        return 0
    from sdk.text_tables import format_table

    rows = []
    for s in plan["studies"]:
        for t in s["trials"]:
            point = t["hyperparameters"]
            shown = json.dumps({k: float(f"{v:.4g}") if isinstance(v, float) else v
                                for k, v in point.items()}) if point else t["source"]
            rows.append((s["workload"], s["study"], t["trial"], t["status"], t["rng_seed"],
                         shown))
    print(format_table(["workload", "study", "trial", "status", "seed", "hyperparameters"],
                       rows))
    return 0


def _write_summary(path: str, study: Any, config: Any, root: Path) -> None:
    from external_tuning import report
    from sdk.rulesets import get_ruleset
    from sdk.trial_logs import atomic_write_json

    data = {"experiment": str(root), "config": config.to_json(),
            **report.summary(study.groups, get_ruleset(config.ruleset_version).r_max)}
    if path == "-":
        from sdk.trial_logs import _jsonable

        sys.stdout.write(json.dumps(_jsonable(data), indent=2) + "\n")
        return
    atomic_write_json(Path(path), data)


# ---- freeze --------------------------------------------------------------------------------


def configure_freeze(p: argparse.ArgumentParser) -> None:
    from sdk.cli.validate import MAX_DRAWS, MAX_STUDIES, MAX_TRIALS, bounded_int, positive_int
    from sdk.rulesets import DEFAULT_VERSION, VERSION_CHOICES, resolve_version

    p.add_argument("studies", nargs="+", metavar="STUDY_DIR",
                   help="tuning experiments in AlgoPerf's layout (paceline tune's folders, or "
                        "any <submission>/study_<k>/<workload>_<framework>/trial_<n> tree)")
    p.add_argument("--points", type=positive_int(MAX_TRIALS), default=5, metavar="K",
                   help="at most this many points (default 5, the benchmark's trials per study)")
    p.add_argument("--box", action="store_true",
                   help="freeze a box (min/max per hyperparameter) instead of a list of points")
    p.add_argument("--out", required=True, metavar="JSON",
                   help="where to write the frozen search space")
    p.add_argument("--ruleset-version", choices=VERSION_CHOICES, type=resolve_version,
                   default=DEFAULT_VERSION,
                   help="studies per workload and r_max of the simulated benchmark")
    p.add_argument("--sim-studies", type=positive_int(MAX_STUDIES), metavar="N",
                   help="studies the simulated benchmark runs (default: the ruleset's)")
    p.add_argument("--samples", type=bounded_int(10, MAX_DRAWS), default=400, metavar="R",
                   help="simulated benchmark runs per candidate (default 400)")
    p.add_argument("--reference", action="append", default=[], metavar="DIR",
                   help="other submissions' experiment folders to compete with (default: "
                        "the best time any studied configuration reached per workload)")
    p.add_argument("--seed", type=int, default=0, help="seed of the simulation")
    p.add_argument("--no-noise-floor", action="store_true",
                   help="let each workload's model take its seed noise from the studies alone "
                        "(default: no less than repeated runs of one configuration show, in "
                        "the studies and the shipped reference timings)")
    p.add_argument("--json", metavar="OUT", help="write the choice and its explanation here")


def run_freeze(args: argparse.Namespace) -> int:
    from external_tuning.freeze import freeze_command

    return freeze_command(args)


TUNE_DESCRIPTION = """Run the external-tuning protocol: --studies studies of --trials trials per
workload, in AlgoPerf's layout (paceline score reads it), with AlgoPerf's quasi-random search
(the default: the same points and seeds as paceline run) or Bayesian search (Ax + BoTorch on
time-to-target). Rerun the same command after Ctrl-C or kill -9 to resume: finished trials
are kept, interrupted ones resume from their last checkpoint.

    paceline tune --workload mnist --submission nadamw --studies 2 --trials 5 --workers 2
    paceline tune --workload mnist --submission nadamw --dry-run --json plan.json
    paceline tune --workload mnist --workload ogbg --submission my/submission.py \\
        --tuning-search-space my/space.json --search bayesian --shared --trials 20
    paceline tune --workload suite --submission my/submission.py --executor slurm \\
        --workers 40 --slurm partition=gpu --slurm gpus_per_node=1 --slurm timeout_min=600
"""

FREEZE_DESCRIPTION = """Choose at most --points points (or, with --box, a min/max box) for the
submission's tuning_search_space.json: the set with the best expected external-tuning score,
found by simulating the benchmark (every point run in each study, the earliest-eval trial per
study, the median over studies) with the trials the given experiments observed.

    paceline freeze experiments/dev/external_tuning/nadamw_bayesian --points 5 \\
        --out tuning_search_space.json --json why.json
    paceline freeze runs/my_algo --box --out box.json --reference runs/baseline
"""

TUNE_COMMAND = Command(
    name="tune",
    help="run the external-tuning protocol (quasi-random or Bayesian search), resumable, "
         "in parallel",
    description=TUNE_DESCRIPTION,
    configure=configure_tune,
    run=run_tune,
)

FREEZE_COMMAND = Command(
    name="freeze",
    help="choose at most 5 points (or a box) that maximise the expected external-tuning score",
    description=FREEZE_DESCRIPTION,
    configure=configure_freeze,
    run=run_freeze,
)
