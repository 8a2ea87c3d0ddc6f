"""AdamW with linear warmup and cosine decay: one of AlgoPerf's target-setting algorithms.

Per parameter θ with gradient g at step t (β1 = 1 - one_minus_beta1, ε = 1e-8, λ = weight
decay, η_t the scheduled learning rate); the weight decay is decoupled and scaled by the
learning rate (``torch.optim.AdamW`` / ``optax.adamw``)::

    m <- β1 m + (1 - β1) g            v <- β2 v + (1 - β2) g²
    θ <- θ - η_t ( m / (1 - β1^t) / (sqrt(v / (1 - β2^t)) + ε) + λ θ )

It is NAdamW (:mod:`baselines.nadamw`) without the Nesterov look-ahead, with the same
schedule: linear warmup over ``warmup_factor * step_hint`` steps, then a cosine to zero at
``step_hint``. The external search space is ``tuning_search_space.json`` (dict form, the paper
baseline's); the self-tuning fixed point is NAdamW's.

    paceline run --workload mnist --submission adamw --trials 5
    paceline run --workload mnist --framework jax --submission adamw --ruleset self
"""

from baselines.common import Baseline
from baselines.common.schedules import cosine_schedule
from baselines.nadamw import NADAMW_SELF_TUNING_POINT

BASELINE = Baseline(
    package=__name__, builders="adamw", schedule=cosine_schedule,
    description="AdamW: warmup + cosine decay, decoupled weight decay (target-setting algorithm)",
    self_tuning_point=NADAMW_SELF_TUNING_POINT)
