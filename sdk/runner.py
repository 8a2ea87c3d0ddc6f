"""The timed runner: one trial exactly as AlgoPerf's ``train_once`` runs it.

Read top to bottom, :func:`train_once` is the whole training loop (AlgoPerf's ``submission_runner.py``):

* untimed: building the input queue, model init, optimizer init, evaluations, logging,
  checkpoints;
* timed: ``data_selection`` + ``update_params`` (+ loop overhead) per step, and
  ``prepare_for_eval`` before each evaluation, each ended by a device synchronisation;
* an evaluation on the train subset, validation and test splits whenever
  ``eval_period_time_sec`` of wall time passed since the last one (and at step 1);
* stop when both targets are reached, when the budget is spent, at ``max_global_steps``, or
  when the submission raises ``TrainingCompleteError``.

How the budget edge is treated depends on the ruleset version (see :mod:`sdk.rulesets`).
What the loop reads and changes (the clocks, step, eval results, logger, checkpoint) belongs
to one ``_Trial``; what differs between PyTorch and JAX is asked of the framework's adapter
(:class:`sdk.frameworks.adapters.FrameworkAdapter`). The returned :class:`TrialResult` carries
the eval curve the runner held (``eval_curve``), besides ``eval_measurements.csv``.

    paceline run --workload mnist --framework pytorch --submission nadamw
"""

from __future__ import annotations

import contextlib
import math
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sdk import distributed, wall_history
from sdk import rng as prng
from sdk.clock import (
    Normalisation,
    activate,
    canary_sec,
    deactivate,
    measurement_report,
    trial_clock,
)
from sdk.errors import PacelineError, SubmissionError, describe_exception, raised_at
from sdk.frameworks.adapters import FrameworkAdapter, SyncPolicy, get_adapter
from sdk.rulesets import RulesetTable
from sdk.search_space import make_hyperparameters
from sdk.submission import Submission
from sdk.target_reach import first_reaching_index
from sdk.trial_guards import CrashLog, Watchdog
from sdk.trial_logs import STATUS_FILE, TrialLogger, system_metadata
from sdk.trial_record import (
    TrialFailed,
    TrialResult,
    TrialTimedOut,
    crash_reason,
    hyperparameters_from_file,
    read_status,
    record_failure,
    write_status,
)
from sdk.trial_status import TrialStatus, watchdog_limit
from sdk.workload import effective_batch
from sdk.workload_view import WorkloadView, attach_train_logger


@dataclass
class RunOptions:
    """How to run a trial (everything except what is trained and with which seed)."""

    ruleset: str = "external"
    data_dir: str | None = None
    max_global_steps: int | None = None
    resume: bool = False
    overwrite: bool = False
    save_checkpoints: bool = True
    tensorboard: bool = True
    progress: bool = False
    threads: int | None = None
    torch_compile: bool = False
    stop_on_divergence: bool = True
    flags: dict[str, Any] = field(default_factory=dict)
    # Called after every eval as early_stop(workload, budget_sec, eval_results); a non-empty
    # string stops the trial with status "stopped_early" and that reason (external tuning's
    # "target out of reach" rule). Must be picklable to reach worker processes.
    early_stop: Callable[[Any, float, list], str | None] | None = None
    # Target-setting runs (`paceline targets`): never stop because the workload's targets
    # are reached, so every run trains for its full step count or budget.
    ignore_targets: bool = False
    # How submission time is measured (sdk/clock.py): "wall" (AlgoPerf's) or "dev" (CPU time
    # less compilation, normalised to the calibration machine). clock_scale overrides the
    # probed normalisation (--speed-factor X gives 1/X).
    clock: str = "wall"
    clock_scale: float | None = None
    # `--pdb`: a trial whose submission raises opens a post-mortem debugger at the raise
    post_mortem: bool = False


class _CountingQueue:
    """Counts the batches a submission takes, so a resumed run can skip them."""

    def __init__(self, queue: Any, consumed: int = 0) -> None:
        self._queue = queue
        self.consumed = consumed

    def __iter__(self) -> _CountingQueue:
        return self

    def __next__(self) -> Any:
        self.consumed += 1
        return next(self._queue)


def _is_finite_loss(result: dict[str, float]) -> bool:
    for key in ("train/loss", "validation/loss", "train/ctc_loss"):
        if key in result and result[key] is not None and not math.isfinite(float(result[key])):
            return False
    return True


def _resumed_status(payload: dict[str, Any], max_steps: int | None) -> tuple[TrialStatus, str]:
    """The status a checkpoint was written with, and its reason.

    The last checkpoint is written when the trial ends, just before its final record; a trial
    killed between the two resumes with its loop already over and must end as it would have.
    A checkpoint from a paceline that did not save the status is read from its train state.
    """
    try:
        return TrialStatus(payload["status"]), str(payload.get("reason", ""))
    except (KeyError, ValueError):
        pass
    if not payload.get("train_state", {}).get("training_complete"):
        return TrialStatus.RUNNING, ""
    if max_steps is not None and payload.get("global_step", 0) >= max_steps:
        return TrialStatus.MAX_GLOBAL_STEPS, ""
    return TrialStatus.TRAINING_COMPLETE, ""


def _user_call(what: str, fn: Any, **kwargs: Any) -> Any:
    """Call submission code; a failure becomes :class:`TrialFailed` with one sentence.

    ``sys.exit()`` in submission code is a failure of the trial too, not the end of the run.
    """
    try:
        return fn(**kwargs)
    except KeyboardInterrupt:
        raise
    except (Exception, SystemExit) as exc:
        if isinstance(exc, TrialFailed) or type(exc).__name__ == "TrainingCompleteError":
            raise
        _reraise_user(exc, what)


def _checked_triple(what: str, returned: Any) -> tuple[Any, Any, Any]:
    """``(optimizer_state, params, model_state)`` as returned by ``what``, or TrialFailed."""
    if not isinstance(returned, (tuple, list)) or len(returned) != 3:
        shown = type(returned).__name__ if returned is not None else "None"
        raise TrialFailed(f"{what} returned {shown}; it must return (optimizer_state, params, "
                          "model_state).")
    if returned[1] is None:
        raise TrialFailed(f"{what} returned None for the parameters; it must return "
                          "(optimizer_state, params, model_state).")
    return returned[0], returned[1], returned[2]


def _init_model(workload: Any, submission: Submission, hyperparameters: Any, key: Any) -> Any:
    if submission.api_version == "0.5":
        # v0.5: the runner passes the dropout rates from the hyperparameters to init.
        dropout = getattr(hyperparameters, "dropout_rate", None)
        aux = getattr(hyperparameters, "aux_dropout_rate", None)
        if hasattr(workload, "set_init_dropout"):
            workload.set_init_dropout(dropout, aux)
            return workload.init_model_fn(key)
        return workload.init_model_fn(key, dropout_rate=dropout, aux_dropout_rate=aux)
    return workload.init_model_fn(key)


def train_once(
    workload: Any,
    submission: Submission,
    hyperparameters: Any,
    rng_seed: int,
    table: RulesetTable,
    options: RunOptions,
    trial_dir: Path | None,
    study: int = 0,
    trial: int = 1,
    clock: Callable[[], float] | None = None,
) -> TrialResult:
    """Train ``submission`` on ``workload`` once and return the trial's summary.

    ``hyperparameters`` is a namedtuple or a mapping (``None`` under self-tuning). The trial
    is timed with ``options.clock`` (:mod:`sdk.clock`); ``clock``, a function returning
    seconds, replaces it (tests drive the loop with a simulated clock). A trial that fails on
    its own (the submission raises, calls ``sys.exit``, returns what the API does not allow,
    or runs past the watchdog of :mod:`sdk.trial_status`) raises :class:`TrialFailed` after
    recording itself in ``paceline_trial.json`` as a miss with its reason; the exception
    carries that record as ``result``.
    """
    t = _Trial(workload, submission, hyperparameters, rng_seed, table, options, trial_dir,
               study, trial)
    started = time.monotonic()
    watchdog = Watchdog(watchdog_limit(t.budget), t.budget)
    with CrashLog(trial_dir if distributed.is_rank0() else None), watchdog, \
            _failure_recorded(t, started):
        # ---- untimed setup: framework, clock, logs, seeds (AlgoPerf §3.4), init, resume ----
        t.open(clock)
        watchdog.follow(t.clock)
        data_rng, opt_init_rng, model_init_rng, step_keys = t.seeds()
        t.init(data_rng, opt_init_rng, model_init_rng)
        t.resume(data_rng)
        t.start_logs()
        # the first block of per-step keys (in JAX, with its one-time compilation) is the
        # runner's bookkeeping, not the submission's work: derive it before the clock starts
        step_keys(t.step)
        canary_before = canary_sec() if t.norm is not None and t.norm.canary_sec else None

        # ---- the timed loop -------------------------------------------------------------
        with t.timed():
            while t.running():
                keys = step_keys(t.step)
                if t.v05:
                    select_rng, update_rng, eval_rng = keys
                    prepare_rng = eval_rng
                else:
                    select_rng, update_rng, prepare_rng, eval_rng = keys
                t.train_step(select_rng, update_rng)  # timed: data_selection + update_params
                if t.end_step():  # an eval is due (eval period, or training ended)
                    t.prepare_for_eval(prepare_rng)  # timed
                    if t.may_evaluate() and t.evaluate(eval_rng):
                        break  # diverged, or stopped early
                t.state["last_step_end_time"] = t.now()
                t.tick()

        # ---- untimed end: the last queued steps, final score and checkpoint, the record --
        return t.finish(canary_before)


TRACEBACK_FILE = "paceline_traceback.txt"


@contextlib.contextmanager
def _failure_recorded(t: _Trial, started: float) -> Iterator[None]:
    """Record a :class:`TrialFailed` raised anywhere in the trial, then let it through.

    One raised inside the timed loop already carries its result (:meth:`_Trial.timed`); one
    raised before the loop began is recorded with no steps and no evals.
    """
    try:
        yield
    except TrialFailed as exc:
        _save_traceback(t.trial_dir, exc)
        if t.options.post_mortem:
            _post_mortem(exc)
        if exc.result is None:  # failed before its training loop began
            exc.result = t.result(time.monotonic() - started, exc.status, str(exc), blank=True)
            write_status(t.trial_dir, exc.status, str(exc), exc.result)
        raise


def _cause(exc: BaseException) -> BaseException | None:
    """The submission's exception behind a :class:`TrialFailed` (``None``: none)."""
    return exc.__cause__ or exc.__context__


def _save_traceback(trial_dir: Path | None, exc: TrialFailed) -> None:
    """Write the submission's full traceback beside the trial's logs (``paceline_traceback.txt``)."""
    cause = _cause(exc)
    if trial_dir is None or cause is None or not distributed.is_rank0():
        return
    step = exc.result.global_step if exc.result is not None else 0
    text = (f"{exc}\nstep: {step}\n\n"
            + "".join(traceback.format_exception(type(cause), cause, cause.__traceback__)))
    try:
        from sdk.trial_logs import atomic_write_text

        Path(trial_dir).mkdir(parents=True, exist_ok=True)
        atomic_write_text(Path(trial_dir) / TRACEBACK_FILE, text)
    except OSError:
        pass  # the reason is still in paceline_trial.json


def _post_mortem(exc: TrialFailed) -> None:
    cause = _cause(exc)
    if cause is not None and cause.__traceback__ is not None:
        import pdb

        print(f"paceline: {exc}\npaceline: post-mortem debugger at the raise (q quits)",
              file=sys.stderr)
        pdb.post_mortem(cause.__traceback__)


def _fresh_train_state() -> dict[str, Any]:
    return {
        "validation_goal_reached": False,
        "test_goal_reached": False,
        "is_time_remaining": True,
        "last_eval_time": 0,
        "training_complete": False,
        "accumulated_submission_time": 0.0,
        "accumulated_eval_time": 0.0,
        "accumulated_logging_time": 0.0,
        "last_step_end_time": None,
    }


def _as_hyperparameters(hyperparameters: Any) -> tuple[Any, dict[str, Any] | None]:
    """``(namedtuple, dict)`` of a trial's hyperparameters, given either (or ``None``)."""
    if hyperparameters is None:
        return None, None
    if hasattr(hyperparameters, "_asdict"):
        return hyperparameters, dict(hyperparameters._asdict())
    return make_hyperparameters(dict(hyperparameters)), dict(hyperparameters)


class _Trial:
    """One trial while it runs: its clocks, step, eval results, logger and checkpoint.

    ``train_once`` is the loop; the trial answers it. ``state`` is AlgoPerf's
    ``train_state`` (a v0.6 submission reads it through a live read-only view and the
    checkpoint stores it as it is); only the trial's methods write it. ``now`` is the clock
    submission time is read from (``sdk.clock``: the wall or dev clock, or a test's clock);
    wall-clock durations (``total_duration``) are read from ``time.time`` under either.
    """

    def __init__(self, workload: Any, submission: Submission, hyperparameters: Any,
                 rng_seed: int, table: RulesetTable, options: RunOptions,
                 trial_dir: Path | None, study: int, trial: int) -> None:
        self.workload, self.submission, self.table, self.options = (
            workload, submission, table, options)
        self.hyperparameters, self.hparams = _as_hyperparameters(hyperparameters)
        self.rng_seed, self.trial_dir, self.study, self.trial = rng_seed, trial_dir, study, trial
        self.budget = workload.max_allowed_runtime_sec * table.budget_multiplier(options.ruleset)
        self.v05 = submission.api_version == "0.5"
        self.adapter: FrameworkAdapter
        self.clock: Any = None  # the trial's clock (dev or wall), set by open()
        self.now: Any = None  # its readings (synced over DDP ranks), set by open()
        self.norm: Normalisation | None = None
        self.logger: TrialLogger | distributed.SilentLogger | None = None
        self.ckpt_path: Path | None = None
        self.meta: dict[str, Any] | None = None
        self.progress: _Progress | None = None
        self.state = _fresh_train_state()
        self.step = 0
        self.eval_results: list[tuple[int, dict[str, float]]] = []
        self.preemption_count = 0
        self.duration_offset = 0.0  # wall seconds of the runs before a preemption
        self.start_wall = 0.0  # time.time() when the timed loop began
        self.status, self.reason = TrialStatus.RUNNING, ""
        self.params: Any = None
        self.model_state: Any = None
        self.optimizer_state: Any = None
        # set by init(): what the loop reads every step
        self.batch_size = self.eval_batch_size = 0
        self.queue: _CountingQueue
        self.view: WorkloadView
        self.update_kwargs: dict[str, Any] = {}  # train_state for a v0.6 submission
        self.prepare: Callable[..., Any] | None = None  # prepare_for_eval (v0.6, optional)
        self.eval_period = 0.0
        self.loss_type: Any = None
        self.sync_policy: SyncPolicy = "none"

    # ---- untimed setup --------------------------------------------------------------------

    def open(self, clock: Callable[[], float] | None) -> None:
        """Set up the framework, the trial's clock, its logger and ``hparams.json``."""
        framework = self.workload.framework
        self.adapter = get_adapter(framework)
        self.adapter.setup(self.options.threads)
        prng.set_framework(framework)
        self.workload.api_version = self.submission.api_version
        if clock is None:
            o = self.options
            clock, self.norm = trial_clock(o.clock, self.workload.name, framework, o.data_dir,
                                           o.clock_scale, o.torch_compile)
        self.clock = clock
        # under DDP every reading is the latest over the ranks, so they decide alike
        self.now = distributed.SyncedClock(clock) if distributed.ddp_active() else clock
        if self.trial_dir is not None:
            self.ckpt_path = self.trial_dir / self.adapter.checkpoint_name
            if not distributed.is_rank0():  # reads rank 0's checkpoint; writes nothing
                self.logger = distributed.SilentLogger()
                return
            self.logger = TrialLogger(self.trial_dir, self.options.tensorboard)
            if self.hparams is not None:
                self.logger.write_json("hparams.json", self.hparams)

    def seeds(self) -> tuple[Any, Any, Any, prng.StepKeys]:
        """``(data, optimizer init, model init)`` keys and the per-step keys (AlgoPerf §3.4)."""
        key = prng.PRNGKey(self.rng_seed)
        if self.options.ruleset == "external":
            key, _ = prng.split(key, 2)
        data_rng, opt_init_rng, model_init_rng, key = prng.split(key, 4)
        step_keys = prng.StepKeys(key, 3 if self.v05 else 4, self.workload.framework)
        return data_rng, opt_init_rng, model_init_rng, step_keys

    def init(self, data_rng: Any, opt_init_rng: Any, model_init_rng: Any) -> None:
        """Batch sizes, the input queue, the model and the optimizer state (untimed)."""
        workload, submission = self.workload, self.submission
        self.batch_size = submission.batch_size(workload.name)
        self.eval_batch_size = submission.eval_batch_size(workload.name,
                                                          workload.eval_batch_size)
        self.adapter.seed(model_init_rng)
        self.queue = self._input_queue(data_rng)
        params, self.model_state = _user_call(
            "init_model_fn", _init_model, workload=workload, submission=submission,
            hyperparameters=self.hyperparameters, key=model_init_rng,
        )
        self.params = self.adapter.compile(params) if self.options.torch_compile else params
        # the submission sees AlgoPerf's workload API only, never the workload (workload_view.py)
        self.view = WorkloadView(workload)
        self.optimizer_state = _user_call(
            "init_optimizer_state", submission.init_optimizer_state, workload=self.view,
            model_params=self.params, model_state=self.model_state,
            hyperparameters=self.hyperparameters, rng=opt_init_rng,
        )
        if submission.wants_train_state:  # a live read-only view
            self.update_kwargs = {"train_state": MappingProxyType(self.state)}
        self.prepare = None if self.v05 else submission.prepare_for_eval
        self.eval_period = workload.eval_period_time_sec
        self.loss_type = workload.loss_type
        self.sync_policy = self.adapter.sync_policy

    def _input_queue(self, data_rng: Any) -> _CountingQueue:
        return _CountingQueue(self.workload._build_input_queue(
            data_rng, "train", self.options.data_dir, self.batch_size))

    def resume(self, data_rng: Any) -> None:
        """Continue from the trial's checkpoint (``--resume``), if it has one."""
        path = self.ckpt_path
        if not (self.options.resume and path is not None and path.is_file()):
            return
        payload = self.adapter.load(path)
        self.params, self.model_state, self.optimizer_state = self.adapter.restore(
            payload, self.params, self.model_state, self.optimizer_state
        )
        self.state.update(payload["train_state"])
        self.step = payload["global_step"]
        self.eval_results = [tuple(x) for x in payload["eval_results"]]
        self.preemption_count = payload["preemption_count"] + 1
        self.duration_offset = payload.get("total_duration", 0.0)
        self.status, self.reason = _resumed_status(payload, self.options.max_global_steps)
        self.logger.restore(payload["eval_rows"], payload["all_rows"])
        self.queue = self._input_queue(data_rng)
        _skip(self.queue, payload["batches_consumed"])

    def start_logs(self) -> None:
        """Metadata, flags and the "running" record a crash turns into a miss; the bar."""
        if self.logger is not None:
            self.logger.preemption_count = self.preemption_count
            # as AlgoPerf: only rank 0's submission gets a metrics logger
            attach_train_logger(self.view, self.logger if distributed.is_rank0() else None)
            self.meta = self._metadata()
            self.logger.write_json(f"meta_data_{self.preemption_count}.json", self.meta)
            self.logger.write_json(f"flags_{self.preemption_count}.json", self.options.flags)
            # the record a crash or the watchdog turns into the trial's miss (record_failure)
            write_status(self.trial_dir, TrialStatus.RUNNING, "",
                          self.result(self.duration_offset, TrialStatus.RUNNING))
        if self.options.progress:
            self.progress = _Progress(self.workload, self.budget, self.study, self.trial)

    def _metadata(self) -> dict[str, Any]:
        workload, submission, clock = self.workload, self.submission, self.now
        return {
            **workload.metadata(),
            **system_metadata(),
            "rng_seed": self.rng_seed,
            "paceline.scale": workload.scale,
            "paceline.framework": workload.framework,
            "paceline.ruleset": self.options.ruleset,
            "paceline.ruleset_version": self.table.version,
            "paceline.api_version": submission.api_version,
            "paceline.submission": submission.name,
            "paceline.budget_sec": self.budget,
            "paceline.batch_size": self.batch_size,
            "paceline.effective_batch_size": effective_batch(workload, self.batch_size),
            "paceline.metric_minimized": workload.metric_minimized,
            "paceline.clock": getattr(clock, "name", "custom"),
            "paceline.clock_scale": getattr(clock, "scale", 1.0),
            "paceline.clock_scale_source": getattr(clock, "source", ""),
        }

    # ---- the timed loop -------------------------------------------------------------------

    @contextlib.contextmanager
    def timed(self) -> Iterator[None]:
        """Start the clock (a resumed trial waits a full eval period for its next eval).

        A :class:`TrialFailed` inside is recorded with what the trial reached; Ctrl-C
        flushes the logs; the clock is given back either way.
        """
        activate(self.now)  # the self-tuning helpers read the trial's clock through it
        self.start_wall = time.time()
        start = self.now()
        self.state["last_step_end_time"] = start
        if self.state["last_eval_time"]:
            # resumed: the wall time before the kill does not count towards the next eval
            self.state["last_eval_time"] = start
        try:
            yield
        except TrialFailed as exc:
            exc.result = self.result(self.duration(), exc.status, str(exc))
            self.close(exc.status, str(exc), exc.result)
            raise
        except KeyboardInterrupt:
            if self.progress is not None:
                self.progress.close()
            if self.logger is not None:
                self.logger.flush()
            raise
        finally:
            deactivate(self.now)
            if hasattr(self.now, "close"):
                self.now.close()

    def running(self) -> bool:
        """Whether to take another step: time is left, a target is missing, not complete,
        not stopped (diverged or stopped early, before a resume too)."""
        s = self.state
        return (self.status == TrialStatus.RUNNING and s["is_time_remaining"]
                and not (s["validation_goal_reached"] and s["test_goal_reached"])
                and not s["training_complete"])

    def train_step(self, select_rng: Any, update_rng: Any) -> None:
        """``data_selection`` and ``update_params`` once; the step counts even if the
        submission ends training (``TrainingCompleteError``), as in AlgoPerf."""
        submission = self.submission
        try:
            batch = submission.data_selection(
                workload=self.view, input_queue=self.queue, optimizer_state=self.optimizer_state,
                current_param_container=self.params, model_state=self.model_state,
                hyperparameters=self.hyperparameters, global_step=self.step, rng=select_rng,
            )
            updated = submission.update_params(
                workload=self.view, current_param_container=self.params,
                current_params_types=self.workload.model_params_types,
                model_state=self.model_state, hyperparameters=self.hyperparameters,
                batch=batch, loss_type=self.loss_type, optimizer_state=self.optimizer_state,
                eval_results=self.eval_results, global_step=self.step, rng=update_rng,
                **self.update_kwargs,
            )
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - the trial's own failure
            if isinstance(exc, TrialFailed):  # the watchdog
                raise
            if type(exc).__name__ != "TrainingCompleteError":
                _reraise_user(exc, "update_params/data_selection")
            self.end_training(TrialStatus.TRAINING_COMPLETE)
        else:
            if type(updated) is not tuple or len(updated) != 3 or updated[1] is None:
                updated = _checked_triple("update_params", updated)
            self.optimizer_state, self.params, self.model_state = updated
        self.step += 1
        max_steps = self.options.max_global_steps
        if max_steps is not None and self.step >= max_steps:
            self.end_training(TrialStatus.MAX_GLOBAL_STEPS)

    def end_training(self, status: TrialStatus) -> None:
        self.state["training_complete"] = True
        self.status = status

    def end_step(self) -> bool:
        """Charge the step to submission time (with the device's wait); whether an eval is due.

        v0.5 checks the budget here, after every step; v0.6 only when an eval is due.
        """
        s, now = self.state, self.now
        if self.sync_policy == "step":
            self.adapter.sync(self.params)
        step_end = now()
        s["accumulated_submission_time"] += step_end - s["last_step_end_time"]
        eval_due = step_end - s["last_eval_time"] >= self.eval_period or s["training_complete"]
        if eval_due and self.sync_policy == "eval":
            # asynchronous dispatch (JAX): wait for the queued steps; the wait is step time
            self.adapter.sync(self.params)
            s["accumulated_submission_time"] += now() - step_end
        if self.table.budget_check_every_step:
            s["is_time_remaining"] = s["accumulated_submission_time"] < self.budget
        return eval_due

    def prepare_for_eval(self, rng: Any) -> None:
        """v0.6's ``prepare_for_eval`` (when the submission has one), timed."""
        if self.prepare is None:
            return
        t0 = self.now()
        self.optimizer_state, self.params, self.model_state = _checked_triple(
            "prepare_for_eval", _user_call(
                "prepare_for_eval", self.prepare, workload=self.view,
                current_param_container=self.params,
                current_params_types=self.workload.model_params_types,
                model_state=self.model_state, hyperparameters=self.hyperparameters,
                loss_type=self.workload.loss_type, optimizer_state=self.optimizer_state,
                eval_results=self.eval_results, global_step=self.step, rng=rng,
            ))
        self.adapter.sync(self.params)
        self.state["accumulated_submission_time"] += self.now() - t0

    def may_evaluate(self) -> bool:
        """Whether the due eval runs: within the budget, or (v0.5) the step that crossed it.

        v0.6 checks the budget here, when an eval is due.
        """
        in_budget = self.state["accumulated_submission_time"] < self.budget
        if not self.table.budget_check_every_step:
            self.state["is_time_remaining"] = in_budget
        return in_budget or self.table.eval_after_budget_crossing

    def evaluate(self, rng: Any) -> bool:
        """One untimed evaluation, logged and checkpointed; whether the trial must stop
        (the loss diverged, or the ``early_stop`` hook says so)."""
        diverged = self._eval(rng)
        if diverged and self.options.stop_on_divergence:
            self.status, self.reason = TrialStatus.DIVERGED, "the loss became NaN or infinite"
            return True
        hook = self.options.early_stop
        why = hook(self.workload, self.budget, self.eval_results) if hook is not None else None
        if why:
            self.status, self.reason = TrialStatus.STOPPED_EARLY, why
            return True
        return False

    def _eval(self, rng: Any) -> bool:
        """Evaluate on every split and record the row; whether the loss diverged."""
        s, now, workload = self.state, self.now, self.workload
        t0 = now()
        try:
            result = workload.eval_model(self.eval_batch_size, self.params, self.model_state,
                                         rng, self.options.data_dir, None, self.step)
        except NotImplementedError:
            raise
        except RuntimeError as exc:
            # AlgoPerf logs and skips an eval that fails (e.g. out of memory). Paceline also
            # waits a full eval period before the next try instead of retrying every step.
            print(f"paceline: evaluation at step {self.step} failed and is skipped: "
                  f"{describe_exception(exc, where=False)}", file=sys.stderr)
            s["last_eval_time"] = now()
            return False
        result = {k: int(v) if k.endswith("num_examples") else float(v)
                  for k, v in result.items()}
        if not self.options.ignore_targets:
            s["validation_goal_reached"] |= workload.has_reached_validation_target(result)
            s["test_goal_reached"] |= workload.has_reached_test_target(result)
        eval_end = now()
        s["last_eval_time"] = eval_end
        s["accumulated_eval_time"] += eval_end - t0
        result.update({
            "score": s["accumulated_submission_time"],
            "total_duration": self.duration(),
            "accumulated_submission_time": s["accumulated_submission_time"],
            "accumulated_eval_time": s["accumulated_eval_time"],
            "accumulated_logging_time": s["accumulated_logging_time"],
        })
        self.eval_results.append((self.step, result))
        if self.logger is not None:
            t1 = now()
            self.logger.append_scalar_metrics(result, self.step, is_eval=True)
            self.checkpoint()
            s["accumulated_logging_time"] += now() - t1
        if self.progress is not None:
            self.progress.eval(s, self.step, result)
        return not _is_finite_loss(result)

    def tick(self) -> None:
        if self.progress is not None and not self.step & 63:
            self.progress.tick(self.state, self.step)

    def checkpoint(self) -> None:
        """Write the trial's checkpoint (unless there is no trial directory or ``--no-checkpoints``)."""
        if (self.ckpt_path is None or not self.options.save_checkpoints
                or not distributed.is_rank0()):
            return
        self.adapter.save(self.ckpt_path, self.params, self.model_state, self.optimizer_state, {
            "train_state": dict(self.state),
            "global_step": self.step,
            "eval_results": self.eval_results,
            "preemption_count": self.preemption_count,
            "eval_rows": self.logger.eval_rows,
            "all_rows": self.logger.all_rows,
            "batches_consumed": self.queue.consumed,
            "total_duration": self.duration(),
            # a trial killed after its last checkpoint and before its record ends as it would
            "status": str(self.status),
            "reason": self.reason,
        })

    def duration(self) -> float:
        """Wall seconds the trial has run, the runs before a preemption included."""
        return self.duration_offset + time.time() - self.start_wall

    # ---- untimed end --------------------------------------------------------------------------

    def finish(self, canary_before: float | None) -> TrialResult:
        """The last queued steps, the final status, score and checkpoint; the trial's record."""
        s = self.state
        if self.sync_policy == "eval":  # the steps still queued since the last eval are step time
            t0 = self.now()
            self.adapter.sync(self.params)
            s["accumulated_submission_time"] += self.now() - t0
        if self.status == TrialStatus.RUNNING:
            if s["validation_goal_reached"] and s["test_goal_reached"]:
                self.status = TrialStatus.TARGETS_REACHED
            elif not s["is_time_remaining"]:
                self.status = TrialStatus.BUDGET_EXHAUSTED
        if self.logger is not None:
            self.logger.write_final_score(s["accumulated_submission_time"], self.step)
            t0 = self.now()
            self.checkpoint()
            s["accumulated_logging_time"] += self.now() - t0
        result = self.result(self.duration(), self.status, self.reason)
        canary_after = canary_sec() if canary_before is not None else None
        evals = [(float(r["score"]), int(step)) for step, r in self.eval_results]
        baseline = self.submission.baseline  # the kit's own: a user's "nadamw" may differ
        ran = (baseline, self.workload.name) if baseline else None
        _record_measurement(result, measurement_report(self.now, self.norm, canary_before,
                                                       canary_after, evals, ran,
                                                       self.hparams),
                            self.logger, self.meta, self.preemption_count)
        self.close(self.status, self.reason, result)
        if not s["is_time_remaining"] and distributed.is_rank0():
            wall_history.record(result)  # the whole budget trained: its wall time per budget s
        return result

    def close(self, status: str, reason: str, result: TrialResult) -> None:
        """Close the bar and the logs; write the trial's final record."""
        if self.progress is not None:
            self.progress.close()
        if self.logger is not None:
            self.logger.flush()
            self.logger.close()
        write_status(self.trial_dir, status, reason, result)

    def result(self, duration: float, status: str | None = None, reason: str = "", *,
               blank: bool = False) -> TrialResult:
        """The trial's summary as it stands (``blank``: as before its first step)."""
        state, evals, step = ((_fresh_train_state(), [], 0) if blank
                              else (self.state, self.eval_results, self.step))
        workload = self.workload
        metric = workload.target_metric_name
        rows = [r for _, r in evals]
        val = [r.get(f"validation/{metric}") for r in rows]
        test = [r.get(f"test/{metric}") for r in rows]
        minimized = workload.metric_minimized
        i_val = first_reaching_index(val, workload.validation_target_value, minimized)
        i_test = first_reaching_index(test, workload.test_target_value, minimized)
        finite = [v for v in val if v is not None and math.isfinite(v)]
        best = (min(finite) if minimized else max(finite)) if finite else None
        return TrialResult(
            workload=workload.name, framework=workload.framework, scale=workload.scale,
            ruleset=self.options.ruleset, ruleset_version=self.table.version,
            api_version=self.submission.api_version, study=self.study, trial=self.trial,
            budget_sec=self.budget, target_metric=metric,
            validation_target=workload.validation_target_value,
            test_target=workload.test_target_value,
            reached_validation_target=i_val is not None,
            reached_test_target=i_test is not None,
            time_to_target_sec=rows[i_val]["score"] if i_val is not None else None,
            test_time_to_target_sec=rows[i_test]["score"] if i_test is not None else None,
            best_validation_metric=best, global_step=step,
            submission_time_sec=state["accumulated_submission_time"],
            eval_time_sec=state["accumulated_eval_time"],
            logging_time_sec=state["accumulated_logging_time"],
            total_duration_sec=duration, num_evals=len(rows),
            status=self.status if status is None else status, reason=reason,
            trial_dir=str(self.trial_dir) if self.trial_dir is not None else None,
            hyperparameters=self.hparams, rng_seed=self.rng_seed,
            eval_curve=tuple((float(r["score"]), math.nan if v is None else float(v))
                             for r, v in zip(rows, val, strict=True)),
        )


def _record_measurement(result: TrialResult, report: dict[str, Any], logger: Any,
                        meta: dict[str, Any] | None, preemption_count: int) -> None:
    """Put the clock's figures and verdict in the result and the trial's ``meta_data``."""
    result.clock = report.get("clock", "custom")
    result.clock_scale = float(report.get("clock_scale", 1.0))
    result.compile_sec = float(report.get("compile_cpu_sec", 0.0)) * result.clock_scale
    result.cpu_share = report.get("cpu_share")
    result.step_vs_reference = report.get("step_vs_reference")
    result.measurement_trusted = bool(report.get("trusted", True))
    result.measurement_note = "; ".join(report.get("problems", []))
    if logger is not None and meta is not None:
        logger.write_json(f"meta_data_{preemption_count}.json",
                          {**meta, "paceline.measurement": report})


def _reraise_user(exc: BaseException, what: str) -> None:
    """Raise :class:`TrialFailed` naming ``what``, the exception and where it was raised."""
    if isinstance(exc, SystemExit):
        raise TrialFailed(f"{what} called sys.exit({exc.code!r}){raised_at(exc)}; a "
                          "submission must return, not end the process.") from None
    raise TrialFailed(f"{what} raised {describe_exception(exc)}.") from exc


def _skip(queue: _CountingQueue, n: int) -> None:
    inner = queue._queue
    if hasattr(inner, "skip"):
        inner.skip(n)
    else:
        for _ in range(n):
            next(inner)
    queue.consumed = n


class _Progress:
    """A live bar: submission time against the budget, step, latest validation metric."""

    def __init__(self, workload: Any, budget: float, study: int, trial: int) -> None:
        from tqdm import tqdm

        self.metric = workload.target_metric_name
        self.target = workload.validation_target_value
        self.bar = tqdm(
            total=round(budget, 1), unit="s", desc=f"{workload.name} study {study} trial {trial}",
            leave=False, dynamic_ncols=True,
            bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f}s {postfix}",
        )
        self.latest = "-"

    def tick(self, train_state: dict[str, Any], step: int) -> None:
        self.bar.n = min(train_state["accumulated_submission_time"], self.bar.total)
        self.bar.set_postfix_str(f"step {step} {self.metric} {self.latest} (target {self.target:g})",
                                 refresh=True)

    def eval(self, train_state: dict[str, Any], step: int, result: dict[str, float]) -> None:
        value = result.get(f"validation/{self.metric}")
        self.latest = f"{value:.4g}" if value is not None else "-"
        self.tick(train_state, step)

    def close(self) -> None:
        self.bar.close()


def raise_for_existing(trial_dir: Path, options: RunOptions) -> None:
    """Refuse to silently mix a new run into a finished or partial trial directory."""
    if not trial_dir.exists() or options.resume:
        return
    if options.overwrite:
        import shutil

        from sdk.trial_logs import is_trial_dir

        if not is_trial_dir(trial_dir):  # never delete what paceline did not make
            raise PacelineError(
                f"{trial_dir} is not a trial directory paceline made (no {STATUS_FILE}, "
                "hparams.json or meta_data), so --overwrite does not delete it; move it away."
            )
        shutil.rmtree(trial_dir)
        return
    if any(trial_dir.iterdir()):
        raise PacelineError(
            f"Trial directory {trial_dir} already has results; pass --resume to continue or "
            f"keep it, or --overwrite to start it again."
        )


__all__ = [
    "RunOptions",
    "SubmissionError",
    "TrialFailed",
    "TrialResult",
    "TrialTimedOut",
    "crash_reason",
    "hyperparameters_from_file",
    "raise_for_existing",
    "read_status",
    "record_failure",
    "train_once",
]
