"""Racing on the clock: the rung plan, picking the best candidate on synthetic problems, state
swaps that never leak between candidates (PyTorch and JAX), restart-from-best."""

from __future__ import annotations

import math

import numpy as np
import pytest

from self_tuning import (
    BudgetView,
    JaxStore,
    Race,
    RaceDriver,
    RestartFromBest,
    SimulatedClock,
    TorchStore,
    successive_halving,
)


def test_rung_plan_spends_the_race_budget_evenly():
    plan = successive_halving(8, total_sec=60.0, eta=2)
    assert [r.arms for r in plan] == [8, 4, 2]
    assert all(r.arms * r.seconds_each == pytest.approx(20.0) for r in plan)
    assert [r.arms for r in successive_halving(5, 30.0, eta=3)] == [5, 2]
    assert successive_halving(1, 10.0) == []
    with pytest.raises(ValueError):
        successive_halving(0, 10.0)
    with pytest.raises(ValueError):
        successive_halving(4, 10.0, eta=1.0)


def test_a_single_candidate_needs_no_race():
    race = Race(1, total_sec=10.0)
    assert race.start(3.0) == 0 and race.winner == 0 and not race.running


# A noisy quadratic: loss(w) = 0.5 * sum(lam * w^2), gradient noise sigma. Step size 1.0 is
# fastest, 0.2 and 0.02 are slow, 2.5 diverges (2.5 * max(lam) > 2).
LAM = np.linspace(0.1, 1.0, 16)
LRS = [0.02, 2.5, 0.2, 1.0]


def loss(w: np.ndarray) -> float:
    return float(0.5 * np.sum(LAM * w * w))


def sgd_step(w: np.ndarray, lr: float, rng: np.random.Generator) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        return w - lr * (LAM * w + 0.01 * rng.standard_normal(w.shape))


def run_race(total_sec: float, step_sec: float = 1.0, seed: int = 0):
    clock = SimulatedClock()
    view = BudgetView(1000.0, ruleset_version="0.6", clock=clock)
    rng = np.random.default_rng(seed)
    driver = RaceDriver(Race(len(LRS), total_sec), JaxStore(), lambda arm, w: loss(w))
    state = np.ones(16)
    steps_per_arm = [0] * len(LRS)
    step = 0
    while driver.running:
        snap = view.observe(step)
        arm, state = driver.step(snap.elapsed_sec, state)
        if not driver.running:
            break
        state = sgd_step(state, LRS[arm], rng)
        steps_per_arm[arm] += 1
        clock.advance(step_sec)
        step += 1
    return driver, state, steps_per_arm, view.observe(step)


def test_race_picks_the_best_candidate_on_a_noisy_quadratic():
    driver, state, steps, snap = run_race(total_sec=40.0)
    race = driver.race
    # the ground truth: each step size trained alone for as long as the winner trained
    truth = []
    for lr in LRS:
        w, rng = np.ones(16), np.random.default_rng(1)
        for _ in range(steps[race.winner]):
            w = sgd_step(w, lr, rng)
        truth.append(loss(w) if np.all(np.isfinite(w)) else math.inf)
    assert race.winner == int(np.argmin(truth)) == LRS.index(1.0)
    diverging = LRS.index(2.5)
    assert race.latest_score[diverging] > loss(np.ones(16))  # worse than where it started
    assert [h.rung for h in race.history if h.arm == diverging] == [0]  # out after rung 0
    # the race took its budget, the winner trained the longest and continued (not restarted)
    assert race.finished_at - race.started_at == pytest.approx(40.0)
    assert steps[race.winner] == max(steps) == pytest.approx(race.arm_seconds[race.winner])
    assert loss(state) == pytest.approx(race.latest_score[race.winner])  # its own state is live


@pytest.mark.parametrize("seed", range(5))
def test_race_winner_is_stable_across_seeds(seed):
    driver, *_ = run_race(total_sec=24.0, seed=seed)
    assert driver.race.winner == LRS.index(1.0)


def test_leading_candidate_is_shown_to_evaluations_and_the_live_one_comes_back():
    clock = SimulatedClock()
    driver = RaceDriver(Race(2, total_sec=4.0), JaxStore(), lambda arm, s: s["loss"])
    state = {"loss": 10.0, "arm": None}
    arm, state = driver.step(0.0, state)
    state = {"loss": 1.0, "arm": arm}  # arm 0 trained to loss 1
    arm, state = driver.step(2.0, state)  # slice over: arm 0 scored, arm 1 starts fresh
    assert arm == 1 and state["arm"] is None
    state = {"loss": 5.0, "arm": 1}
    shown = driver.state_for_eval(state)
    assert shown == {"loss": 1.0, "arm": 0}  # the leader, not the live arm
    arm, back = driver.step(3.0, shown)
    assert arm == 1 and back == {"loss": 5.0, "arm": 1}
    del clock


def _torch_problem():
    import torch

    torch.manual_seed(0)
    x = torch.randn(64, 8)
    y = x @ torch.randn(8, 1) + 0.1 * torch.randn(64, 1)
    model = torch.nn.Sequential(torch.nn.Linear(8, 1), torch.nn.BatchNorm1d(1))
    return torch, model, x, y


def test_torch_states_never_leak_between_candidates():
    torch, model, x, y = _torch_problem()
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    lrs = [0.001, 0.05, 0.3, 5.0]
    optimizers = [torch.optim.SGD(model.parameters(), lr=lr) for lr in lrs]

    def full_batch_loss(m):
        m.eval()
        with torch.no_grad():
            value = float(torch.nn.functional.mse_loss(m(x), y))
        return value if math.isfinite(value) else math.inf

    driver = RaceDriver(Race(4, total_sec=16.0), TorchStore(),
                        lambda arm, m: full_batch_loss(m))
    steps = [0] * 4
    t = 0.0
    while True:
        arm, model = driver.step(t, model)
        if not driver.running:
            break
        model.train()
        optimizers[arm].zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        optimizers[arm].step()
        steps[arm] += 1
        t += 1.0
    winner = driver.race.winner
    assert lrs[winner] == 0.3
    # replaying the winner alone from the initial state gives exactly the live model
    replay = _torch_problem()[1]
    replay.load_state_dict(initial)
    opt = torch.optim.SGD(replay.parameters(), lr=lrs[winner])
    for _ in range(steps[winner]):
        replay.train()
        opt.zero_grad()
        torch.nn.functional.mse_loss(replay(x), y).backward()
        opt.step()
    for (name, a), b in zip(model.state_dict().items(), replay.state_dict().values(),
                            strict=True):
        assert torch.allclose(a, b), name


def test_jax_store_offloads_and_restores_arrays():
    import jax.numpy as jnp

    store = JaxStore(offload=True)
    params = {"w": jnp.arange(4.0)}
    store.save("a", params)
    back = store.load("a", {"w": jnp.zeros(4)})
    assert isinstance(back["w"], type(params["w"]))
    np.testing.assert_array_equal(np.asarray(back["w"]), np.arange(4.0))


def test_restart_from_best_goes_back_to_the_best_torch_state():
    torch, model, x, y = _torch_problem()
    keeper = RestartFromBest(TorchStore(device="cpu"))
    assert keeper.offer(1.0, model, step=5)
    kept = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        for p in model.parameters():
            p.add_(100.0)  # diverged
    assert not keeper.offer(float("inf"), model, step=6)
    assert keeper.diverged(float("inf")) and keeper.diverged(2.5) and not keeper.diverged(1.5)
    model = keeper.restore(model)
    for name, value in model.state_dict().items():
        assert torch.equal(value, kept[name]), name
    assert (keeper.best_step, keeper.restores) == (5, 1)
