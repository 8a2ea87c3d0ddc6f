"""Budget-aware building blocks for self-tuning submissions (PyTorch and JAX).

A self-tuning submission gets no tuning trials and a longer budget (3x the external budget
under the v0.5 rules of the benchmark paper, 1.5x under v0.6), so all its tuning happens on
the clock. These small pieces help it spend that budget well:

======================  ==================================================================
:class:`BudgetView`     elapsed / remaining / fraction of the budget, robust step time,
                        projected steps left; reads ``train_state`` (v0.6) or keeps its own
                        accounting (v0.5)
``schedules``           warmup and decay as functions of the fraction of time, and
                        :class:`TimeSchedule` for per-step learning rates
:class:`Race`           successive halving over candidate configurations on the clock;
                        :class:`RaceDriver` runs it inside ``update_params``
``snapshots``           state stores for PyTorch and JAX, :class:`RestartFromBest`
``guards``              :class:`EndOfBudgetGuard` (final evaluation always counts),
                        :class:`EvalPointGuard` (averaging methods evaluated at their
                        evaluation point)
``clock``               the wall clock, or a :class:`SimulatedClock` for tests
======================  ==================================================================

The smallest useful submission body::

    from self_tuning import BudgetView, EndOfBudgetGuard, TimeSchedule, warmup_cosine

    def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):
        return {"budget": BudgetView.for_workload(workload, hyperparameters),
                "guard": EndOfBudgetGuard(),
                "schedule": TimeSchedule(warmup_cosine(0.05), peak=1e-3), ...}

    def update_params(..., global_step, rng, train_state=None):
        snap = optimizer_state["budget"].observe(global_step, eval_results, train_state)
        optimizer_state["guard"].check(snap)                 # final eval always counts
        end = optimizer_state["guard"].horizon_sec(snap)
        lr = optimizer_state["schedule"].lr(snap, end_sec=end)
        ...

See ``docs/self_tuning.md``; the baselines ``schedule_free_adamw`` and
``self_tuning_example`` use these pieces:

    paceline run --workload mnist --submission self_tuning_example --ruleset self
"""

from self_tuning.budget import BudgetSnapshot, BudgetView
from self_tuning.clock import Clock, SimulatedClock, WallClock
from self_tuning.guards import EndOfBudgetGuard, EvalPointGuard
from self_tuning.racing import Race, RaceDriver, RaceRecord, Rung, successive_halving
from self_tuning.schedules import (
    Schedule,
    TimeSchedule,
    constant,
    cosine_decay,
    linear_decay,
    linear_warmup,
    multiply,
    sqrt_decay,
    warmup_constant_decay,
    warmup_cosine,
    warmup_linear,
)
from self_tuning.snapshots import JaxStore, RestartFromBest, TorchStore
from self_tuning.step_time import StepTimer

__all__ = [
    "BudgetSnapshot",
    "BudgetView",
    "Clock",
    "EndOfBudgetGuard",
    "EvalPointGuard",
    "JaxStore",
    "Race",
    "RaceDriver",
    "RaceRecord",
    "RestartFromBest",
    "Rung",
    "Schedule",
    "SimulatedClock",
    "StepTimer",
    "TimeSchedule",
    "TorchStore",
    "WallClock",
    "constant",
    "cosine_decay",
    "linear_decay",
    "linear_warmup",
    "multiply",
    "sqrt_decay",
    "successive_halving",
    "warmup_constant_decay",
    "warmup_cosine",
    "warmup_linear",
]
