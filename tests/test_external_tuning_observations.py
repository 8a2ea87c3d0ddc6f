"""Censored observations and the target-out-of-reach rule, on hand-made curves.

    .venv/bin/python -m pytest tests/test_external_tuning_observations.py -q
"""

from __future__ import annotations

import math

import pytest

from external_tuning.early_stopping import TargetOutOfReach
from external_tuning.observations import (
    Observation,
    imputed_time,
    objective,
    shared_objective,
)

BUDGET, TARGET = 20.0, 0.9


def obs(curve, status="budget_exhausted", reached=None, minimized=False,  # noqa: ANN001
        target=TARGET) -> Observation:
    return Observation("w", status, reached, BUDGET, target, minimized, tuple(curve))


def rising(stop: float, top: float, step: float = 1.0) -> list[tuple[float, float]]:
    """A curve that climbs linearly to ``top`` at ``stop`` seconds."""
    n = int(stop / step)
    return [(i * step, top * i / n) for i in range(1, n + 1)]


def test_a_hit_is_its_time_and_a_miss_never_ranks_above_a_hit() -> None:
    hit = obs(rising(19, 0.91), status="targets_reached", reached=19.5)
    near = obs(rising(20, 0.85))
    far = obs(rising(20, 0.40))
    flat = obs([(t, 0.1) for t in range(1, 21)])
    diverged = obs(rising(10, 0.88), status="diverged")
    nothing = obs([(1.0, math.nan)])
    assert imputed_time(hit) == 19.5
    times = [imputed_time(o) for o in (hit, near, far, flat, diverged)]
    assert times == sorted(times)
    assert BUDGET <= imputed_time(near) < imputed_time(far) < imputed_time(flat) < 4 * BUDGET
    assert imputed_time(diverged) == imputed_time(nothing) == 4 * BUDGET
    assert objective(hit) < 0 < objective(near) < objective(far) <= math.log(4)


def test_a_miss_is_valued_by_the_decades_it_ended_short() -> None:
    # 0.85 against 0.9: 5.6% short, 2.75 decades above 0.01%: 4 ** (2.75 / 4) budgets
    assert imputed_time(obs(rising(20, 0.85))) == pytest.approx(BUDGET * 4 ** (
        math.log10(0.05 / 0.9 / 1e-4) / 4))
    # its trend does not matter: a curve that stalled 0.002 short (noise kept its best-so-far
    # flat) ranks above a steep one 0.03 short
    stalled = [(1.0, 0.5), (5.0, 0.85)] + [(float(t), 0.898 - (0.004 if t % 2 else 0.0))
                                           for t in range(10, 21)]
    steep = rising(20, 0.87)
    assert BUDGET < imputed_time(obs(stalled)) < 2 * BUDGET < imputed_time(obs(steep)) < 4 * BUDGET
    # within 0.01% of the target: the budget; beyond it (a late crossing): the budget too
    assert imputed_time(obs(rising(20, 0.89995))) == BUDGET
    assert imputed_time(obs(rising(20, 0.95))) == BUDGET
    # a target of 0 counts the gap itself
    zero = obs([(20.0, 0.01)], minimized=True, target=0.0)
    assert imputed_time(zero) == pytest.approx(BUDGET * 2)


def test_a_trial_cut_short_is_extrapolated_from_the_budget() -> None:
    short = obs(rising(5, 0.6), status="max_global_steps")
    assert imputed_time(short) > BUDGET
    assert imputed_time(short) < imputed_time(obs(rising(5, 0.3), status="max_global_steps"))


def test_minimised_metrics_are_oriented() -> None:
    falling = [(t, 1.0 - 0.02 * t) for t in range(1, 21)]  # error rate 0.6 at 20 s
    slow = obs(falling, minimized=True, target=0.5)
    assert BUDGET < imputed_time(slow) < 4 * BUDGET
    worse = obs([(t, 1.0 - 0.01 * t) for t in range(1, 21)], minimized=True, target=0.5)
    assert imputed_time(slow) < imputed_time(worse)


def test_bare_times_and_the_shared_objective() -> None:
    a = Observation.from_time(10.0, budget=20.0, workload="a")
    b = Observation.from_time(math.inf, budget=100.0, workload="b")
    assert not b.reached and imputed_time(b) == 400.0
    assert shared_objective({"a": a, "b": b}) == pytest.approx((math.log(0.5) + math.log(4)) / 2)
    with pytest.raises(ValueError):
        Observation.from_time(1.0, budget=0)


def test_observations_round_trip_through_json() -> None:
    o = obs(rising(20, 0.85) + [(21.0, math.nan)])
    back = Observation.from_json(o.to_json())
    assert back.curve[:-1] == o.curve[:-1] and math.isnan(back.curve[-1][1])
    assert imputed_time(back) == imputed_time(o)


RULE = TargetOutOfReach()


def test_a_plateau_far_below_the_target_is_stopped_with_a_reason() -> None:
    curve = [(0.5, 0.1), (2, 0.5), (4, 0.55), (6, 0.56), (8, 0.56)]
    why = RULE.check(curve, TARGET, minimized=False, budget=BUDGET, metric="accuracy")
    assert why is not None and "accuracy" in why and "0.9" in why


def test_an_improving_curve_is_left_alone() -> None:
    curve = [(t, 0.1 + 0.04 * t) for t in range(1, 9)]  # 0.42 at 8 s, would reach 0.9 at 20 s
    assert RULE.check(curve, TARGET, False, BUDGET) is None


def test_nothing_is_stopped_before_a_quarter_of_the_budget_or_after_a_hit() -> None:
    plateau = [(0.5, 0.1), (1, 0.2), (2, 0.2), (3, 0.2), (4, 0.2)]
    assert RULE.check(plateau, TARGET, False, budget=100.0) is None  # 4 s of 100 s
    reached = [(1, 0.2), (6, 0.95), (7, 0.95), (8, 0.95), (9, 0.95)]
    assert RULE.check(reached, TARGET, False, BUDGET) is None


def test_no_improvement_at_all_is_named_as_such() -> None:
    flat = [(t, 0.3) for t in range(1, 8)]
    assert "has not improved" in RULE.check(flat, TARGET, False, BUDGET)
    early_burst = [(0.5, 0.1), (2, 0.5), (4, 0.55), (6, 0.56), (8, 0.56)]
    assert "has not improved" not in RULE.check(early_burst, TARGET, False, BUDGET)


def test_minimised_metric_plateau_is_stopped() -> None:
    curve = [(0.5, 3.0), (2, 1.2), (4, 1.1), (6, 1.1), (8, 1.1)]
    assert RULE.check(curve, 0.2, minimized=True, budget=BUDGET) is not None
    improving = [(t, 3.0 - 0.14 * t) for t in range(1, 9)]
    assert RULE.check(improving, 0.2, minimized=True, budget=BUDGET) is None


class _Workload:
    target_metric_name = "accuracy"
    validation_target_value = TARGET
    metric_minimized = False


def test_the_runner_hook_reads_eval_rows() -> None:
    rows = [(i, {"score": t, "validation/accuracy": v}) for i, (t, v) in
            enumerate([(0.5, 0.1), (2, 0.5), (4, 0.55), (6, 0.56), (8, 0.56)])]
    assert RULE(_Workload(), BUDGET, rows) is not None
    assert RULE(_Workload(), BUDGET, rows[:2]) is None


def test_a_curve_still_bending_up_is_left_alone() -> None:
    # BLEU on wmt: near zero, then doubling every few seconds; a straight line through its
    # recent pace falls far short of the target, but the curve is not flattening.
    climbing = [(t, 0.02 * 2 ** (t / 2)) for t in range(1, 11)]  # 0.64 at 10 s of 40
    assert RULE.check(climbing, 30.0, minimized=False, budget=40.0) is None
    flattening = [(t, 0.64 * (1 - 2 ** (-t / 2))) for t in range(1, 11)]
    assert RULE.check(flattening, 30.0, minimized=False, budget=40.0) is not None
