"""End-of-budget guards: finish in a state that evaluates well, never lose the run to the edge.

**The edge.** Under v0.6 rules the runner checks the budget only when a step is
eval-eligible and skips the evaluation once the budget is spent, so the last counted
evaluation can lie up to one eval period before the budget ends; under v0.5 rules the
budget is checked after every step and only an eval-eligible step gets a last evaluation.
Either way, whatever training happens after the last evaluation is lost. A submission that
raises ``TrainingCompleteError`` gets an evaluation right away (the runner treats
``training_complete`` as eval-eligible), so :class:`EndOfBudgetGuard` raises it while one
final ``prepare_for_eval`` and evaluation still fit in the budget::

    reserve = max(max(safety_steps * slow_step, worst_step) + eval_overhead
                  + estimate_slack * estimated,
                  min_reserve_fraction * budget)
    stop when  budget - elapsed <= reserve

``slow_step`` is the 95th percentile of recent step times after warm-up (a busy machine has a
long tail of slow steps; compilation steps do not count); ``worst_step`` is the longest step
of the last few thousand: a machine that stalled a process once (a noisy neighbour, a
collector pause) will do it again, possibly in the very last step, and a stall longer than
the reserve would carry the run past the budget with no final evaluation; ``estimated`` is
the part of the elapsed time a v0.5 view had to estimate.

Its :meth:`~EndOfBudgetGuard.horizon_sec` (``budget - reserve``) is where a time-based
schedule should end, so the decay is complete when the final evaluation happens.

**Averaging methods.** Schedule-free and other averaging methods train at one point and
should be evaluated at another. :class:`EvalPointGuard` keeps the parameters at the
evaluation point whenever the runner may evaluate: a v0.6 runner calls ``prepare_for_eval``
before each evaluation, so swapping there (once per evaluation) suffices; a runner that never
calls it (v0.5) gets the evaluation point back at the end of every ``update_params``.

    >>> from self_tuning.budget import BudgetSnapshot
    >>> guard = EndOfBudgetGuard(safety_steps=2, min_reserve_fraction=0.0)
    >>> snap = BudgetSnapshot(100.0, 99.5, 0.15, 0.05, 900, 100.0, 1.0, "train_state",
    ...                       slow_step_sec=0.2)
    >>> guard.reserve_sec(snap), guard.should_stop(snap)
    (0.45, False)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sdk import spec
from sdk.frameworks.checkpoints import checkpointable
from self_tuning.budget import BudgetSnapshot

checkpointable(spec.TrainingCompleteError)  # EndOfBudgetGuard's default error

T = TypeVar("T")


@checkpointable
class EndOfBudgetGuard:
    """Ends training (``TrainingCompleteError``) while a final evaluation still counts.

    Args:
        safety_steps: how many slow steps of slack to keep.
        min_reserve_fraction: the least fraction of the budget held back.
        estimate_slack: the fraction of the estimated (not measured) elapsed time held back.
        error: the exception to raise (default: ``spec.TrainingCompleteError``, which
            ``algoperf.spec`` resolves to inside paceline).
    """

    def __init__(self, safety_steps: float = 3.0, min_reserve_fraction: float = 0.002,
                 estimate_slack: float = 0.25,
                 error: type[Exception] = spec.TrainingCompleteError) -> None:
        if safety_steps < 0 or not 0 <= min_reserve_fraction < 1 or estimate_slack < 0:
            raise ValueError("EndOfBudgetGuard needs safety_steps >= 0, estimate_slack >= 0 "
                             "and 0 <= min_reserve_fraction < 1.")
        self.safety_steps = float(safety_steps)
        self.min_reserve_fraction = float(min_reserve_fraction)
        self.estimate_slack = float(estimate_slack)
        self.error = error
        self.stopped_at: BudgetSnapshot | None = None

    def reserve_sec(self, snap: BudgetSnapshot) -> float:
        """Submission time held back for the final evaluation."""
        # no step-time term until the step timer has settled: a first step that includes
        # compilation must not end the run
        steps = max(self.safety_steps * (snap.slow_step_sec or 0.0), snap.worst_step_sec or 0.0)
        return max(steps + snap.eval_overhead_sec
                   + self.estimate_slack * snap.estimated_sec,
                   self.min_reserve_fraction * snap.budget_sec)

    def horizon_sec(self, snap: BudgetSnapshot) -> float:
        """The submission time at which training should be finished (``budget - reserve``)."""
        return max(snap.budget_sec - self.reserve_sec(snap), 0.0)

    def should_stop(self, snap: BudgetSnapshot) -> bool:
        """Whether the budget left is within the reserve."""
        return snap.remaining_sec <= self.reserve_sec(snap)

    def check(self, snap: BudgetSnapshot) -> None:
        """Raise ``error`` when :meth:`should_stop`; call it before doing the step's work."""
        if self.should_stop(snap):
            self.stopped_at = snap
            raise self.error(
                f"stopping at {snap.elapsed_sec:.1f}s of a {snap.budget_sec:.1f}s budget so the "
                f"final evaluation still counts"
            )


@checkpointable
class EvalPointGuard:
    """Decides when an averaging method must hold its evaluation point.

    The swaps themselves belong to the optimizer and must be idempotent (a swap to the point
    the parameters already hold does nothing), so a checkpoint restored in either mode is
    safe. Use it as::

        state = to_train(state)                          # first thing in update_params
        ...                                              # the step
        state = guard.after_update(state, to_eval)       # last thing in update_params
        state = guard.prepare_for_eval(state, to_eval)   # in prepare_for_eval

        >>> guard = EvalPointGuard()
        >>> guard.after_update("y", lambda s: "x")       # no prepare_for_eval seen: swap
        'x'
        >>> guard.prepare_for_eval("y", lambda s: "x")
        'x'
        >>> guard.after_update("y", lambda s: "x")       # the runner prepares: stay at y
        'y'
    """

    def __init__(self) -> None:
        self.runner_prepares = False

    def state_dict(self) -> dict[str, bool]:
        """What a checkpoint keeps of the guard (plain data)."""
        return {"runner_prepares": self.runner_prepares}

    def load_state_dict(self, state: dict[str, bool]) -> None:
        """Take back what :meth:`state_dict` returned."""
        self.runner_prepares = bool(state["runner_prepares"])

    def after_update(self, state: T, to_eval: Callable[[T], T]) -> T:
        """The evaluation point unless the runner is known to call ``prepare_for_eval``."""
        return state if self.runner_prepares else to_eval(state)

    def prepare_for_eval(self, state: T, to_eval: Callable[[T], T]) -> T:
        """Swap to the evaluation point and remember that the runner prepares evaluations."""
        self.runner_prepares = True
        return to_eval(state)
