"""End-of-budget guards: the final evaluation always counts; averaging methods are evaluated
at their evaluation point whether or not the runner calls prepare_for_eval."""

from __future__ import annotations

import csv

import pytest

from sdk import spec
from sdk.rulesets import get_ruleset
from self_tuning import BudgetSnapshot, EndOfBudgetGuard, EvalPointGuard
from tests.test_self_tuning_sim import RunnerClock, WithTrainState, run_sim


def _rows(path):
    with open(path / "eval_measurements.csv") as f:
        return list(csv.DictReader(f))


def _snap(elapsed: float, step_time: float | None = 1.0, overhead: float = 0.0,
          budget: float = 100.0) -> BudgetSnapshot:
    return BudgetSnapshot(budget, elapsed, step_time, overhead, 0, budget, 1.0, "train_state",
                          slow_step_sec=step_time)


def test_reserve_covers_steps_and_the_evaluation_overhead():
    guard = EndOfBudgetGuard(safety_steps=3, min_reserve_fraction=0.01)
    assert guard.reserve_sec(_snap(0.0, step_time=0.1, overhead=0.2)) == pytest.approx(1.0)
    assert guard.reserve_sec(_snap(0.0, step_time=2.0, overhead=0.5)) == pytest.approx(6.5)
    assert guard.horizon_sec(_snap(0.0, step_time=2.0, overhead=0.5)) == pytest.approx(93.5)
    assert not guard.should_stop(_snap(93.4, step_time=2.0, overhead=0.5))
    assert guard.should_stop(_snap(93.5, step_time=2.0, overhead=0.5))


def test_check_raises_the_training_complete_error_the_runner_expects():
    guard = EndOfBudgetGuard(safety_steps=1, min_reserve_fraction=0.0)
    guard.check(_snap(98.0))
    with pytest.raises(spec.TrainingCompleteError):
        guard.check(_snap(99.5))
    assert guard.stopped_at.elapsed_sec == 99.5


@pytest.mark.parametrize("version", ["0.5", "0.6"])
def test_guard_turns_the_leftover_budget_into_a_final_evaluation(version, tmp_path):
    budget = 100.0 * get_ruleset(version).self_tuning_budget_multiplier
    step = lambda s: 0.7  # noqa: E731
    guarded = WithTrainState(RunnerClock(1e6), step_cost=step, prepare_cost=0.05,
                             guard=EndOfBudgetGuard(safety_steps=2, min_reserve_fraction=0.0))
    # evaluations every 25 s of wall time: without the guard the last ~20 s go unevaluated
    result, _ = run_sim(guarded, version=version, eval_cost=3.0, eval_period=25.0,
                        tmp_path=tmp_path / "g")
    plain = WithTrainState(RunnerClock(1e6), step_cost=step, prepare_cost=0.05)
    plain_result, _ = run_sim(plain, version=version, eval_cost=3.0, eval_period=25.0,
                              tmp_path=tmp_path / "p")

    assert result.status == "training_complete"
    last = float(_rows(tmp_path / "g")[-1]["score"])
    assert budget - 2 * 0.7 - 0.1 < last < budget  # evaluated at the very end, and counted
    assert result.submission_time_sec < budget
    assert plain_result.status == "budget_exhausted"
    counted = [float(r["score"]) for r in _rows(tmp_path / "p") if float(r["score"]) < budget]
    assert budget - counted[-1] > 20.0  # without the guard the last ~20 s were never evaluated


def test_eval_point_guard_swaps_back_each_step_until_the_runner_prepares():
    guard = EvalPointGuard()
    to_eval = lambda state: "x"  # noqa: E731
    assert guard.after_update("y", to_eval) == "x"  # a v0.5 runner evaluates whatever is there
    assert guard.prepare_for_eval("y", to_eval) == "x"
    assert guard.after_update("y", to_eval) == "y"  # v0.6: the swap happens only before evals


def test_a_slow_first_step_does_not_make_the_guard_stop_early():
    from self_tuning import BudgetView, SimulatedClock

    clock = SimulatedClock()
    view = BudgetView(100.0, ruleset_version="0.6", clock=clock)  # 150 s
    guard = EndOfBudgetGuard()
    costs = [40.0, 0.5, 0.5, 0.5, 0.5]  # a 40 s compilation, then normal steps
    for step, cost in enumerate(costs):
        snap = view.observe(step)
        assert not guard.should_stop(snap), snap
        clock.advance(cost)
    assert guard.reserve_sec(view.observe(len(costs))) < 2.0


def test_reserve_covers_the_worst_stall_seen():
    """A 40 ms stall seen once means the last step may stall as long: the reserve holds it."""
    guard = EndOfBudgetGuard(safety_steps=3, min_reserve_fraction=0.0)
    snap = BudgetSnapshot(15.0, 14.0, 0.001, 0.0, 0, 15.0, 1.0, "own accounting",
                          slow_step_sec=0.002, worst_step_sec=0.04)
    assert guard.reserve_sec(snap) == pytest.approx(0.04)
    calm = BudgetSnapshot(15.0, 14.0, 0.001, 0.0, 0, 15.0, 1.0, "own accounting",
                          slow_step_sec=0.002, worst_step_sec=0.003)
    assert guard.reserve_sec(calm) == pytest.approx(0.006)


def test_step_timer_worst_is_a_sliding_maximum_after_warmup():
    from self_tuning.step_time import StepTimer

    timer = StepTimer(skip=2, window=4, worst_window=5)
    for seconds in [9.0, 8.0, 1.0, 3.0, 1.0, 1.0, 1.0, 1.0]:
        timer.add(seconds)
    assert timer.worst() == 3.0  # the warm-up samples never count
    timer.add(1.0)  # the 3.0 leaves the window of the last five
    assert timer.worst() == 1.0
    import pickle

    restored = pickle.loads(pickle.dumps(timer))
    restored.add(2.0)
    assert restored.worst() == 2.0 and restored.estimate() == 1.0
