"""AdamW baseline, JAX, self-tuning ruleset: NAdamW's fixed point, no tuning.

The runner passes ``hyperparameters=None``; this submission substitutes AlgoPerf's
self-tuning NAdamW point (same hyperparameter meanings) and schedules over ``step_hint``.

    paceline run --workload mnist --framework jax --submission adamw --ruleset self
"""

from baselines.adamw import jax_impl as _impl
from baselines.adamw.jax_impl import data_selection, get_batch_size  # noqa: F401
from baselines.nadamw.common import SELF_TUNING_POINT


def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):  # noqa: ANN001, ANN201
    del hyperparameters
    return _impl.init_optimizer_state(workload, model_params, model_state, SELF_TUNING_POINT,
                                      rng)


def update_params(workload, current_param_container, current_params_types, model_state,  # noqa: ANN001, ANN201
                  hyperparameters, batch, loss_type, optimizer_state, eval_results,
                  global_step, rng):
    del hyperparameters
    return _impl.update_params(workload, current_param_container, current_params_types,
                               model_state, SELF_TUNING_POINT, batch, loss_type,
                               optimizer_state, eval_results, global_step, rng)


def prepare_for_eval(workload, current_param_container, current_params_types, model_state,  # noqa: ANN001, ANN201
                     hyperparameters, loss_type, optimizer_state, eval_results, global_step,
                     rng):
    return _impl.prepare_for_eval(workload, current_param_container, current_params_types,
                                  model_state, SELF_TUNING_POINT, loss_type, optimizer_state,
                                  eval_results, global_step, rng)
