"""Nesterov momentum baseline, PyTorch, self-tuning ruleset: one fixed point, no tuning.

The runner passes ``hyperparameters=None``; this submission substitutes
``SELF_TUNING_POINT`` (shared with heavy-ball momentum: the centre of the external search
space) and schedules over the workload's ``step_hint``.

    paceline run --workload mnist --framework pytorch --submission nesterov --ruleset self
"""

from baselines.momentum import pytorch_impl as _impl
from baselines.momentum.common import SELF_TUNING_POINT
from baselines.momentum.pytorch_impl import data_selection, get_batch_size  # noqa: F401


def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):  # noqa: ANN001, ANN201
    del hyperparameters
    return _impl.init_optimizer_state(workload, model_params, model_state, SELF_TUNING_POINT,
                                      rng, nesterov=True)


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
