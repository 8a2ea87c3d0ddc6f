"""NAdamW with linear warmup and cosine decay: AlgoPerf's baseline (``algorithms/baselines/external_tuning/pytorch_nadamw_full_budget.py``).

Per parameter θ with gradient g at step t (β1 = 1 - one_minus_beta1, ε = 1e-8, λ = weight
decay, η_t the scheduled learning rate)::

    m <- β1 m + (1 - β1) g            v <- β2 v + (1 - β2) g²
    m̃ = β1 m + (1 - β1) g             (Nesterov look-ahead on the updated m)
    θ <- θ - η_t ( m̃ / (1 - β1^t) / (sqrt(v / (1 - β2^t)) + ε) + λ θ )

The schedule rises linearly over ``warmup_factor * step_hint`` steps and then follows a
cosine to zero at ``step_hint``. The external search space is ``tuning_search_space.json``
(AlgoPerf's five points); the self-tuning point is AlgoPerf's (point 5 without label
smoothing). The optimizers are in :mod:`baselines.common.pytorch_optimizers` and
:mod:`baselines.common.jax_optimizers`.

    paceline run --workload mnist --submission nadamw
    paceline run --workload mnist --framework jax --submission nadamw --ruleset self
"""

from baselines.common import Baseline
from baselines.common.schedules import cosine_schedule

# AlgoPerf's self-tuning NAdamW point; the adamw baseline uses it too.
NADAMW_SELF_TUNING_POINT = {
    "dropout_rate": 0.1, "learning_rate": 0.0017486387539278373,
    "one_minus_beta1": 0.06733926164, "beta2": 0.9955159689799007,
    "weight_decay": 0.08121616522670176, "warmup_factor": 0.02, "label_smoothing": 0.0,
}

BASELINE = Baseline(
    package=__name__, builders="nadamw", schedule=cosine_schedule,
    description="AlgoPerf's NAdamW baseline: warmup + cosine decay, decoupled weight decay",
    self_tuning_point=NADAMW_SELF_TUNING_POINT)
