"""The framework-neutral half of the example: which candidate trains each step, at what rate.

:class:`SelfTuner` owns a :class:`~self_tuning.BudgetView`, an
:class:`~self_tuning.EndOfBudgetGuard`, a :class:`~self_tuning.RaceDriver` and a
:class:`~self_tuning.RestartFromBest`; the framework modules hand it their state (a PyTorch
module, or a JAX ``(params, model_state)`` pair), a state store and a scoring function, and
get back a :class:`StepPlan`.
"""

from __future__ import annotations

import json
import math
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from baselines.common import get_batch_size, hyper
from sdk.frameworks.checkpoints import checkpointable
from sdk.rulesets import base_workload_name
from self_tuning import (
    BudgetSnapshot,
    BudgetView,
    EndOfBudgetGuard,
    Race,
    RaceDriver,
    RestartFromBest,
    cosine_decay,
    linear_warmup,
    warmup_cosine,
)

LOG_EVERY = 100
NADAMW_SPACE = Path(__file__).resolve().parents[1] / "nadamw" / "tuning_search_space.json"


# A module-level type (unlike search-space namedtuples), registered so that the tuner goes
# into checkpoints as plain data (sdk.frameworks.checkpoints).
NadamwPoint = checkpointable(namedtuple(
    "NadamwPoint", ["dropout_rate", "label_smoothing", "learning_rate", "one_minus_beta1",
                    "beta2", "weight_decay", "warmup_factor"]))


def nadamw_candidates() -> list[NadamwPoint]:
    """AlgoPerf's five NAdamW points, minus the one that differs from another only by label
    smoothing (point 1 vs 3, the later one is kept): four distinct optimizer settings."""
    points = json.loads(NADAMW_SPACE.read_text())
    kept: dict[tuple, NadamwPoint] = {}
    for point in points:
        key = tuple(sorted((k, v) for k, v in point.items() if k != "label_smoothing"))
        kept.pop(key, None)
        kept[key] = NadamwPoint(**point)
    return list(kept.values())


@checkpointable
@dataclass(frozen=True)
class TunerSettings:
    """The example's knobs (fractions of the external budget unless said otherwise)."""

    race_fraction: float = 0.2  # of the external budget spent racing
    eta: float = 2.0  # successive-halving elimination factor
    probe_examples: int = 512  # held-aside training examples that score candidates
    max_probe_batches: int = 8
    first_horizon: float = 1.0  # the first decay ends at this multiple of the external budget
    #                             (plus the race time spent on losing candidates)
    second_peak: float = 0.25  # the second cycle's peak, relative to the winner's
    second_warmup: float = 0.05  # warmup of the second cycle, as a fraction of it
    divergence_lr_factor: float = 0.5  # learning-rate factor after a restart from best


@checkpointable
@dataclass(frozen=True)
class StepPlan:
    """What the framework code does in this step.

    ``arm is None``: only keep the batch as a probe batch. ``reset_optimizer``: rebuild the
    arm's optimizer state (after a restart from best).
    """

    arm: int | None
    lr: float = 0.0
    reset_optimizer: bool = False


@checkpointable
class SelfTuner:
    """Probe -> race -> decay -> second chance, on the submission's clock.

    Args:
        candidates: hyperparameter points (``learning_rate`` is the peak rate).
        budget: the run's budget view.
        race_store, best_store: state stores for the race and for restart-from-best.
        batch_size: the global batch size (sizes the probe set).
        settings: the knobs.
    """

    def __init__(self, candidates: Sequence[Any], budget: BudgetView, race_store: Any,
                 best_store: Any, batch_size: int,
                 settings: TunerSettings = TunerSettings()) -> None:
        self.candidates = list(candidates)
        self.budget = budget
        self.guard = EndOfBudgetGuard()
        self.settings = settings
        self.race_store = race_store
        self.keeper = RestartFromBest(best_store, minimize=True)
        self.n_probe = int(min(max(math.ceil(settings.probe_examples / batch_size), 1),
                               settings.max_probe_batches))
        self.probe: list[Any] = []
        self.driver: RaceDriver | None = None
        self.race_warmup_sec = 0.0
        self.race_end_sec: float | None = None
        self.lr_scale = 1.0
        self.second_cycle = False
        self.second_start_sec = 0.0
        self._evals_seen = 0
        self._pending_reset = False
        self.last_plan: StepPlan | None = None
        self._events: dict[str, float] = {}

    # ---- per step --------------------------------------------------------------------------
    def plan(self, global_step: int, eval_results: Sequence[Any], train_state: Any,
             state: Any, batch: Any, score_fn: Callable[[Any], float]) -> tuple[StepPlan, Any]:
        """Decide this step; returns the plan and the (possibly swapped) state to train."""
        snap = self.budget.observe(global_step, eval_results, train_state)
        self.guard.check(snap)
        new_eval = len(eval_results) > self._evals_seen
        self._evals_seen = len(eval_results)
        if len(self.probe) < self.n_probe:
            self.probe.append(batch)
            return self._remember(StepPlan(arm=None)), state
        if self.driver is None:
            self._start_race(snap)
        if self.driver.running:
            arm, state = self.driver.step(snap.elapsed_sec, state,
                                          lambda arm, s: score_fn(s))
            if self.driver.running:
                return self._remember(StepPlan(arm, self._race_lr(arm, snap))), state
            self.race_end_sec = snap.elapsed_sec
            score = self.driver.race.latest_score[arm]
            self.keeper.offer(score if score is not None else score_fn(state), state,
                              global_step)
            self._events.update({"race/winner": arm, "race/end_sec": snap.elapsed_sec,
                                 "race/winner_lr": self.candidates[arm].learning_rate})
        elif new_eval:
            self.keeper.offer(score_fn(state), state, global_step)
        state = self._maybe_start_second_cycle(snap, state)
        winner = self.driver.race.winner
        reset, self._pending_reset = self._pending_reset, False
        return self._remember(StepPlan(winner, self._main_lr(snap), reset)), state

    def step(self, workload: Any, global_step: int, eval_results: Sequence[Any],
             train_state: Any, state: Any, batch: Any, score_fn: Callable[[Any], float],
             train_fn: Callable[[StepPlan, Any], tuple[float, Any]]) -> Any:
        """One submission step, the same in both frameworks: plan it, train the planned
        candidate (``train_fn(plan, state) -> (loss, state)``), react to the loss, log.
        Returns the state to hand back (unchanged when the batch became a probe batch)."""
        plan, state = self.plan(global_step, eval_results, train_state, state, batch, score_fn)
        if plan.arm is None:  # this batch became a probe batch
            self.budget.finish_step()
            return state
        loss, state = train_fn(plan, state)
        state = self.after_step(loss, state)
        self.budget.finish_step()
        self.log(workload, global_step, {"loss": loss, "learning_rate": plan.lr,
                                         "candidate": plan.arm})
        return state

    def after_step(self, loss: float, state: Any) -> Any:
        """React to the step's training loss: a non-finite one ends a race slice or restores
        the best state with a smaller learning rate."""
        if math.isfinite(loss):
            return state
        snap = self.budget.snapshot()
        if self.driver is not None and self.driver.race.running:
            _, state = self.driver.abort_live(snap.elapsed_sec, state)
            return state
        if self.keeper.has_best:
            state = self.keeper.restore(state)
            self.lr_scale *= self.settings.divergence_lr_factor
            self._pending_reset = True
            self._events["restart/lr_scale"] = self.lr_scale
        return state

    def pop_events(self) -> dict[str, float]:
        """Scalars worth logging once (race winner, restarts), cleared when read."""
        events, self._events = self._events, {}
        return events

    def log(self, workload: Any, global_step: int, scalars: dict[str, float]) -> None:
        """Log the pending events, and ``scalars`` every ``LOG_EVERY`` steps."""
        if workload.metrics_logger is None:
            return
        events = self.pop_events()
        if global_step % LOG_EVERY == 0:
            events.update(scalars)
        if events:
            workload.metrics_logger.append_scalar_metrics(events, global_step)

    def state_for_eval(self, state: Any) -> Any:
        """During the race, evaluations see the leading candidate (v0.6 ``prepare_for_eval``)."""
        return self.driver.state_for_eval(state) if self.driver is not None else state

    # ---- internals -------------------------------------------------------------------------
    def _remember(self, plan: StepPlan) -> StepPlan:
        self.last_plan = plan
        return plan

    def _start_race(self, snap: BudgetSnapshot) -> None:
        total = min(self.settings.race_fraction * snap.external_budget_sec,
                    0.5 * snap.budget_sec)
        race = Race(len(self.candidates), total, eta=self.settings.eta)
        self.driver = RaceDriver(race, self.race_store)
        # every candidate warms up over half of its first slice, so rung 0 compares them
        # after the same warmup
        self.race_warmup_sec = 0.5 * race.plan[0].seconds_each if race.plan else 0.0

    def _warmup(self, arm: int, snap: BudgetSnapshot) -> float:
        if self.race_warmup_sec <= 0:
            return 1.0
        trained = self.driver.race.trained_sec(arm, snap.elapsed_sec)
        if self.race_end_sec is not None and arm == self.driver.race.winner:
            trained = self.driver.race.arm_seconds[arm] + snap.elapsed_sec - self.race_end_sec
        return linear_warmup(1.0)(trained / self.race_warmup_sec)

    def _race_lr(self, arm: int, snap: BudgetSnapshot) -> float:
        return self.candidates[arm].learning_rate * self._warmup(arm, snap)

    def _first_horizon(self, snap: BudgetSnapshot) -> float:
        """External budget plus the race time spent on the losers: by then the winner has
        trained as long as a single configuration could within the external budget."""
        end = self.guard.horizon_sec(snap)
        race = self.driver.race
        lost = self.race_end_sec - race.started_at - race.arm_seconds[race.winner]
        wanted = self.settings.first_horizon * snap.external_budget_sec + max(lost, 0.0)
        return min(end, max(wanted, self.race_end_sec))

    def _maybe_start_second_cycle(self, snap: BudgetSnapshot, state: Any) -> Any:
        if self.second_cycle or snap.elapsed_sec < self._first_horizon(snap):
            return state
        if snap.elapsed_sec >= self.guard.horizon_sec(snap):
            return state
        self.second_cycle = True
        self.second_start_sec = snap.elapsed_sec
        self._events["second_cycle/start_sec"] = snap.elapsed_sec
        if self.keeper.has_best:
            state = self.keeper.restore(state)
        return state

    def _main_lr(self, snap: BudgetSnapshot) -> float:
        winner = self.driver.race.winner
        peak = self.candidates[winner].learning_rate * self.lr_scale
        warm = self._warmup(winner, snap)
        end = self.guard.horizon_sec(snap)
        if not self.second_cycle:
            mult = cosine_decay()(snap.fraction_of(self._first_horizon(snap), self.race_end_sec))
        else:
            f = snap.fraction_of(end, self.second_start_sec)
            mult = self.settings.second_peak * warmup_cosine(self.settings.second_warmup)(f)
        return peak * warm * mult

    def summary(self) -> dict[str, Any]:
        """What the tuner did, as plain data (logged by the framework modules)."""
        out = {"race_end_sec": self.race_end_sec, "second_cycle": self.second_cycle,
               "lr_scale": self.lr_scale, "restores": self.keeper.restores}
        if self.driver is not None:
            out.update(self.driver.summary())
        return out


def label_smoothing(candidate: Any) -> float:
    return float(hyper(candidate, "label_smoothing", 0.0))


def dropout_rate(candidate: Any) -> float | None:
    return hyper(candidate, "dropout_rate", None)


def batch_size_for(workload: Any) -> int:
    """The NAdamW baseline's batch size for this workload (variants: their base's)."""
    name = getattr(workload, "name", None) or getattr(workload, "workload_name", "")
    try:
        return get_batch_size(name)
    except ValueError:
        return get_batch_size(base_workload_name(name))
