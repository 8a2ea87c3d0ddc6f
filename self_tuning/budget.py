"""How much of the submission-time budget a running submission has used, and what is left.

AlgoPerf times a submission's own work (``data_selection`` + ``update_params`` + loop
overhead, and from v0.6 ``prepare_for_eval``) and stops it when that sum passes the budget:
``workload.max_allowed_runtime_sec`` times 1 (external tuning) or the self-tuning multiplier
of the ruleset version (3 in v0.5, the benchmark paper; 1.5 in v0.6). A :class:`BudgetView`
answers, at the start of every ``update_params`` call:

* ``elapsed_sec``: submission time used so far, as the runner counts it;
* ``remaining_sec = budget_sec - elapsed_sec`` and ``fraction = elapsed_sec / budget_sec``;
* ``step_time_sec``: a robust estimate of one step (:class:`~self_tuning.step_time.StepTimer`);
* ``steps_left = floor(remaining_sec / step_time_sec)``.

**Two sources of time.** With a v0.6 runner the submission can declare a ``train_state``
parameter in ``update_params`` and receives the runner's own bookkeeping; then::

    elapsed = train_state["accumulated_submission_time"] + (now - train_state["last_step_end_time"])

is exact. A v0.5 submission gets no ``train_state``; the view then keeps its own accounting:
it sums the wall time between consecutive ``update_params`` calls, and a gap that contained an
evaluation (``eval_results`` grew) is not counted as wall time. Where the new evaluation
result carries the runner's ``accumulated_submission_time`` (AlgoPerf's runner and paceline's
both put it there), the view restarts from that number plus an estimate of the short timed
stretch after the evaluation (the mean gap between the end of one call, marked with
:meth:`BudgetView.finish_step`, and the start of the next; a whole step without such marks), so
its error never accumulates across evaluations. Without that field it adds the call's own
duration and the same estimate. ``estimated_sec`` says how much of the total rests on
estimates that no evaluation has corrected yet.

**Which multiplier.** The submission never learns the ruleset from the runner. The view takes,
in this order: an explicit ``multiplier``; for paceline's workloads the version they were
built for (``workload.ruleset_version``) and its table in :mod:`sdk.rulesets`; otherwise the
API generation of the runner it sees (a runner that passes ``train_state`` is v0.6, one that
does not is v0.5). External tuning (``hyperparameters`` not ``None``) always has multiplier 1.

    >>> from self_tuning.clock import SimulatedClock
    >>> clock = SimulatedClock()
    >>> view = BudgetView(external_budget_sec=100.0, ruleset_version="0.5", clock=clock)
    >>> for step in range(5):
    ...     snap = view.observe(step)
    ...     clock.advance(2.0)
    >>> snap.budget_sec, snap.elapsed_sec, snap.remaining_sec
    (300.0, 8.0, 292.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sdk.frameworks.checkpoints import checkpointable
from sdk.rulesets import RULESETS, get_ruleset
from self_tuning.clock import WALL_CLOCK, Clock
from self_tuning.step_time import StepTimer

# What the view assumes about a runner that does not say which rules it follows: the v0.6
# API (train_state) implies the v0.6 rules, its absence the v0.5 rules.
VERSION_WITH_TRAIN_STATE = "0.6"
VERSION_WITHOUT_TRAIN_STATE = "0.5"


@checkpointable
@dataclass(frozen=True)
class BudgetSnapshot:
    """One reading of the budget, taken at the start of a step.

    Attributes:
        budget_sec: the submission-time budget of this run (external budget x multiplier).
        elapsed_sec: submission time used so far.
        step_time_sec: robust estimate of one step's submission time (``None`` before any).
        eval_overhead_sec: typical timed work the runner adds around an evaluation
            (v0.6 ``prepare_for_eval``), on top of a step.
        global_step: the runner's ``global_step`` at this reading.
        external_budget_sec: ``workload.max_allowed_runtime_sec``.
        multiplier: ``budget_sec / external_budget_sec``.
        source: ``"train_state"`` or ``"own accounting"``.
        slow_step_sec: the 95th percentile of recent step times (a bad step).
        worst_step_sec: the longest step of the last few thousand (a stall).
        estimated_sec: how much of ``elapsed_sec`` was estimated rather than measured (own
            accounting around evaluations; 0 with ``train_state``).
    """

    budget_sec: float
    elapsed_sec: float
    step_time_sec: float | None
    eval_overhead_sec: float
    global_step: int
    external_budget_sec: float
    multiplier: float
    source: str
    slow_step_sec: float | None = None
    estimated_sec: float = 0.0
    worst_step_sec: float | None = None

    @property
    def remaining_sec(self) -> float:
        """Budget left, never negative."""
        return max(self.budget_sec - self.elapsed_sec, 0.0)

    @property
    def fraction(self) -> float:
        """``elapsed / budget``; 1 or more once the budget is spent."""
        return self.elapsed_sec / self.budget_sec if self.budget_sec > 0 else math.inf

    @property
    def steps_left(self) -> int | None:
        """How many more steps of the current step time fit, or ``None`` before a measurement."""
        if self.step_time_sec is None or self.step_time_sec <= 0:
            return None
        return int(self.remaining_sec // self.step_time_sec)

    def fraction_of(self, end_sec: float, start_sec: float = 0.0) -> float:
        """Progress through the window ``[start_sec, end_sec]`` of submission time, in [0, 1]."""
        if end_sec <= start_sec:
            return 1.0 if self.elapsed_sec >= start_sec else 0.0
        return min(max((self.elapsed_sec - start_sec) / (end_sec - start_sec), 0.0), 1.0)


@checkpointable
class BudgetView:
    """The submission's live view of its time budget (create once, call :meth:`observe` per step).

    Args:
        external_budget_sec: the external-tuning budget, ``workload.max_allowed_runtime_sec``.
        multiplier: force the budget multiplier (e.g. 3.0); default: resolved as described in
            the module docstring.
        ruleset: ``"self"`` or ``"external"``.
        ruleset_version: ``"0.5"`` or ``"0.6"`` when known.
        clock: where time comes from (default: the wall clock, as the runner).
        step_timer: the step-time estimator (default: ``StepTimer()``).
    """

    def __init__(self, external_budget_sec: float, *, multiplier: float | None = None,
                 ruleset: str = "self", ruleset_version: str | None = None,
                 clock: Clock | None = None, step_timer: StepTimer | None = None) -> None:
        if not external_budget_sec > 0:
            raise ValueError(f"The budget must be positive, got {external_budget_sec}.")
        if ruleset not in RULESETS:
            raise ValueError(f"Unknown ruleset {ruleset!r}; choose one of {', '.join(RULESETS)}.")
        if multiplier is not None and not multiplier > 0:
            raise ValueError(f"The budget multiplier must be positive, got {multiplier}.")
        if ruleset_version is not None:
            get_ruleset(ruleset_version)  # validates
        self.external_budget_sec = float(external_budget_sec)
        self.ruleset = ruleset
        self.ruleset_version = ruleset_version
        self.clock = clock or WALL_CLOCK
        self.step_timer = step_timer or StepTimer()
        self._forced_multiplier = multiplier
        self._multiplier: float | None = None
        # the first evaluation's overhead includes compiling prepare_for_eval: skip it
        self._overheads = StepTimer(skip=1, window=16)
        self._outside = StepTimer(skip=1, window=64)
        self._source: str | None = None
        self._last: BudgetSnapshot | None = None
        # own accounting
        self._accounted = 0.0
        self._estimated = 0.0
        self._mark: float | None = None  # wall time of the last observe
        self._call_end: float | None = None  # wall time of the last finish_step
        self._evals_seen = 0
        # train_state accounting
        self._prev_accumulated: float | None = None

    @classmethod
    def for_workload(cls, workload: Any, hyperparameters: Any = None, *,
                     multiplier: float | None = None, clock: Clock | None = None,
                     step_timer: StepTimer | None = None) -> BudgetView:
        """The view for ``workload``; ``hyperparameters is None`` means the self-tuning ruleset."""
        return cls(
            workload.max_allowed_runtime_sec,
            multiplier=multiplier,
            ruleset="self" if hyperparameters is None else "external",
            ruleset_version=getattr(workload, "ruleset_version", None),
            clock=clock,
            step_timer=step_timer,
        )

    # ---- the budget ------------------------------------------------------------------------
    def multiplier(self, has_train_state: bool | None = None) -> float:
        """The budget multiplier (fixed at the first :meth:`observe`)."""
        if self._multiplier is not None:
            return self._multiplier
        if self._forced_multiplier is not None:
            return self._forced_multiplier
        if self.ruleset == "external":
            return get_ruleset(self.ruleset_version or VERSION_WITHOUT_TRAIN_STATE).budget_multiplier(
                "external")
        version = self.ruleset_version
        if version is None:
            version = VERSION_WITH_TRAIN_STATE if has_train_state else VERSION_WITHOUT_TRAIN_STATE
        return get_ruleset(version).self_tuning_budget_multiplier

    @property
    def budget_sec(self) -> float:
        return self.external_budget_sec * self.multiplier()

    # ---- readings --------------------------------------------------------------------------
    def observe(self, global_step: int, eval_results: Sequence[Any] = (),
                train_state: Mapping[str, Any] | None = None) -> BudgetSnapshot:
        """Record the start of a step and return the budget as it stands now.

        Call it first thing in ``update_params`` with the runner's ``global_step``,
        ``eval_results`` and (when the runner passes one) ``train_state``.
        """
        now = self.clock.now()
        if self._multiplier is None:
            self._multiplier = self.multiplier(has_train_state=train_state is not None)
        evals = len(eval_results)
        evaluated = evals > self._evals_seen
        if train_state is not None:
            elapsed = self._from_train_state(train_state, now, evaluated)
        else:
            elapsed = self._own_accounting(now, evaluated, eval_results)
        self._evals_seen = evals
        self._last = self._snapshot(elapsed, global_step)
        return self._last

    def finish_step(self) -> None:
        """Mark the end of this call's own work (sharpens the v0.5 accounting around evals)."""
        self._call_end = self.clock.now()

    def snapshot(self) -> BudgetSnapshot:
        """The budget right now, between :meth:`observe` calls (e.g. inside prepare_for_eval)."""
        if self._last is None:
            return self._snapshot(0.0, 0)
        since = self.clock.now() - (self._mark if self._mark is not None else self.clock.now())
        return self._snapshot(self._last.elapsed_sec + max(since, 0.0), self._last.global_step)

    @property
    def last(self) -> BudgetSnapshot | None:
        """The reading of the latest :meth:`observe` (``None`` before the first)."""
        return self._last

    # ---- internals -------------------------------------------------------------------------
    def _snapshot(self, elapsed: float, global_step: int) -> BudgetSnapshot:
        multiplier = self.multiplier()
        return BudgetSnapshot(
            budget_sec=self.external_budget_sec * multiplier,
            elapsed_sec=elapsed,
            step_time_sec=self.step_timer.estimate(),
            eval_overhead_sec=(self._overheads.estimate() or 0.0) if self._overheads.settled
            else 0.0,
            global_step=int(global_step),
            external_budget_sec=self.external_budget_sec,
            multiplier=multiplier,
            source=self._source or "none",
            slow_step_sec=self.step_timer.tail(),
            estimated_sec=self._estimated,
            worst_step_sec=self.step_timer.worst(),
        )

    def _from_train_state(self, ts: Mapping[str, Any], now: float, evaluated: bool) -> float:
        self._source = "train_state"
        accumulated = float(ts["accumulated_submission_time"])
        last_end = ts.get("last_step_end_time")
        in_flight = now - float(last_end) if last_end is not None else 0.0
        if self._prev_accumulated is not None:
            delta = accumulated - self._prev_accumulated
            if not evaluated:
                self.step_timer.add(delta)
            else:
                typical = self.step_timer.estimate()
                if typical is not None:
                    self._overheads.add(max(delta - typical, 0.0))
        self._prev_accumulated = accumulated
        self._mark = now
        return accumulated + max(in_flight, 0.0)

    def _own_accounting(self, now: float, evaluated: bool, eval_results: Sequence[Any]) -> float:
        self._source = "own accounting"
        if self._mark is not None:
            gap = now - self._mark
            if not evaluated:
                self.step_timer.add(gap)
                if self._call_end is not None:
                    self._outside.add(now - self._call_end)
                self._accounted += max(gap, 0.0)
            else:
                # the timed stretch between the evaluation and this call
                after = self._outside.mean()
                if after is None:
                    after = self.step_timer.mean() or 0.0
                anchor = _runner_submission_time(eval_results[-1])
                if anchor is not None:
                    guess = min(after, gap)
                    self._accounted = anchor + guess
                    self._estimated = guess
                else:
                    inside = self._call_end - self._mark if self._call_end is not None else None
                    guess = after if inside is not None else self.step_timer.mean() or 0.0
                    timed = min((inside or 0.0) + guess, gap)
                    self._accounted += max(timed, 0.0)
                    self._estimated += min(guess, max(timed, 0.0))
        self._mark = now
        self._call_end = None
        return self._accounted

    def __getstate__(self) -> dict[str, Any]:
        # A checkpoint restored after a kill must not count the time the run was dead.
        state = dict(self.__dict__)
        state["_mark"] = None
        state["_call_end"] = None
        state["_prev_accumulated"] = None
        return state


def _runner_submission_time(entry: Any) -> float | None:
    """The runner's ``accumulated_submission_time`` in one ``eval_results`` entry, if any.

    AlgoPerf appends ``(global_step, metrics)`` pairs whose metrics include it.
    """
    metrics = entry[1] if isinstance(entry, tuple | list) and len(entry) == 2 else entry
    if not isinstance(metrics, Mapping):
        return None
    value = metrics.get("accumulated_submission_time")
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) and value >= 0 else None
