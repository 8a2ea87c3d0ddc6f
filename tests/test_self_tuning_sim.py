"""Support for the self-tuning tests (it holds no tests itself): a submission built from the
self_tuning helpers, run by paceline's real runner on a simulated clock.

The submission's "work" advances the clock by ``step_cost(global_step)``, so a test decides
exactly how long steps take, how they drift, what evaluations and ``prepare_for_eval`` cost,
and then checks what the helpers concluded against what the runner counted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sdk.rulesets import get_ruleset
from sdk.runner import RunOptions, TrialResult, train_once
from sdk.submission import Submission
from self_tuning import BudgetView, EndOfBudgetGuard, SimulatedClock, TimeSchedule
from self_tuning.schedules import Schedule, warmup_cosine
from tests.fakes import ClockWorkload, Costs, numbers


class RunnerClock(SimulatedClock):
    """A simulated clock the runner (callable) and the fake workload (``advance``) can use."""

    def __call__(self) -> float:
        return self.now()


@dataclass
class Record:
    """What the submission saw at the start of each update_params call."""

    steps: list[int] = field(default_factory=list)
    elapsed: list[float] = field(default_factory=list)
    lrs: list[float] = field(default_factory=list)
    snapshots: list[Any] = field(default_factory=list)
    train_state_elapsed: list[float] = field(default_factory=list)
    prepare_calls: int = 0


class HelperSubmission:
    """update_params: observe the budget, let the guard stop, take a time-scheduled lr."""

    def __init__(self, clock: RunnerClock, step_cost: Callable[[int], float],
                 schedule: Schedule | None = None, guard: EndOfBudgetGuard | None = None,
                 prepare_cost: float = 0.0, multiplier: float | None = None,
                 mark_step_end: bool = True) -> None:
        self.clock, self.step_cost = clock, step_cost
        self.schedule = schedule or warmup_cosine(0.05)
        self.guard = guard
        self.prepare_cost = prepare_cost
        self.multiplier = multiplier
        self.mark_step_end = mark_step_end
        self.record = Record()

    def get_batch_size(self, workload_name):
        return 1

    def init_optimizer_state(self, workload, model_params, model_state, hyperparameters, rng):
        view = BudgetView.for_workload(workload, hyperparameters, clock=self.clock,
                                       multiplier=self.multiplier)
        return {"budget": view, "schedule": TimeSchedule(self.schedule, peak=1.0)}

    def data_selection(self, workload, input_queue, optimizer_state, current_param_container,
                       model_state, hyperparameters, global_step, rng):
        return next(input_queue)

    def _update(self, optimizer_state, params, model_state, eval_results, global_step,
                train_state):
        view: BudgetView = optimizer_state["budget"]
        snap = view.observe(global_step, eval_results, train_state)
        rec = self.record
        if train_state is not None:
            rec.train_state_elapsed.append(
                train_state["accumulated_submission_time"]
                + self.clock.now() - train_state["last_step_end_time"])
        end = None
        if self.guard is not None:
            self.guard.check(snap)
            end = self.guard.horizon_sec(snap)
        lr = optimizer_state["schedule"].lr(snap, end_sec=end)
        rec.steps.append(global_step)
        rec.elapsed.append(snap.elapsed_sec)
        rec.lrs.append(lr)
        rec.snapshots.append(snap)
        self.clock.advance(self.step_cost(global_step))
        if self.mark_step_end:
            view.finish_step()
        return optimizer_state, {"steps": params["steps"] + 1}, model_state

    def prepare_for_eval(self, workload, current_param_container, current_params_types,
                         model_state, hyperparameters, loss_type, optimizer_state, eval_results,
                         global_step, rng):
        self.record.prepare_calls += 1
        self.clock.advance(self.prepare_cost)
        return optimizer_state, current_param_container, model_state


class WithTrainState(HelperSubmission):
    """The v0.6 style: update_params declares ``train_state``."""

    def update_params(self, workload, current_param_container, current_params_types,
                      model_state, hyperparameters, batch, loss_type, optimizer_state,
                      eval_results, global_step, rng, train_state=None):
        return self._update(optimizer_state, current_param_container, model_state,
                            eval_results, global_step, train_state)


class WithoutTrainState(HelperSubmission):
    """The v0.5 style: no ``train_state``; the budget view keeps its own accounting."""

    def update_params(self, workload, current_param_container, current_params_types,
                      model_state, hyperparameters, batch, loss_type, optimizer_state,
                      eval_results, global_step, rng):
        return self._update(optimizer_state, current_param_container, model_state,
                            eval_results, global_step, None)


def run_sim(module: HelperSubmission, *, version: str = "0.6", api: str = "0.6",
            external_budget: float = 100.0, eval_period: float = 10.0, eval_cost: float = 3.0,
            ruleset: str = "self", tmp_path: Any = None) -> tuple[TrialResult, ClockWorkload]:
    """Run ``module`` under the real runner on the module's simulated clock."""
    clock = module.clock
    costs = Costs(step=0.0, eval=eval_cost, prepare=0.0)
    workload = ClockWorkload(clock, costs, numbers(budget=external_budget, period=eval_period),
                             ruleset_version=version)
    submission = Submission(module=module, name="helpers", path=None,  # type: ignore[arg-type]
                            api_version=api)
    options = RunOptions(ruleset=ruleset, save_checkpoints=False, tensorboard=False)
    hp = None if ruleset == "self" else {"learning_rate": 1.0}
    if hp is not None:
        from sdk.search_space import make_hyperparameters

        hp = make_hyperparameters(hp)
    result = train_once(workload, submission, hp, 0, get_ruleset(version), options, tmp_path,
                        clock=clock)
    return result, workload
