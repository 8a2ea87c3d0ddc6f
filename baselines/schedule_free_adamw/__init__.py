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

The optimizers are ``pytorch_optimizer.py`` and ``jax_optimizer.py``. Self-tuning: the
competition's fixed point, plus :class:`self_tuning.EndOfBudgetGuard` so the final evaluation
always counts; external tuning: ``tuning_search_space.json``.

    paceline run --workload mnist --submission schedule_free_adamw --ruleset self
    paceline run --workload mnist --framework jax --submission schedule_free_adamw
"""

from __future__ import annotations

from typing import Any

from baselines.common import Baseline, hyper

# The self-tuning point of the v0.5 competition's winning schedule-free AdamW submission
# (learning rate 0.0025, beta1 0.9, beta2 0.9955..., weight decay 0.0812..., warmup 2% of
# 0.75 * step_hint, r 0.75, weight_lr_power 2, label smoothing 0.2, dropout 0.1).
SELF_TUNING_POINT = {
    "dropout_rate": 0.1, "label_smoothing": 0.2, "learning_rate": 0.0025,
    "one_minus_beta1": 0.1, "beta2": 0.9955159689799007, "weight_decay": 0.08121616522670176,
    "warmup_factor": 0.02 * 0.75, "r": 0.75, "weight_lr_power": 2.0,
}

# Defaults for the optional fields an external search space may leave out.
DEFAULTS = {"r": 0.0, "weight_lr_power": 2.0, "label_smoothing": 0.0, "dropout_rate": None}


def settings(hyperparameters: Any, step_hint: int) -> dict[str, float]:  # noqa: ANN401
    """The optimizer settings from a hyperparameter point (warmup in steps of ``step_hint``)."""
    hp = hyperparameters
    return {
        "lr": float(hp.learning_rate),
        "beta1": 1.0 - float(hp.one_minus_beta1),
        "beta2": float(hp.beta2),
        "weight_decay": float(hp.weight_decay),
        "warmup_steps": int(float(hp.warmup_factor) * step_hint),
        "r": float(hyper(hp, "r", DEFAULTS["r"])),
        "weight_lr_power": float(hyper(hp, "weight_lr_power", DEFAULTS["weight_lr_power"])),
    }


BASELINE = Baseline(
    package=__name__,
    description="Schedule-free AdamW (the v0.5 self-tuning winner's method): no schedule, "
                "evaluated at the averaged point",
    pytorch="baselines.schedule_free_adamw.pytorch_optimizer:build",
    jax="baselines.schedule_free_adamw.jax_optimizer:build",
    self_tuning_point=SELF_TUNING_POINT,
    eval_point=True,
    budget_guard=True,
)
