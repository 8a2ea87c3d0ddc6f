"""Schedule-free AdamW, JAX, self-tuning ruleset: one fixed point, no schedule to size.

The runner passes ``hyperparameters=None``; this submission uses the v0.5 competition's
self-tuning point (``common.SELF_TUNING_POINT``). An :class:`self_tuning.EndOfBudgetGuard`
ends training while a final evaluation of the averaged point still counts.

    paceline run --workload mnist --framework jax --submission schedule_free_adamw --ruleset self
"""

from baselines.schedule_free_adamw import jax_impl as _impl
from baselines.schedule_free_adamw.common import SELF_TUNING_POINT
from baselines.schedule_free_adamw.jax_impl import data_selection, get_batch_size  # noqa: F401
from self_tuning import BudgetView, EndOfBudgetGuard


def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):  # noqa: ANN001, ANN201
    state, opt = _impl.init_optimizer_state(workload, model_params, model_state,
                                            SELF_TUNING_POINT, rng)
    opt.extras["budget"] = BudgetView.for_workload(workload, hyperparameters)
    opt.extras["guard"] = EndOfBudgetGuard()
    return state, opt


def update_params(workload, current_param_container, current_params_types, model_state,  # noqa: ANN001, ANN201
                  hyperparameters, batch, loss_type, optimizer_state, eval_results,
                  global_step, rng, train_state=None):
    extras = optimizer_state[1].extras
    snap = extras["budget"].observe(global_step, eval_results, train_state)
    extras["guard"].check(snap)
    out = _impl.update_params(workload, current_param_container, current_params_types,
                              model_state, SELF_TUNING_POINT, batch, loss_type, optimizer_state,
                              eval_results, global_step, rng)
    extras["budget"].finish_step()
    return out


def prepare_for_eval(workload, current_param_container, current_params_types, model_state,  # noqa: ANN001, ANN201
                     hyperparameters, loss_type, optimizer_state, eval_results, global_step,
                     rng):
    return _impl.prepare_for_eval(workload, current_param_container, current_params_types,
                                  model_state, SELF_TUNING_POINT, loss_type, optimizer_state,
                                  eval_results, global_step, rng)
