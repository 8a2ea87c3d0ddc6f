"""SGD with heavy-ball momentum: one of AlgoPerf's four target-setting algorithms.

Per parameter θ with gradient g at step t (β = 1 - one_minus_beta1, λ = weight decay, η_t the
scheduled learning rate); weight decay is an L2 term added to the gradient before the
momentum, as in AlgoPerf's target-setting and paper baselines (``torch.optim.SGD`` and
``optax.chain(add_decayed_weights, sgd)`` agree on this)::

    g̃ = g + λ θ
    b <- β b + g̃                  (b starts at 0)
    θ <- θ - η_t b                (heavy ball; Nesterov: θ <- θ - η_t (g̃ + β b))

Schedule (the target-setting algorithms' shape, ``algoperf-spec.md`` §9.2): a linear warmup
from 0 to ``learning_rate`` over ``warmup_factor * step_hint`` steps, then a linear decay to
``end_factor * learning_rate`` over ``decay_steps_factor * (step_hint - warmup)`` steps, then
constant. Like AlgoPerf's paper baselines the schedule spans the workload's ``step_hint``;
``paceline targets`` sets the step hint of its runs to the target-setting step count.

Modules: ``pytorch_external``, ``pytorch_self``, ``jax_external``, ``jax_self``; the
external search space is ``tuning_search_space.json`` (dict form, the paper baseline's).

    paceline run --workload mnist --submission momentum --trials 5
"""
