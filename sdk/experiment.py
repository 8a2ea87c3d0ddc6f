"""Studies and trials on disk in AlgoPerf's layout, and running them one after another.

    <experiment_dir>/<experiment_name>/study_<k>/<workload>_<framework>/trial_<n>/

``k`` is 0-based and ``n`` 1-based, as in the official result logs. Seeds are derived from one
base seed and the (workload, study, trial) position, so a rerun with the same ``--seed``
reproduces every trial; external-tuning points are drawn once per study with a study-seeded
order (AlgoPerf draws the same set each study in an unseeded order).

A trial is a unit of failure (:mod:`sdk.trial_status`): one that fails is recorded as a miss
with its reason and the plan goes on; ``--resume`` keeps it as recorded. A trial whose process
crashed (a segfault leaves ``paceline_crash.log``) is recorded as crashed on resume, not rerun.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sdk import rng as prng
from sdk.distributed import is_rank0
from sdk.errors import PacelineError
from sdk.registry import workloads as workload_registry
from sdk.rulesets import RulesetTable
from sdk.runner import (
    RunOptions,
    TrialFailed,
    TrialResult,
    crash_reason,
    hyperparameters_from_file,
    raise_for_existing,
    read_status,
    record_failure,
    train_once,
)
from sdk.search_space import SearchSpace, generate_search
from sdk.submission import Submission
from sdk.trial_status import TrialStatus


@dataclass(frozen=True)
class TrialSpec:
    """One trial to run: where, with which hyperparameters and seed."""

    workload: str
    framework: str
    scale: str
    study: int
    trial: int
    hyperparameters: dict[str, Any] | None
    rng_seed: int
    trial_dir: Path


def trial_dir_for(root: Path, study: int, workload: str, framework: str, trial: int) -> Path:
    return Path(root) / f"study_{study}" / f"{workload}_{framework}" / f"trial_{trial}"


def plan_trials(
    workloads: Iterable[str],
    framework: str,
    scale: str,
    ruleset: str,
    search_space: SearchSpace | None,
    num_studies: int,
    num_trials: int,
    base_seed: int,
    root: Path,
) -> list[TrialSpec]:
    """Every trial of the protocol, in run order (workload, study, trial)."""
    specs = []
    for workload in workloads:
        for study in range(num_studies):
            if ruleset == "self":
                points: list[dict[str, Any] | None] = [None]
            else:
                if search_space is None:
                    raise PacelineError(
                        "The external-tuning ruleset needs a search space; pass "
                        "--tuning-search-space JSON (or --ruleset self)."
                    )
                order_seed = prng.derive_seed(base_seed, "study-order", study)
                drawn = generate_search(search_space, num_trials, seed=order_seed)
                points = [dict(p._asdict()) for p in drawn]
            for index, point in enumerate(points, start=1):
                specs.append(TrialSpec(
                    workload=workload, framework=framework, scale=scale, study=study,
                    trial=index, hyperparameters=point,
                    rng_seed=prng.derive_seed(base_seed, workload, study, index),
                    trial_dir=trial_dir_for(root, study, workload, framework, index),
                ))
    return specs


def kept_on_resume(spec: TrialSpec) -> bool:
    """Whether ``--resume`` keeps this trial as recorded (:func:`finished_result` returns a
    result for it), read without recording anything."""
    status = read_status(spec.trial_dir)
    if not status:
        return False
    if status.get("finished"):
        return bool(status.get("result"))
    return crash_reason(spec.trial_dir) is not None


def finished_result(spec: TrialSpec) -> TrialResult | None:
    """The recorded result of a trial that already finished (failed ones too), if any.

    A trial still marked running whose process crashed (its faulthandler log says so) is
    recorded as crashed here and returned as such.
    """
    status = read_status(spec.trial_dir)
    if status and status.get("finished") and status.get("result"):
        return TrialResult(**status["result"])
    if status and not status.get("finished"):
        why = crash_reason(spec.trial_dir)
        if why is not None:
            return record_failure(spec.trial_dir, TrialStatus.CRASHED,
                                  f"the trial's process died: {why}")
    return None


def run_trial(
    spec: TrialSpec,
    submission: Submission,
    table: RulesetTable,
    options: RunOptions,
    workload_kwargs: dict[str, Any] | None = None,
) -> TrialResult:
    """Run (or resume, or reuse the finished record of) one planned trial.

    A trial that fails on its own is not an error here: its result (status failed or
    timed_out, with the reason) is returned like any other.
    """
    if options.resume:
        done = finished_result(spec)
        if done is not None:
            return done
    if is_rank0():  # under DDP rank 0 alone owns the trial directory
        raise_for_existing(spec.trial_dir, options)
    workload = workload_registry().create(
        spec.workload, spec.scale, spec.framework, ruleset_version=table.version,
        **(workload_kwargs or {}),
    )
    hp: Any = spec.hyperparameters  # the runner makes the submission's namedtuple once
    if hp is not None and options.resume:
        hp = hyperparameters_from_file(spec.trial_dir) or hp  # as AlgoPerf reloads them
    try:
        return train_once(
            workload, submission, hp, spec.rng_seed, table, options, spec.trial_dir,
            study=spec.study, trial=spec.trial,
        )
    except TrialFailed as exc:
        if exc.result is None:
            raise
        return exc.result


def run_plan(
    specs: list[TrialSpec],
    submission: Submission,
    table: RulesetTable,
    options: RunOptions,
    workload_kwargs: dict[str, Any] | None = None,
    on_result: Callable[[TrialResult], None] | None = None,
) -> list[TrialResult]:
    """Run trials one after another; a finished trial's result is never lost.

    A failed trial is a result like any other (see :func:`run_trial`): the next one runs.
    """
    results = []
    for spec in specs:
        result = run_trial(spec, submission, table, options, workload_kwargs)
        results.append(result)
        if on_result is not None:
            on_result(result)
    return results


def random_seed() -> int:
    """A fresh seed when the user gives none (recorded in every trial's metadata)."""
    return int.from_bytes(os.urandom(4), "little") % (2**31 - 1)
