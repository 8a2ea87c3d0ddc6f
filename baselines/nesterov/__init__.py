"""SGD with Nesterov momentum: one of AlgoPerf's four target-setting algorithms.

The heavy-ball baseline (:mod:`baselines.momentum`) with Nesterov's look-ahead: with
β = 1 - one_minus_beta1 and L2 weight decay λ added to the gradient first::

    g̃ = g + λ θ
    b <- β b + g̃
    θ <- θ - η_t (g̃ + β b)

Same schedule (linear warmup, linear decay to ``end_factor * learning_rate`` over
``decay_steps_factor * (step_hint - warmup)`` steps), same search space and fixed point as
heavy-ball momentum.

    paceline run --workload mnist --submission nesterov --trials 5
    paceline run --workload mnist --framework jax --submission nesterov --ruleset self
"""

from baselines.common import Baseline
from baselines.common.schedules import linear_decay_schedule
from baselines.momentum import SGD_SELF_TUNING_POINT

BASELINE = Baseline(
    package=__name__, builders="nesterov", schedule=linear_decay_schedule,
    description="SGD with Nesterov momentum: warmup + linear decay (target-setting algorithm)",
    self_tuning_point=SGD_SELF_TUNING_POINT)
