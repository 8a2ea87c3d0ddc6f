"""Turning `paceline run`-style flags into what the runner needs (shared by run/tune/heldout)."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdk import distributed
from sdk.clock import check_clock, default_clock, hold_to_one_thread
from sdk.errors import PacelineError
from sdk.registry import baselines, workloads
from sdk.rulesets import VERSIONS, RulesetTable, base_workload_name, get_ruleset, version_label
from sdk.runner import RunOptions
from sdk.search_space import SearchSpace
from sdk.submission import Submission, load_submission


@dataclass
class RunContext:
    submission: Submission
    table: RulesetTable
    workloads: list[str]
    search_space: SearchSpace | None
    seed: int
    root: Path
    options: RunOptions
    workload_kwargs: dict[str, Any] = field(default_factory=dict)


def resolve_workloads(names: list[str] | None, scale: str,
                      base_workloads: tuple[str, ...] | None = None) -> list[str]:
    """Expand 'suite' (scored workloads at ``scale``) and 'all'; check every name exists.

    With ``base_workloads`` (the rules' scored workloads), 'suite' is those of them that exist
    at ``scale``, and one line on stderr names the ones that do not exist there yet.
    """
    registry = workloads()
    out: list[str] = []
    for name in names or ["mnist"]:
        if name in ("suite", "all"):
            found = registry.names(scale=scale, scored=True if name == "suite" else None,
                                   variants=False)
            if name == "suite" and base_workloads is not None:
                found = _suite_of_the_rules(found, base_workloads, scale)
            if not found:
                raise PacelineError(f"No {'scored ' if name == 'suite' else ''}workloads are "
                                    f"registered at {scale} scale yet.")
            out.extend(found)
            continue
        entry = registry.entry(name)
        if scale not in entry.classes:
            have = ", ".join(sorted(entry.classes)) or "none"
            raise PacelineError(f"Workload {name!r} has no {scale} scale (available: {have}).")
        out.append(name)
    return list(dict.fromkeys(out))


def _suite_of_the_rules(found: list[str], base_workloads: tuple[str, ...],
                        scale: str) -> list[str]:
    """The registered scored workloads the rules score; says which of theirs are missing."""
    missing = [w for w in base_workloads if w not in found]
    if missing:
        have = len(base_workloads) - len(missing)
        print(f"paceline: {', '.join(missing)} {'has' if len(missing) == 1 else 'have'} no "
              f"{scale} workload yet; the suite runs the other {have}.", file=sys.stderr)
    return [w for w in found if w in base_workloads]


def dev_clock_override(value: float | None, scale: str) -> float | None:
    """The clock scale a speed factor asks for (``1 / X``), or ``None`` to use the probed one.

    ``--speed-factor X`` (or ``$PACELINE_SPEED_FACTOR``) says this machine is X times slower
    than the calibration machine; the trial's clock then divides its seconds by X, so budgets,
    eval periods and reference timings keep their calibration-machine seconds.
    """
    if value is not None and scale != "dev":
        raise PacelineError("--speed-factor applies to the dev scale only; the official scale "
                            "is timed in AlgoPerf's wall seconds.")
    if value is None and not os.environ.get("PACELINE_SPEED_FACTOR"):
        return None
    return 1.0 / speed_factor(value) if scale == "dev" else None


def clock_options(args: argparse.Namespace) -> dict[str, Any]:
    """The runner's timing options from ``--clock``, ``--speed-factor`` and ``--threads``.

    Under the dev clock the framework is held to one thread in this process (unless
    ``--threads`` says otherwise; CPU time is charged for every thread either way).
    """
    clock = check_clock(getattr(args, "clock", None) or default_clock(args.scale), args.scale)
    threads = args.threads or (1 if clock == "dev" else None)
    if clock == "dev" and threads == 1:
        late = hold_to_one_thread(args.framework)
        if late:
            print(f"paceline: {late}.", file=sys.stderr)
    override = dev_clock_override(getattr(args, "speed_factor", None), args.scale)
    return {"clock": clock, "clock_scale": override,
            "threads": threads}


def speed_factor(value: float | None) -> float:
    if value is None:
        env = os.environ.get("PACELINE_SPEED_FACTOR")
        if not env:
            return 1.0
        try:
            value = float(env)
        except ValueError:
            raise PacelineError(f"PACELINE_SPEED_FACTOR={env!r} is not a number.") from None
    if not value > 0:
        raise PacelineError(f"The speed factor must be positive, got {value}.")
    return float(value)


def default_search_space(args: argparse.Namespace, submission: Submission) -> SearchSpace | None:
    if args.ruleset == "self":
        if args.tuning_search_space:
            raise PacelineError(
                "The self-tuning ruleset takes no search space; drop --tuning-search-space."
            )
        return None
    if args.tuning_search_space:
        return SearchSpace.load(args.tuning_search_space)
    if submission.baseline is not None:
        path = baselines().entry(submission.baseline).search_space
        if path is not None:
            return SearchSpace.load(path)
    if submission.path is not None:
        sibling = submission.path.parent / "tuning_search_space.json"
        if sibling.is_file():
            print(f"paceline: using {sibling}", file=sys.stderr)
            return SearchSpace.load(sibling)
    raise PacelineError(
        "External tuning needs a search space: pass --tuning-search-space JSON, or put "
        "tuning_search_space.json beside the submission, or use --ruleset self."
    )


def check_in_rules(name: str, table: RulesetTable) -> None:
    """One sentence, before any training, when ``name`` belongs to none of ``table``'s workloads."""
    base = base_workload_name(name)
    if base in table.workloads:
        return
    having = [v for v in VERSIONS if base in get_ruleset(v).workloads]
    hint = f"; run it with --ruleset-version {having[-1]} (or latest)" if having else ""
    raise PacelineError(f"{name} is not a workload of the {version_label(table.version)} "
                        f"rules{hint}.")


def prepare(args: argparse.Namespace) -> RunContext:
    """Validate flags, import the submission and build the runner's options."""
    from sdk.cli.validate import check_run_flags
    from sdk.experiment import random_seed

    check_run_flags(args)
    distributed.check_framework(args.framework)
    timing = clock_options(args)
    table = get_ruleset(args.ruleset_version)
    names = resolve_workloads(args.workload, args.scale, table.base_workloads)
    for name in names:
        workloads().workload_class(name, args.scale, args.framework)  # fails early, clearly
        check_in_rules(name, table)
    submission = load_submission(args.submission, args.framework, args.ruleset)
    if getattr(args, "api_version", None):
        submission.api_version = args.api_version
    problems = submission.check()
    if problems:
        more = f" (and {len(problems) - 1} more; see `paceline check`)" if len(problems) > 1 else ""
        raise PacelineError(f"The submission does not follow the API: {problems[0]}{more}")
    space = default_search_space(args, submission)
    seed = args.seed if args.seed is not None else random_seed()
    name = args.experiment_name or f"{args.scale}/{args.ruleset}_tuning/{submission.name}"
    root = Path(args.experiment_dir) / name
    progress = args.progress if args.progress is not None else sys.stderr.isatty()
    flags = {k: v for k, v in vars(args).items() if not k.startswith("_")}
    options = RunOptions(
        ruleset=args.ruleset,
        data_dir=args.data_dir,
        max_global_steps=args.max_global_steps,
        resume=getattr(args, "resume", False),
        overwrite=getattr(args, "overwrite", False),
        save_checkpoints=not args.no_checkpoints,
        tensorboard=not args.no_tensorboard,
        progress=progress,
        torch_compile=args.torch_compile,
        ignore_targets=getattr(args, "whole_budget", False),
        flags=flags,
        **timing,
    )
    return RunContext(submission, table, names, space, seed, root, options, {})
