"""The helper-built example's tuner on a simulated clock: probe, race, decay to the external
budget, second chance to the end, restart from best after a divergence."""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
import pytest

from baselines.self_tuning_example.tuner import SelfTuner, TunerSettings, nadamw_candidates
from sdk import spec
from self_tuning import BudgetView, JaxStore, SimulatedClock

Candidate = namedtuple("Candidate", ["learning_rate"])
LRS = [0.02, 2.5, 0.2, 1.0]  # on the quadratic below 1.0 is best and 2.5 diverges
LAM = np.linspace(0.1, 1.0, 16)


def loss(w):
    return float(0.5 * np.sum(LAM * w * w))


def simulate(nan_at_step: int | None = None, step_sec: float = 0.5):
    clock = SimulatedClock()
    view = BudgetView(100.0, ruleset_version="0.6", clock=clock)  # 150 s self-tuning budget
    tuner = SelfTuner([Candidate(lr) for lr in LRS], view, JaxStore(), JaxStore(),
                      batch_size=128, settings=TunerSettings())
    w, evals, log = np.ones(16), [], []
    rng = np.random.default_rng(0)
    step = 0
    while True:
        try:
            plan, w = tuner.plan(step, evals, None, w, f"batch {step}", lambda s: loss(s))
        except spec.TrainingCompleteError:
            break
        log.append((view.last.elapsed_sec, plan))
        if plan.arm is not None:
            with np.errstate(over="ignore", invalid="ignore"):
                w = w - plan.lr * (LAM * w + 0.01 * rng.standard_normal(16))
            value = math.nan if step == nan_at_step else loss(w)
            w = tuner.after_step(value, w)
        clock.advance(step_sec)  # the step's work, inside update_params
        view.finish_step()
        step += 1
        if step % 10 == 0:
            evals.append((step, {}))
    return tuner, log, view


def test_the_example_probes_races_decays_and_ends_on_time():
    tuner, log, view = simulate()
    assert [p.arm for _, p in log[:4]] == [None] * 4  # 512 examples / 128 per batch
    assert tuner.probe == [f"batch {i}" for i in range(4)]
    race = tuner.driver.race
    assert LRS[race.winner] == 1.0
    assert race.finished_at - race.started_at == pytest.approx(0.2 * 100.0, abs=0.5)
    main = [(e, p) for e, p in log if e >= tuner.race_end_sec]
    assert all(p.arm == race.winner for _, p in main)
    # first decay: done when the winner has trained as long as the external budget (100 s)
    # allows one configuration, i.e. 100 s plus the race time spent on the losers
    lost = race.finished_at - race.started_at - race.arm_seconds[race.winner]
    assert 5.0 < lost < 20.0
    horizon = 100.0 + lost
    first = [p.lr for e, p in main if e < horizon]
    assert first[0] == pytest.approx(1.0, rel=0.05) and first[-1] < 0.01
    assert tuner.second_start_sec == pytest.approx(horizon, abs=0.5)
    # second chance: a quarter of the peak at most, back to ~0 when the guard stops the run
    second = [p.lr for e, p in main if e >= horizon]
    assert tuner.second_cycle and 0.2 < max(second) <= 0.25 and second[-1] < 1e-3
    assert 150.0 - 2.0 < view.last.elapsed_sec < 150.0


def test_a_diverging_step_goes_back_to_the_best_state_with_a_smaller_rate():
    tuner, log, _ = simulate(nan_at_step=120)
    assert tuner.keeper.restores >= 1 and tuner.lr_scale == 0.5
    steps = {round(e / 0.5): p for e, p in log}
    assert steps[121].reset_optimizer and not steps[122].reset_optimizer
    assert steps[121].lr < steps[119].lr * 0.6


def test_candidates_are_the_distinct_nadamw_points():
    points = nadamw_candidates()
    assert len(points) == 4
    assert len({(p.learning_rate, p.beta2) for p in points}) == 4
    assert 0.0017486387539278373 in [p.learning_rate for p in points]  # the fixed point


def test_the_tuner_survives_a_checkpoint_mid_race():
    import pickle

    clock = SimulatedClock()
    view = BudgetView(100.0, ruleset_version="0.6", clock=clock)
    tuner = SelfTuner([Candidate(lr) for lr in LRS], view, JaxStore(), JaxStore(), 128)
    w = np.ones(16)
    for step in range(30):  # probe, then part of the first rung
        plan, w = tuner.plan(step, [], None, w, step, loss)
        if plan.arm is not None:
            w = w - plan.lr * LAM * w
        clock.advance(0.5)
        view.finish_step()
    assert tuner.driver.race.running
    revived = pickle.loads(pickle.dumps(tuner))
    revived.budget.clock = clock
    a, _ = tuner.plan(30, [], None, w, 30, loss)
    b, _ = revived.plan(30, [], None, w, 30, loss)
    assert a == b


def test_a_single_candidate_skips_the_race():
    clock = SimulatedClock()
    view = BudgetView(100.0, ruleset_version="0.5", clock=clock)
    tuner = SelfTuner([Candidate(0.5)], view, JaxStore(), JaxStore(), batch_size=1024)
    plans = []
    w = np.ones(16)
    for step in range(5):
        plan, w = tuner.plan(step, [], None, w, step, loss)
        plans.append(plan)
        clock.advance(1.0)
        view.finish_step()
    assert plans[0].arm is None and all(p.arm == 0 for p in plans[1:])
    assert tuner.race_end_sec == pytest.approx(1.0) and tuner.keeper.has_best
