"""Time-based schedules: their shapes, and that they end on time when step time changes."""

from __future__ import annotations

import math

import pytest

from sdk.rulesets import get_ruleset
from self_tuning import (
    BudgetSnapshot,
    EndOfBudgetGuard,
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
from tests.test_self_tuning_sim import RunnerClock, WithoutTrainState, WithTrainState, run_sim


def test_shapes_at_their_landmarks():
    assert [linear_warmup(0.2)(f) for f in (0.0, 0.1, 0.2, 0.9)] == [0.0, 0.5, 1.0, 1.0]
    cos = cosine_decay(start=0.2, end=0.8, final=0.1)
    assert cos(0.1) == 1.0 and cos(0.5) == pytest.approx(0.55) and cos(0.9) == pytest.approx(0.1)
    assert linear_decay(0.5, 1.0)(0.75) == pytest.approx(0.5)
    assert sqrt_decay(0.0, 1.0)(0.25) == pytest.approx(0.5)
    wsd = warmup_constant_decay(warmup=0.1, decay_start=0.6, end=0.9, shape="cosine")
    assert wsd(0.05) == pytest.approx(0.5)
    assert wsd(0.3) == wsd(0.6) == 1.0
    assert wsd(0.75) == pytest.approx(0.5)
    assert wsd(0.95) == 0.0
    assert multiply(constant(0.5), linear_warmup(0.5))(0.25) == pytest.approx(0.25)


@pytest.mark.parametrize("make", [warmup_cosine, warmup_linear, warmup_constant_decay])
def test_warmup_then_decay_rises_then_never_rises_again(make):
    sched = make(0.1)
    values = [sched(i / 1000) for i in range(1001)]
    peak = values.index(max(values))
    assert values[0] == 0.0 and max(values) == pytest.approx(1.0)
    assert all(a <= b for a, b in zip(values[:peak], values[1:peak + 1], strict=True))
    assert all(a >= b for a, b in zip(values[peak:], values[peak + 1:], strict=False))
    assert values[-1] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("bad", [lambda: linear_warmup(1.5), lambda: cosine_decay(end=-0.1),
                                 lambda: warmup_constant_decay(0.3, decay_start=0.2),
                                 lambda: warmup_constant_decay(shape="exp")])
def test_bad_schedule_settings_are_refused(bad):
    with pytest.raises(ValueError):
        bad()


def test_time_schedule_reads_the_fraction_of_its_window():
    snap = BudgetSnapshot(200.0, 110.0, 0.5, 0.0, 220, 100.0, 2.0, "train_state")
    sched = TimeSchedule(linear_decay(), peak=0.2, start_sec=10.0, end_sec=210.0)
    assert sched.fraction(snap) == pytest.approx(0.5)
    assert sched.lr(snap) == pytest.approx(0.1)
    assert sched.lr(snap, end_sec=110.0) == pytest.approx(0.0)
    # a step-indexed projection agrees with the time schedule at constant step time
    step_fn = sched.as_step_fn(snap)
    assert step_fn(220) == pytest.approx(0.1)
    assert step_fn(220 + 100) == pytest.approx(0.2 * (1 - 150 / 200))
    assert step_fn(10**6) == 0.0


# Steps take 0.5 s for the first 100 steps, then 1.5 s: a schedule sized in steps from the
# early step time would be only about 40% through its decay when the budget runs out.
def _slowing(step: int) -> float:
    return 0.5 if step < 100 else 1.5


@pytest.mark.parametrize("version", ["0.5", "0.6"])
@pytest.mark.parametrize("style", [WithTrainState, WithoutTrainState])
def test_schedule_ends_on_time_when_step_time_changes_mid_run(version, style, tmp_path):
    clock = RunnerClock(1_000_000.0)
    guard = EndOfBudgetGuard(safety_steps=2, min_reserve_fraction=0.0)
    module = style(clock, step_cost=_slowing, schedule=warmup_cosine(0.05), guard=guard,
                   prepare_cost=0.1)
    result, _ = run_sim(module, version=version, api="0.6" if style is WithTrainState else "0.5",
                        eval_cost=2.0, tmp_path=tmp_path)
    budget = 100.0 * get_ruleset(version).self_tuning_budget_multiplier
    rec = module.record
    assert result.status == "training_complete"  # the guard ended it, not the budget
    # the decay is complete at the last step, and the last step is near the budget's end
    assert rec.lrs[-1] < 1e-3
    assert budget - rec.elapsed[-1] < 3 * 1.5 + 0.1 + 1e-6
    # ... but not earlier: one second before the end the schedule was still decaying
    decaying = [lr for lr, e in zip(rec.lrs, rec.elapsed, strict=True) if e < budget - 6.0]
    assert decaying[-1] > 1e-4
    # the final evaluation happened inside the budget, at the fully decayed state
    assert result.time_to_target_sec is None or result.time_to_target_sec < budget
    last_eval = _rows(tmp_path)[-1]
    assert budget - 3 * 1.5 - 0.2 < float(last_eval["score"]) < budget
    # a step-indexed schedule planned from the early step time would end far too late
    planned_steps = budget / 0.5
    naive = warmup_cosine(0.05)(len(rec.steps) / planned_steps)
    assert naive > 0.25  # still at a quarter of the peak or more


def test_schedule_of_an_external_tuning_submission_spans_the_external_budget(tmp_path):
    clock = RunnerClock(1_000_000.0)
    guard = EndOfBudgetGuard(safety_steps=2, min_reserve_fraction=0.0)
    module = WithTrainState(clock, step_cost=lambda s: 0.25, schedule=warmup_linear(0.1),
                            guard=guard)
    result, _ = run_sim(module, version="0.5", ruleset="external", eval_cost=1.0,
                        tmp_path=tmp_path)
    assert result.status == "training_complete"
    assert math.isclose(module.record.snapshots[-1].budget_sec, 100.0)
    assert 99.0 < result.submission_time_sec < 100.0


def _rows(path):
    import csv

    with open(path / "eval_measurements.csv") as f:
        return list(csv.DictReader(f))


def test_schedules_survive_a_checkpoint():
    import pickle

    sched = TimeSchedule(warmup_constant_decay(0.1, 0.5, shape="sqrt"), peak=0.3, end_sec=50.0)
    back = pickle.loads(pickle.dumps(sched))
    snap = BudgetSnapshot(100.0, 30.0, 0.5, 0.0, 60, 100.0, 1.0, "train_state")
    assert back.lr(snap) == sched.lr(snap) > 0
