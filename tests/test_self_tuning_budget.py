"""The budget view: which budget, how much is used, step time, steps left (both versions)."""

from __future__ import annotations

import pickle
from types import SimpleNamespace

import pytest

from sdk.rulesets import get_ruleset
from self_tuning import BudgetView, SimulatedClock, StepTimer
from tests.test_self_tuning_sim import RunnerClock, WithoutTrainState, WithTrainState, run_sim


def workload(budget: float = 100.0, version: str | None = None) -> SimpleNamespace:
    w = SimpleNamespace(max_allowed_runtime_sec=budget)
    if version is not None:
        w.ruleset_version = version
    return w


@pytest.mark.parametrize("version", ["0.5", "0.6"])
def test_self_tuning_budget_is_the_versions_multiple_of_the_external_one(version):
    view = BudgetView.for_workload(workload(200.0, version), hyperparameters=None)
    expected = 200.0 * get_ruleset(version).self_tuning_budget_multiplier
    assert view.budget_sec == pytest.approx(expected)
    assert view.observe(0, (), None).budget_sec == pytest.approx(expected)


def test_the_two_versions_have_the_papers_and_the_current_multipliers():
    assert BudgetView(10.0, ruleset_version="0.5").budget_sec == pytest.approx(30.0)
    assert BudgetView(10.0, ruleset_version="0.6").budget_sec == pytest.approx(15.0)


def test_external_tuning_gets_the_plain_budget():
    view = BudgetView.for_workload(workload(200.0, "0.5"), hyperparameters={"lr": 0.1})
    assert view.ruleset == "external"
    assert view.budget_sec == pytest.approx(200.0)


def test_without_a_version_the_runners_api_decides():
    # AlgoPerf's own runner: train_state means v0.6 rules, no train_state means v0.5 rules.
    v06 = BudgetView.for_workload(workload(100.0))
    assert v06.observe(0, (), {"accumulated_submission_time": 0.0,
                               "last_step_end_time": None}).budget_sec == pytest.approx(150.0)
    v05 = BudgetView.for_workload(workload(100.0))
    assert v05.observe(0, (), None).budget_sec == pytest.approx(300.0)


def test_an_explicit_multiplier_wins():
    view = BudgetView.for_workload(workload(100.0, "0.5"), multiplier=2.0)
    assert view.observe(0).budget_sec == pytest.approx(200.0)


@pytest.mark.parametrize("bad", [{"external_budget_sec": 0.0}, {"multiplier": -1.0},
                                 {"ruleset": "both"}, {"ruleset_version": "0.7"}])
def test_bad_settings_are_refused(bad):
    kwargs = {"external_budget_sec": 10.0, **bad}
    with pytest.raises(ValueError):
        BudgetView(**kwargs)


@pytest.mark.parametrize("version", ["0.5", "0.6"])
def test_train_state_accounting_matches_the_runner_exactly(version, tmp_path):
    clock = RunnerClock(1000.0)
    module = WithTrainState(clock, step_cost=lambda s: 0.5 if s < 40 else 1.25,
                            prepare_cost=0.2)
    result, _ = run_sim(module, version=version, tmp_path=tmp_path)
    rec = module.record
    assert rec.elapsed == pytest.approx(rec.train_state_elapsed)
    budget = 100.0 * get_ruleset(version).self_tuning_budget_multiplier
    assert rec.snapshots[-1].budget_sec == pytest.approx(budget)
    assert rec.snapshots[-1].source == "train_state"
    # the final reading is the runner's total minus the last step
    assert rec.elapsed[-1] == pytest.approx(result.submission_time_sec - 1.25, abs=0.21)


@pytest.mark.parametrize("version", ["0.5", "0.6"])
def test_own_accounting_leaves_out_evaluations(version, tmp_path):
    # v0.5-style submission: no train_state, evaluations of 6 s every 10 s of wall time must
    # not be counted, which a plain wall clock would (it would be about 40% too high).
    clock = RunnerClock(1000.0)
    module = WithoutTrainState(clock, step_cost=lambda s: 0.5 if s < 40 else 1.25)
    result, _ = run_sim(module, version=version, api="0.5", eval_cost=6.0, tmp_path=tmp_path)
    rec = module.record
    assert rec.snapshots[-1].source == "own accounting"
    runner_total = result.submission_time_sec
    assert rec.elapsed[-1] + 1.25 == pytest.approx(runner_total, rel=1e-6)
    rows = _rows(tmp_path)
    # right after each evaluation the view agrees with the runner's accumulated time
    by_step = dict(zip(rec.steps, rec.elapsed, strict=True))
    for row in rows[:-1]:
        step = int(row["global_step"])
        assert by_step[step] == pytest.approx(float(row["accumulated_submission_time"]))


def test_own_accounting_without_step_end_marks_uses_the_typical_step(tmp_path):
    clock = RunnerClock(1000.0)
    module = WithoutTrainState(clock, step_cost=lambda s: 1.0, mark_step_end=False)
    result, _ = run_sim(module, version="0.5", api="0.5", eval_cost=6.0, tmp_path=tmp_path)
    # without marks the view assumes a whole step of timed work after each evaluation: one
    # step ahead of the runner (the safe side), and never more, since each evaluation
    # result re-anchors it on the runner's own number
    by_step = dict(zip(module.record.steps, module.record.elapsed, strict=True))
    rows = _rows(tmp_path)
    assert len(rows) > 5
    first = rows[0]  # no step measured yet: nothing to add
    assert by_step[int(first["global_step"])] == pytest.approx(
        float(first["accumulated_submission_time"]))
    for row in rows[1:-1]:
        step = int(row["global_step"])
        assert by_step[step] == pytest.approx(float(row["accumulated_submission_time"]) + 1.0)
    assert module.record.elapsed[-1] + 1.0 == pytest.approx(result.submission_time_sec + 1.0)


def test_own_accounting_without_runner_numbers_in_eval_results_estimates(tmp_path):
    """A runner whose eval results lack accumulated_submission_time: estimates, flagged."""
    from self_tuning import BudgetView, SimulatedClock

    clock = SimulatedClock()
    view = BudgetView(100.0, ruleset_version="0.5", clock=clock)
    evals: list = []
    for step in range(40):
        if step and step % 10 == 0:
            evals.append((step, {"validation/accuracy": 0.5}))
            clock.advance(4.0)  # an untimed evaluation
        view.observe(step, evals)
        clock.advance(0.5)  # the call
        view.finish_step()
        clock.advance(0.1)  # runner bookkeeping and data selection
    snap = view.observe(40, evals)
    assert snap.elapsed_sec == pytest.approx(40 * 0.6)
    assert snap.estimated_sec == pytest.approx(3 * 0.1)


def test_step_time_ignores_warmup_and_follows_drift():
    clock = SimulatedClock()
    view = BudgetView(1000.0, ruleset_version="0.6", clock=clock,
                      step_timer=StepTimer(skip=3, window=20))
    costs = [30.0, 5.0, 2.0] + [0.5] * 50 + [2.0] * 30  # compile, warm-up, steady, slower
    estimates = []
    for step, cost in enumerate(costs):
        estimates.append(view.observe(step).step_time_sec)
        clock.advance(cost)
    assert estimates[10] == pytest.approx(0.5)  # compile and warm-up left no trace
    assert estimates[3 + 50 + 11] == pytest.approx(2.0)  # followed the change after window/2
    snap = view.observe(len(costs))
    assert snap.steps_left == int(snap.remaining_sec // 2.0)


def test_a_single_slow_step_does_not_move_the_estimate():
    clock = SimulatedClock()
    view = BudgetView(1000.0, ruleset_version="0.5", clock=clock)
    for step in range(40):
        view.observe(step)
        clock.advance(25.0 if step == 30 else 1.0)
    assert view.observe(40).step_time_sec == pytest.approx(1.0)


def test_snapshot_arithmetic():
    clock = SimulatedClock()
    view = BudgetView(10.0, ruleset_version="0.6", clock=clock)  # 15 s budget
    for step in range(6):
        snap = view.observe(step)
        clock.advance(1.0)
    assert (snap.elapsed_sec, snap.remaining_sec) == (5.0, 10.0)
    assert snap.fraction == pytest.approx(1 / 3)
    assert snap.steps_left == 10
    assert snap.fraction_of(end_sec=9.0, start_sec=1.0) == pytest.approx(0.5)
    assert view.snapshot().elapsed_sec == pytest.approx(6.0)  # mid-step reading


def test_a_restored_view_does_not_count_the_time_the_run_was_dead():
    clock = SimulatedClock()
    view = BudgetView(100.0, ruleset_version="0.5", clock=clock)
    for step in range(5):
        view.observe(step)
        clock.advance(1.0)
    revived = pickle.loads(pickle.dumps(view))
    revived.clock = clock
    clock.advance(3600.0)  # killed, restarted an hour later
    snap = revived.observe(5)
    assert snap.elapsed_sec == pytest.approx(4.0)
    clock.advance(1.0)
    assert revived.observe(6).elapsed_sec == pytest.approx(5.0)


def _rows(path):
    import csv

    with open(path / "eval_measurements.csv") as f:
        return list(csv.DictReader(f))
