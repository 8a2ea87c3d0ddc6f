"""SGD with heavy-ball momentum: one of AlgoPerf's four target-setting algorithms.

Per parameter θ with gradient g at step t (β = 1 - one_minus_beta1, λ = weight decay, η_t the
scheduled learning rate); weight decay is an L2 term added to the gradient before the
momentum, as in AlgoPerf's target-setting and paper baselines (``torch.optim.SGD`` and
``optax.chain(add_decayed_weights, sgd)`` agree on this)::

    g̃ = g + λ θ
    b <- β b + g̃                  (b starts at 0)
    θ <- θ - η_t b                (heavy ball; Nesterov: θ <- θ - η_t (g̃ + β b))

Schedule (the target-setting algorithms' shape, AlgoPerf's ``algorithms/target_setting_algorithms/``): a linear warmup
from 0 to ``learning_rate`` over ``warmup_factor * step_hint`` steps, then a linear decay to
``end_factor * learning_rate`` over ``decay_steps_factor * (step_hint - warmup)`` steps, then
constant. Like AlgoPerf's paper baselines the schedule spans the workload's ``step_hint``;
``paceline targets`` sets the step hint of its runs to the target-setting step count.

The external search space is ``tuning_search_space.json`` (dict form, the paper baseline's);
the self-tuning point is its centre (log scale for the log-scaled ranges, the first listed
choice otherwise).

    paceline run --workload mnist --submission momentum --trials 5
    paceline run --workload mnist --framework jax --submission momentum --ruleset self
"""

from baselines.common import Baseline
from baselines.common.schedules import linear_decay_schedule

# The centre of the search space; the nesterov baseline uses it too.
SGD_SELF_TUNING_POINT = {
    "learning_rate": 0.31622776601683794, "one_minus_beta1": 0.03872983346207417,
    "warmup_factor": 0.05, "weight_decay": 2.23606797749979e-06, "label_smoothing": 0.1,
    "dropout_rate": 0.0, "decay_steps_factor": 0.9, "end_factor": 0.001,
}

BASELINE = Baseline(
    package=__name__, builders="momentum", schedule=linear_decay_schedule,
    description="SGD with heavy-ball momentum: warmup + linear decay (target-setting algorithm)",
    self_tuning_point=SGD_SELF_TUNING_POINT)
