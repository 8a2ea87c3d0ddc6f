"""SGD with Nesterov momentum: one of AlgoPerf's four target-setting algorithms.

The heavy-ball baseline (:mod:`baselines.momentum`) with Nesterov's look-ahead: with
β = 1 - one_minus_beta1 and L2 weight decay λ added to the gradient first::

    g̃ = g + λ θ
    b <- β b + g̃
    θ <- θ - η_t (g̃ + β b)

Same schedule (linear warmup, linear decay to ``end_factor * learning_rate`` over
``decay_steps_factor * (step_hint - warmup)`` steps), same search space and fixed point as
heavy-ball momentum. Modules: ``pytorch_external``, ``pytorch_self``, ``jax_external``,
``jax_self``.

    paceline run --workload mnist --submission nesterov --trials 5
"""
