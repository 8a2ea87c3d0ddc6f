"""The runner's timing and stopping rules, checked exactly on a simulated clock."""

from __future__ import annotations

import pytest

from sdk.rulesets import get_ruleset
from sdk.runner import RunOptions, train_once
from tests.fakes import ClockSubmissionModule, ClockWorkload, Costs, FakeClock, clock_submission
from tests.fakes import numbers as make_numbers


def run(costs=Costs(), version="0.6", api="0.6", budget=100.0, target=0.0, test_target=0.0,
        max_steps=None, complete_at=None, ruleset="external", tmp_path=None, with_prepare=True):
    clock = FakeClock()
    workload = ClockWorkload(clock, costs, make_numbers(target, test_target, budget, 10.0),
                             ruleset_version=version)
    module = ClockSubmissionModule(clock, costs, complete_at, with_prepare=with_prepare)
    options = RunOptions(ruleset=ruleset, max_global_steps=max_steps, save_checkpoints=False,
                         tensorboard=False)
    result = train_once(workload, clock_submission(module, api), None, 0, get_ruleset(version),
                        options, tmp_path, clock=clock)
    return result, workload, module


def eval_rows(tmp_path):
    import csv

    with open(tmp_path / "eval_measurements.csv") as f:
        return list(csv.DictReader(f))


def test_eval_time_is_excluded_and_prepare_for_eval_included(tmp_path):
    result, workload, module = run(Costs(step=1.0, eval=5.0, prepare=0.5), tmp_path=tmp_path)
    rows = eval_rows(tmp_path)
    assert workload.eval_steps[:4] == [1, 11, 21, 31]  # every 10 s of wall time, step 1 first
    for i, row in enumerate(rows, start=1):
        step = int(row["global_step"])
        # i evaluations so far, each preceded by one timed prepare_for_eval
        assert float(row["accumulated_submission_time"]) == pytest.approx(step + 0.5 * i)
        assert float(row["score"]) == float(row["accumulated_submission_time"])
        assert float(row["accumulated_eval_time"]) == pytest.approx(5.0 * i)
    assert module.prepare_calls >= len(rows)
    assert result.eval_time_sec == pytest.approx(5.0 * len(rows))


def test_data_selection_is_timed(tmp_path):
    result, _, _ = run(Costs(step=1.0, select=0.25, eval=0.0, prepare=0.0), max_steps=8,
                       tmp_path=tmp_path)
    assert result.submission_time_sec == pytest.approx(8 * 1.25)


def test_v06_never_evaluates_past_the_budget(tmp_path):
    result, workload, _ = run(Costs(step=1.0, eval=5.0), budget=101.0, tmp_path=tmp_path)
    assert result.status == "budget_exhausted"
    assert result.global_step == 101
    assert workload.eval_steps[-1] == 91  # step 101 was eval-eligible but over budget
    assert all(float(r["score"]) < 101.0 for r in eval_rows(tmp_path))


def test_v05_gives_the_crossing_step_a_free_eval(tmp_path):
    result, workload, _ = run(Costs(step=1.0, eval=5.0), version="0.5", api="0.5",
                              budget=101.0, tmp_path=tmp_path)
    assert result.status == "budget_exhausted"
    assert workload.eval_steps[-1] == 101
    assert float(eval_rows(tmp_path)[-1]["score"]) == pytest.approx(101.0)


def test_v05_checks_the_budget_after_every_step(tmp_path):
    # budget 95: v0.5 stops right after step 95 (not eval-eligible, so no eval)
    result, workload, _ = run(Costs(step=1.0, eval=5.0), version="0.5", api="0.5",
                              budget=95.0, tmp_path=tmp_path)
    assert result.global_step == 95
    assert workload.eval_steps[-1] == 91


def test_stops_when_both_targets_are_reached(tmp_path):
    # validation loss 1/(1+steps) < 0.05 from step 20 on; the first eval after that is 21
    result, workload, _ = run(Costs(step=1.0, eval=5.0), target=0.05, test_target=0.05,
                              tmp_path=tmp_path)
    assert result.status == "targets_reached"
    assert result.global_step == 21 and workload.eval_steps[-1] == 21
    assert result.time_to_target_sec == pytest.approx(21.0)


def test_validation_target_alone_does_not_stop_training(tmp_path):
    result, _, _ = run(Costs(step=1.0, eval=5.0), target=0.05, test_target=0.0,
                       budget=60.0, tmp_path=tmp_path)
    assert result.reached_validation_target and not result.reached_test_target
    assert result.status == "budget_exhausted"
    assert result.time_to_target_sec == pytest.approx(21.0)


def test_max_global_steps_ends_with_an_eval(tmp_path):
    result, workload, _ = run(Costs(step=1.0, eval=5.0), max_steps=15, tmp_path=tmp_path)
    assert result.status == "max_global_steps"
    assert result.global_step == 15 and workload.eval_steps[-1] == 15


def test_training_complete_error_ends_the_run_with_an_eval(tmp_path):
    result, workload, _ = run(Costs(step=1.0, eval=5.0), complete_at=7, tmp_path=tmp_path)
    assert result.status == "training_complete"
    assert result.global_step == 8  # the raising call counts as a step, as in AlgoPerf
    assert workload.eval_steps[-1] == 8


def test_self_tuning_budget_multiplier_per_version(tmp_path):
    for version, multiplier in (("0.5", 3.0), ("0.6", 1.5)):
        result, _, _ = run(Costs(step=1.0, eval=0.0), version=version, budget=20.0,
                           ruleset="self", tmp_path=tmp_path / version)
        assert result.budget_sec == pytest.approx(20.0 * multiplier)
        assert result.submission_time_sec >= 20.0 * multiplier


def test_train_state_is_a_live_read_only_view():
    _, _, module = run(Costs(step=1.0, eval=5.0), max_steps=5)
    states = module.train_states
    assert [s["accumulated_submission_time"] for s in states[1:]] == [1.0, 2.0, 3.0, 4.0]
    assert set(states[0]) >= {"validation_goal_reached", "is_time_remaining",
                              "accumulated_eval_time", "last_step_end_time"}


def test_v05_api_gets_no_prepare_for_eval_and_no_train_state():
    _, _, module = run(Costs(step=1.0, eval=5.0), api="0.5", max_steps=5)
    assert module.prepare_calls == 0


def test_the_result_carries_the_eval_curve_of_the_csv(tmp_path):
    from sdk.scoring.reader import read_curve

    result, _, _ = run(Costs(step=1.0, eval=5.0, prepare=0.5), max_steps=40, tmp_path=tmp_path)
    curve = read_curve(tmp_path / "eval_measurements.csv", "validation/loss")
    assert result.eval_curve == tuple(zip(curve.times, curve.values, strict=True))
    assert len(result.eval_curve) == result.num_evals > 1
    assert "eval_curve" not in result.to_json()  # the record on disk stays as it was
