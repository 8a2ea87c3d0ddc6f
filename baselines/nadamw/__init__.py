"""NAdamW with linear warmup and cosine decay: AlgoPerf's baseline (``algoperf-spec.md`` §9.1).

Per parameter θ with gradient g at step t (β1 = 1 - one_minus_beta1, ε = 1e-8, λ = weight
decay, η_t the scheduled learning rate)::

    m <- β1 m + (1 - β1) g            v <- β2 v + (1 - β2) g²
    m̃ = β1 m + (1 - β1) g             (Nesterov look-ahead on the updated m)
    θ <- θ - η_t ( m̃ / (1 - β1^t) / (sqrt(v / (1 - β2^t)) + ε) + λ θ )

The schedule rises linearly over ``warmup_factor * step_hint`` steps and then follows a
cosine to zero at ``step_hint``. Modules: ``pytorch_external``, ``pytorch_self``,
``jax_external``, ``jax_self``; the external search space is ``tuning_search_space.json``
(AlgoPerf's five points).
"""
