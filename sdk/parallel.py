"""Running a plan's trials side by side: one single-threaded trial per worker process.

    paceline run --workload suite --submission nadamw --jobs 2

Each worker is a fresh (spawned) process that holds its framework to one thread before the
framework starts (:func:`sdk.clock.hold_to_one_thread`), loads the submission itself and runs
one trial at a time through :func:`sdk.experiment.run_trial`, exactly as a sequential run
would. Under the dev clock every trial is charged its own CPU time, so trials running side by
side do not slow each other's clocks. While trials run, one line per running trial reports
its latest evaluation (read from the trial's own ``eval_measurements.csv``).

A trial whose worker dies (a segfault) is recorded as crashed from the log Python's
faulthandler left (:mod:`sdk.trial_status`); the pool is started again and the trials it
interrupted resume from their checkpoints, so the plan goes on.
"""

from __future__ import annotations

import csv
import multiprocessing
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sdk.errors import PacelineError
from sdk.experiment import TrialSpec, kept_on_resume
from sdk.rulesets import RulesetTable
from sdk.runner import RunOptions, TrialResult
from sdk.trial_logs import EVAL_FILE

# How often the parent reports the running trials (seconds).
REPORT_EVERY = 10.0


def default_jobs() -> int:
    """One trial per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class SubmissionRef:
    """How a worker loads the submission for itself (plain data: it pickles)."""

    source: str
    framework: str
    ruleset: str
    api_version: str | None = None


def submission_ref(args: Any) -> SubmissionRef:
    """The submission a command's flags name, for workers to load."""
    return SubmissionRef(args.submission, args.framework, args.ruleset,
                         getattr(args, "api_version", None))


_WORKER: dict[str, Any] = {}


def _start_worker(framework: str, threads: int | None) -> None:
    from sdk.clock import hold_to_one_thread

    if threads in (None, 1):
        hold_to_one_thread(framework)


def worker_pool(workers: int, framework: str, threads: int | None = 1) -> ProcessPoolExecutor:
    """``workers`` spawned processes, each holding ``framework`` to one thread before it
    starts (unless ``threads`` asks for more): where paceline runs trials side by side."""
    return ProcessPoolExecutor(max_workers=max(1, workers),
                               mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker, initargs=(framework, threads))


def _run_one(ref: SubmissionRef, spec: TrialSpec, version: str, options: RunOptions,
             workload_kwargs: dict[str, Any]) -> TrialResult:
    from sdk.experiment import run_trial
    from sdk.rulesets import get_ruleset
    from sdk.submission import load_submission

    if _WORKER.get("ref") != ref:
        submission = load_submission(ref.source, ref.framework, ref.ruleset)
        if ref.api_version:
            submission.api_version = ref.api_version
        _WORKER.update(ref=ref, submission=submission)
    return run_trial(spec, _WORKER["submission"], get_ruleset(version), options, workload_kwargs)


def run_plan_parallel(
    specs: list[TrialSpec],
    ref: SubmissionRef,
    table: RulesetTable,
    options: RunOptions,
    jobs: int,
    workload_kwargs: dict[str, Any] | None = None,
    on_result: Callable[[TrialResult], None] | None = None,
    say: Callable[[str], None] | None = None,
) -> list[TrialResult]:
    """Run ``specs`` on ``jobs`` worker processes; results come back in completion order."""
    if jobs < 1:
        raise PacelineError(f"--jobs must be at least 1, got {jobs}.")
    say = say or (lambda line: print(line, file=sys.stderr))
    options = _for_workers(options)
    results: list[TrialResult] = []
    todo, resumed, before = list(specs), set(), _holding_files(specs)
    while todo:  # a crashed worker breaks the pool: record its trial, start the rest again
        todo = _run_pool(todo, resumed, ref, table, options, jobs, workload_kwargs or {},
                         results, on_result, say)
        resumed |= _holding_files(todo) - before  # started by this run
    return results


def _run_pool(specs: list[TrialSpec], resumed: set[Path], ref: SubmissionRef,
              table: RulesetTable, options: RunOptions, jobs: int,
              workload_kwargs: dict[str, Any], results: list[TrialResult],
              on_result: Callable[[TrialResult], None] | None,
              say: Callable[[str], None]) -> list[TrialSpec]:
    """Run ``specs`` on one pool; returns the trials to run again if a worker died.

    ``resumed``: the trial folders this run started before a crash (they continue with
    ``resume``, from their checkpoints).
    """
    from dataclasses import replace

    with worker_pool(min(jobs, len(specs)), ref.framework, options.threads) as pool:
        running: dict[Future, TrialSpec] = {
            pool.submit(_run_one, ref, spec, table.version,
                        replace(options, resume=True) if spec.trial_dir in resumed else options,
                        workload_kwargs): spec
            for spec in specs
        }
        watcher = _Watcher(say)
        while running:
            done, _ = wait(running, timeout=1.0, return_when=FIRST_COMPLETED)
            for future in done:
                spec = running.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    return _after_crash([spec, *running.values()], results, on_result, say)
                results.append(result)
                if on_result is not None:
                    on_result(result)
                watcher.forget(spec)
            watcher.report(list(running.values()))
    return []


def _after_crash(unfinished: list[TrialSpec], results: list[TrialResult],
                 on_result: Callable[[TrialResult], None] | None,
                 say: Callable[[str], None]) -> list[TrialSpec]:
    """Record the trials whose process crashed; returns the others, to run again."""
    from sdk.runner import crash_reason, record_failure
    from sdk.trial_status import TrialStatus

    crashed = []
    for spec in unfinished:
        why = crash_reason(spec.trial_dir)
        if why is None:
            continue
        crashed.append(spec)
        result = record_failure(spec.trial_dir, TrialStatus.CRASHED,
                                f"the trial's process died: {why}")
        if result is not None:
            results.append(result)
            if on_result is not None:
                on_result(result)
    if not crashed:
        raise PacelineError("A worker process running trials died without a crash log (killed, "
                            "e.g. for memory); rerun with --resume to continue.")
    again = [s for s in unfinished if s not in crashed]
    if again:
        say(f"paceline: a trial's process crashed; {len(again)} trial(s) start again")
    return again


def _holding_files(specs: list[TrialSpec]) -> set[Path]:
    """The trial folders among ``specs`` that exist and hold anything."""
    return {s.trial_dir for s in specs if s.trial_dir.is_dir() and any(s.trial_dir.iterdir())}


def _for_workers(options: RunOptions) -> RunOptions:
    """Workers draw no bars of their own (the parent reports them), one thread each; the
    recorded flags keep only what can travel to another process."""
    import pickle
    from dataclasses import replace

    flags = {}
    for key, value in options.flags.items():
        try:
            pickle.dumps(value)
        except Exception:  # noqa: BLE001 - anything that cannot be pickled is shown as text
            value = repr(value)
        flags[key] = value
    return replace(options, progress=False, threads=options.threads or 1, flags=flags)


class _Watcher:
    """One line per running trial every :data:`REPORT_EVERY` seconds, when it has news."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.last_report = time.monotonic()
        self.seen: dict[Path, tuple[str, ...]] = {}

    def forget(self, spec: TrialSpec) -> None:
        self.seen.pop(spec.trial_dir, None)

    def report(self, running: list[TrialSpec]) -> None:
        if time.monotonic() - self.last_report < REPORT_EVERY:
            return
        self.last_report = time.monotonic()
        for spec in running:
            row = latest_eval(spec.trial_dir)
            if row is None or self.seen.get(spec.trial_dir) == tuple(row.values()):
                continue
            self.seen[spec.trial_dir] = tuple(row.values())
            self.say(f"  {spec.workload} study {spec.study} trial {spec.trial}: "
                     f"{describe(row)}")


def latest_eval(trial_dir: Path) -> dict[str, str] | None:
    """The last row of a running trial's ``eval_measurements.csv`` (``None`` before one)."""
    path = Path(trial_dir) / EVAL_FILE
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except (OSError, csv.Error, UnicodeDecodeError):
        return None
    return rows[-1] if rows else None


def describe(row: dict[str, str]) -> str:
    """``step 1200, 4.1 s of submission time, validation/accuracy 0.871``."""
    parts = []
    if row.get("global_step"):
        parts.append(f"step {row['global_step']}")
    if row.get("accumulated_submission_time"):
        try:
            parts.append(f"{float(row['accumulated_submission_time']):.1f} s of submission time")
        except ValueError:
            pass
    for key, value in row.items():
        if key and key.startswith("validation/") and not key.endswith(("num_examples", "loss")):
            try:
                parts.append(f"{key} {float(value):.4g}")
            except (TypeError, ValueError):
                continue
    return ", ".join(parts) or "running"


def jobs_for(requested: int | None, options: RunOptions, trials: int) -> int:
    """``--jobs`` as given, else ``$PACELINE_JOBS`` or one per core under the dev clock (1
    under the wall clock, where trials side by side would slow each other's clocks), never
    more than the trials."""
    env = os.environ.get("PACELINE_JOBS", "")
    default = int(env) if env.isdigit() and int(env) > 0 else default_jobs()
    jobs = requested or (default if options.clock == "dev" else 1)
    return max(1, min(jobs, trials))


def run_specs(specs: list[TrialSpec], submission: Any, ref: SubmissionRef, table: RulesetTable,
              options: RunOptions, jobs: int, workload_kwargs: dict[str, Any] | None = None,
              on_result: Callable[[TrialResult], None] | None = None) -> list[TrialResult]:
    """Run a plan in this process (``jobs`` 1) or side by side on ``jobs`` workers; a plan of
    several trials is forecast first (:mod:`sdk.forecast`), and side by side its trials start
    longest first."""
    from sdk.experiment import run_plan

    if len(specs) > 1:
        from sdk.forecast import plan_forecast

        forecast = plan_forecast(specs, table, options, jobs, workload_kwargs)
        if jobs > 1:
            order = forecast.longest_first()
            specs, forecast = [specs[i] for i in order], forecast.reordered(order)
        left = [i for i, spec in enumerate(specs)
                if not (options.resume and kept_on_resume(spec))]
        if len(left) < len(specs):
            print(f"paceline: {len(specs) - len(left)} of {len(specs)} trials already "
                  "finished; --resume keeps them", file=sys.stderr)
        if left:
            print(forecast.reordered(left).line("paceline"), file=sys.stderr)
    if jobs > 1 and len(specs) > 1:
        print(f"paceline: {jobs} trials side by side, one thread each", file=sys.stderr)
        return run_plan_parallel(specs, ref, table, options, jobs, workload_kwargs, on_result)
    return run_plan(specs, submission, table, options, workload_kwargs, on_result=on_result)
