"""Schedule-free AdamW (Defazio et al., "The Road Less Scheduled", arXiv 2405.15682).

The method behind the winning self-tuning submission of the first AlgoPerf competition
(v0.5). It needs no learning-rate schedule: it trains at one point and evaluates at an
average of its iterates. Per parameter, with peak learning rate γ, β1, β2, ε, weight decay λ,
warmup length W, averaging powers r and p, at step k = 0, 1, ... (z_0 = x_0 = y_0 = θ_0)::

    g_k    = ∇f(y_k)                                  gradient at the training point y
    v_k    = β2 v_{k-1} + (1 - β2) g_k²
    γ_k    = γ · min(1, (k + 1) / W)                  linear warmup
    s_k    = γ_k · sqrt(1 - β2^(k+1))                 (bias correction of v folded in)
    d_k    = g_k / (sqrt(v_k) + ε) + λ y_k
    z_k+1  = z_k - s_k d_k                            the base (Adam) sequence
    c_k+1  = w_k / Σ_{i≤k} w_i,  w_k = (k + 1)^r · (max_{i≤k} γ_i)^p
    x_k+1  = (1 - c_k+1) x_k + c_k+1 z_k+1            the evaluation point (an average)
    y_k+1  = (1 - β1) z_k+1 + β1 x_k+1                the training point (interpolation)

Only y (in the model) plus z and v (in the optimizer) are stored; x is recovered from them,
``x = (y - (1 - β1) z) / β1``, and y is updated in closed form::

    y_k+1 = (1 - c) y_k + c z_k + s_k (β1 (1 - c) - 1) d_k

Evaluation happens at x: ``prepare_for_eval`` swaps y -> x (v0.6), the next ``update_params``
swaps back; a runner that never calls ``prepare_for_eval`` (v0.5) gets x back at the end of
every step (:class:`self_tuning.EvalPointGuard`). Batch-norm statistics are the ones
accumulated at y (as in the competition submission).

Modules: ``pytorch_self``, ``jax_self`` (the competition's fixed point, plus
:class:`self_tuning.EndOfBudgetGuard` so the final evaluation always counts),
``pytorch_external``, ``jax_external`` (search space ``tuning_search_space.json``).

    paceline run --workload mnist --submission schedule_free_adamw --ruleset self
    paceline run --workload mnist --framework jax --submission schedule_free_adamw
"""
