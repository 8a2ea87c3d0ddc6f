"""Where trials run: in this process, in local worker processes, or through submitit (SLURM).

An executor takes :class:`TrialJob`s and hands back :class:`TrialOutcome`s; the study never
sees how. Three are built in (``paceline tune --executor``):

* ``inline``: one trial at a time in the calling process (``--workers 1``);
* ``processes``: ``--workers K`` spawned worker processes, each started with its own thread
  limits (``OMP_NUM_THREADS`` and friends, XLA's flags, torch's thread count) set before
  torch or jax is imported; a worker dies with the process that started it (``kill -9``
  included), so a resumed study never races an orphan;
* ``submitit-local`` / ``slurm``: each trial is a submitit job (``submitit``'s local executor
  runs jobs as local subprocesses; ``slurm`` submits them with ``sbatch``; extra ``#SBATCH``
  settings come from ``--slurm KEY=VALUE``).

Every job takes an exclusive lock on its trial folder while it runs, so two jobs for the same
trial (a resubmission after the study was killed while a SLURM job still ran) run one after
the other and the second finds the first one's result instead of training again.

    paceline tune --workload mnist --submission nadamw --workers 2
    paceline tune --workload mnist --submission nadamw --executor slurm --workers 20 \\
        --slurm partition=gpu --slurm gpus_per_node=1 --slurm timeout_min=240
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from external_tuning.observations import Observation
from sdk.clock import limit_thread_pools
from sdk.errors import PacelineError, describe_exception
from sdk.experiment import TrialSpec
from sdk.file_lock import file_lock
from sdk.runner import RunOptions, crash_reason, record_failure
from sdk.trial_status import WALL_BACKSTOP, TrialStatus, watchdog_limit

EXECUTORS = ("inline", "processes", "submitit-local", "slurm")
LOCK_FILE = ".paceline_trial.lock"
# The process executor kills a trial's worker this long after its watchdog limit
# (sdk/trial_status.py): the trial's own in-process watchdog fires first and records itself;
# the kill is for a hang that never returns to Python.
KILL_AFTER_LIMIT = (1.1, 10.0)  # limit * 1.1 + min(10 s, limit)


@dataclass(frozen=True)
class WorkloadFacts:
    """What a study must know about a workload to record a trial that produced no result."""

    budget: float
    metric: str
    target: float
    minimized: bool


@dataclass(frozen=True)
class TrialJob:
    """Everything a worker needs to run one trial; plain data, so it pickles anywhere."""

    spec: TrialSpec
    submission: str
    framework: str
    ruleset: str
    ruleset_version: str
    api_version: str | None
    options: RunOptions
    facts: WorkloadFacts
    workload_kwargs: dict[str, Any] = field(default_factory=dict)
    threads: int | None = None

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.spec.workload, self.spec.study, self.spec.trial)


@dataclass(frozen=True)
class TrialOutcome:
    """What came back: the observation, or ``fatal`` when the study itself cannot go on."""

    key: tuple[str, int, int]
    observation: Observation | None
    fatal: str | None = None


# ---- the job itself (runs in whichever process the executor chose) ---------------------------


def limit_threads(threads: int | None) -> None:
    """Thread limits for numeric libraries; effective only before torch/jax are imported."""
    if threads:
        limit_thread_pools(threads)


_SUBMISSIONS: dict[tuple, Any] = {}


def _submission(job: TrialJob) -> Any:
    from sdk.submission import load_submission

    key = (job.submission, job.framework, job.ruleset, job.api_version)
    if key not in _SUBMISSIONS:
        sub = load_submission(job.submission, job.framework, job.ruleset)
        if job.api_version:
            sub.api_version = job.api_version
        _SUBMISSIONS[key] = sub
    return _SUBMISSIONS[key]


@contextlib.contextmanager
def trial_lock(trial_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``trial_dir`` (released by the kernel if the process dies)."""
    with file_lock(trial_dir / LOCK_FILE):
        yield


def run_trial_job(job: TrialJob) -> TrialOutcome:
    """Run (or resume, or reuse) one trial and describe it; never raises for a bad trial.

    A submission that raises, a divergence, an exhausted budget, or any other exception in the
    trial is an observation (a miss, with its reason). A problem that is not the trial's own
    (a dataset that is not prepared, a submission that cannot be imported) comes back as
    ``fatal`` and stops the study.
    """
    limit_threads(job.threads)
    if job.threads == 1 and job.options.clock == "dev":
        from sdk.clock import hold_to_one_thread

        hold_to_one_thread(job.framework)  # XLA sizes its pool from the cores it may use
    from sdk.experiment import run_trial
    from sdk.rulesets import get_ruleset
    from sdk.runner import TrialFailed

    spec = job.spec
    with trial_lock(spec.trial_dir):
        try:
            result = run_trial(spec, _submission(job), get_ruleset(job.ruleset_version),
                               job.options, job.workload_kwargs)
        except TrialFailed as exc:
            record_failure(spec.trial_dir, exc.status, str(exc))
            return TrialOutcome(job.key, failed_observation(job, str(exc), exc.status))
        except PacelineError as exc:
            return TrialOutcome(job.key, None, fatal=str(exc))
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - the trial's own miss
            reason = describe_exception(exc)
            record_failure(spec.trial_dir, TrialStatus.FAILED, reason)
            return TrialOutcome(job.key, failed_observation(job, reason))
    # the curve the runner held (a result read back from disk has none: read its CSV)
    curve = tuple(result.eval_curve) or read_curve(spec.trial_dir, result.target_metric)
    reached = result.time_to_target_sec
    if reached is not None and reached > result.budget_sec:
        reached = None  # v0.5's eval after the budget: the scorer does not count it
    return TrialOutcome(job.key, Observation(
        workload=spec.workload, status=result.status, time_to_target=reached,
        budget=result.budget_sec, target=result.validation_target,
        minimized=job.facts.minimized, curve=curve, reason=result.reason,
        trial_dir=str(spec.trial_dir), global_step=result.global_step,
    ))


def failed_observation(job: TrialJob, reason: str,
                       status: str = TrialStatus.FAILED) -> Observation:
    """A trial that produced no result: a miss with its reason, and whatever curve it left."""
    facts = job.facts
    return Observation(
        workload=job.spec.workload, status=status, time_to_target=None, budget=facts.budget,
        target=facts.target, minimized=facts.minimized,
        curve=read_curve(job.spec.trial_dir, facts.metric), reason=reason,
        trial_dir=str(job.spec.trial_dir),
    )


def read_curve(trial_dir: Path, metric: str) -> tuple[tuple[float, float], ...]:
    """``(score, validation/<metric>)`` per eval from ``eval_measurements.csv`` (empty if none)."""
    path = Path(trial_dir) / "eval_measurements.csv"
    if not path.is_file():
        return ()
    from sdk.scoring.reader import read_curve as read

    try:
        curve = read(path, f"validation/{metric}")
    except PacelineError:
        return ()
    return tuple((float(t), float(v)) for t, v in zip(curve.times, curve.values, strict=True)
                 if not math.isnan(t))


# ---- executors ---------------------------------------------------------------------------------


class Executor(Protocol):
    """Runs trial jobs; ``slots`` of them at once."""

    slots: int

    def submit(self, job: TrialJob) -> None: ...

    def poll(self, timeout: float) -> list[TrialOutcome]: ...

    def close(self) -> None: ...


class InlineExecutor:
    """One trial at a time, in this process (the trial runs inside :meth:`poll`)."""

    slots = 1

    def __init__(self) -> None:
        self._queue: list[TrialJob] = []

    def submit(self, job: TrialJob) -> None:
        self._queue.append(job)

    def poll(self, timeout: float) -> list[TrialOutcome]:
        del timeout
        return [run_trial_job(self._queue.pop(0))] if self._queue else []

    def close(self) -> None:
        self._queue.clear()


def _die_with_parent(parent: int) -> None:
    """Make this worker exit when the process that spawned it dies, however it dies."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:  # every platform: poll for reparenting
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def _worker_main(conn: Any, parent: int, threads: int | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the study's to handle
    _die_with_parent(parent)
    limit_threads(threads)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        conn.send(run_trial_job(job))


class ProcessExecutor:
    """``workers`` spawned processes, each running one trial at a time."""

    def __init__(self, workers: int, threads: int | None = None) -> None:
        if workers < 1:
            raise PacelineError(f"--workers must be at least 1, got {workers}.")
        import multiprocessing

        self.slots = workers
        self.threads = threads
        self._ctx = multiprocessing.get_context("spawn")
        self._workers: list[dict[str, Any]] = []

    def _start(self) -> dict[str, Any]:
        parent_conn, child_conn = self._ctx.Pipe()
        proc = self._ctx.Process(target=_worker_main,
                                 args=(child_conn, os.getpid(), self.threads), daemon=True)
        proc.start()
        child_conn.close()
        worker = {"proc": proc, "conn": parent_conn, "job": None, "deadline": math.inf}
        self._workers.append(worker)
        return worker

    @staticmethod
    def kill_after(job: TrialJob) -> float:
        """Seconds after which the watchdog kills the process running ``job``: past the
        trial's own wall-clock limit, under the dev clock its backstop (the trial itself
        counts CPU time there, so a busy machine does not stop it)."""
        factor, extra = KILL_AFTER_LIMIT
        limit = watchdog_limit(job.facts.budget)
        if job.options.clock == "dev":
            limit *= WALL_BACKSTOP
        return limit * factor + min(extra, limit)

    def _assign(self, worker: dict[str, Any], job: TrialJob) -> None:
        worker["job"] = job
        worker["deadline"] = time.monotonic() + self.kill_after(job)

    def submit(self, job: TrialJob) -> None:
        for worker in [w for w in self._workers if w["job"] is None]:
            try:
                worker["conn"].send(job)
            except (BrokenPipeError, OSError):  # it died while idle: replace it
                worker["proc"].join(timeout=1)
                self._workers.remove(worker)
                continue
            self._assign(worker, job)
            return
        if len(self._workers) >= self.slots:
            raise RuntimeError("every worker is busy")
        worker = self._start()
        worker["conn"].send(job)
        self._assign(worker, job)

    def poll(self, timeout: float) -> list[TrialOutcome]:
        from multiprocessing.connection import wait

        busy = [w for w in self._workers if w["job"] is not None]
        if not busy:
            return []
        handles = [w["conn"] for w in busy] + [w["proc"].sentinel for w in busy]
        soonest = min(w["deadline"] for w in busy) - time.monotonic()
        ready = set(wait(handles, max(0.0, min(timeout, soonest))))
        out = []
        for w in busy:
            if w["conn"] in ready:
                try:
                    out.append(w["conn"].recv())
                    w["job"] = None
                    continue
                except (EOFError, OSError):
                    pass
            job = w["job"]
            if w["conn"] in ready or w["proc"].sentinel in ready:
                w["proc"].join(timeout=5)
                code = w["proc"].exitcode
                how = _exit_description(code)
                why = crash_reason(job.spec.trial_dir)
                reason = f"the worker process running the trial died ({how})" + \
                    (f": {why}" if why else "")
                status = TrialStatus.CRASHED
            elif time.monotonic() >= w["deadline"]:
                w["proc"].kill()
                w["proc"].join(timeout=10)
                reason = (f"the watchdog killed the trial's process after "
                          f"{self.kill_after(job):.0f} s of wall-clock time (its limit: a "
                          f"multiple of the {job.facts.budget:g} s budget plus an allowance, "
                          "see docs/runner.md)")
                status = TrialStatus.TIMED_OUT
            else:
                continue
            record_failure(job.spec.trial_dir, status, reason)
            out.append(TrialOutcome(job.key, failed_observation(job, reason, status)))
            self._workers.remove(w)
        return out

    def close(self) -> None:
        for w in self._workers:
            if w["job"] is None:
                with contextlib.suppress(OSError, BrokenPipeError):
                    w["conn"].send(None)
            else:
                w["proc"].terminate()  # an interrupted trial resumes from its checkpoint
        for w in self._workers:
            w["proc"].join(timeout=10)
            if w["proc"].is_alive():
                w["proc"].kill()
                w["proc"].join()
        self._workers.clear()


def _exit_description(code: int | None) -> str:
    """``signal 11 (SIGSEGV)`` or ``exit code 3``."""
    if code is not None and code < 0:
        try:
            return f"signal {-code} ({signal.Signals(-code).name})"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


class SubmititExecutor:
    """Trials as submitit jobs, on SLURM or with submitit's local executor."""

    def __init__(self, folder: Path, cluster: str, workers: int, threads: int | None = None,
                 parameters: dict[str, Any] | None = None) -> None:
        try:
            import submitit
        except ImportError:
            raise PacelineError("--executor slurm/submitit-local needs the submitit package "
                                "(pip install submitit).") from None
        self.slots = max(1, workers)
        self._executor = submitit.AutoExecutor(folder=str(folder), cluster=cluster)
        params: dict[str, Any] = {"name": "paceline_trial"}
        if threads:
            params["cpus_per_task"] = threads
        for key, value in (parameters or {}).items():
            generic = key in self._executor._valid_parameters()
            params[key if generic or cluster != "slurm" else f"slurm_{key}"] = value
        try:
            self._executor.update_parameters(**params)
        except (ValueError, TypeError) as exc:
            raise PacelineError(f"submitit rejected the job settings: {exc}") from None
        self.threads = threads
        self._jobs: list[tuple[Any, TrialJob]] = []

    def submit(self, job: TrialJob) -> None:
        self._jobs.append((self._executor.submit(run_trial_job, job), job))

    def poll(self, timeout: float) -> list[TrialOutcome]:
        deadline = time.monotonic() + timeout
        while True:
            finished = [(j, job) for j, job in self._jobs if j.done()]
            if finished or not self._jobs or time.monotonic() >= deadline:
                break
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        out = []
        for j, job in finished:
            self._jobs.remove((j, job))
            try:
                out.append(j.result())
            except Exception as exc:  # noqa: BLE001 - submitit wraps the job's death
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                reason = f"the submitit job {j.job_id} failed: {type(exc).__name__} {first}"
                record_failure(job.spec.trial_dir, TrialStatus.CRASHED, reason)
                out.append(TrialOutcome(job.key, failed_observation(
                    job, reason, TrialStatus.CRASHED)))
        return out

    def close(self) -> None:
        for j, _ in self._jobs:
            with contextlib.suppress(Exception):
                j.cancel(check=False)
        self._jobs.clear()


def make_executor(kind: str, workers: int, threads: int | None, folder: Path,
                  parameters: dict[str, Any] | None = None) -> Executor:
    """The executor for ``paceline tune --executor KIND``."""
    if kind == "inline":
        if workers != 1:
            raise PacelineError("--executor inline runs one trial at a time; use --workers 1 "
                                "or --executor processes.")
        return InlineExecutor()
    if kind == "processes":
        return ProcessExecutor(workers, threads)
    if kind in ("submitit-local", "slurm"):
        return SubmititExecutor(folder, "local" if kind == "submitit-local" else "slurm",
                                workers, threads, parameters)
    raise PacelineError(f"Unknown executor {kind!r}; choose one of {', '.join(EXECUTORS)}.")
