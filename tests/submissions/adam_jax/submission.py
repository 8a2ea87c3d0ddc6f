"""Adam in JAX (optax, one jitted step) for any workload, a small batch a step: the
official-scale runs of the tests (fastmri, wmt) train it for a few steps on a CPU.

It asserts that ``update_params`` gets the workload's own loss type, and it reads the learning
rate from the hyperparameters when a search space gives them (1e-3 when self-tuning).
"""

import functools

import jax
import optax
from algoperf import spec


def get_batch_size(workload_name):
    return 1 if workload_name.startswith("wmt") else 2  # one packed wmt row is a long step


def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):
    lr = hyperparameters.learning_rate if hyperparameters is not None else 1e-3
    opt = optax.adam(lr)
    return opt.init(model_params), opt.update


@functools.partial(jax.jit, static_argnums=(0, 1))
def _step(workload, update_fn, opt_state, params, model_state, batch, rng):
    def loss_of(p):
        out, new_state = workload.model_fn(p, batch, model_state, spec.ForwardPassMode.TRAIN,
                                           rng, True)
        loss = workload.loss_fn(batch["targets"], out, batch.get("weights"))
        return loss["summed"] / loss["n_valid_examples"], new_state

    grads, new_state = jax.grad(loss_of, has_aux=True)(params)
    updates, opt_state = update_fn(grads, opt_state, params)
    return opt_state, optax.apply_updates(params, updates), new_state


def update_params(workload, current_param_container, current_params_types, model_state,
                  hyperparameters, batch, loss_type, optimizer_state, eval_results,
                  global_step, rng):
    assert loss_type == workload.loss_type
    opt_state, update_fn = optimizer_state
    opt_state, params, model_state = _step(workload, update_fn, opt_state,
                                           current_param_container, model_state, batch, rng)
    return (opt_state, update_fn), params, model_state


def prepare_for_eval(workload, current_param_container, current_params_types, model_state,
                     hyperparameters, loss_type, optimizer_state, eval_results, global_step,
                     rng):
    return optimizer_state, current_param_container, model_state


def data_selection(workload, input_queue, optimizer_state, current_param_container,
                   model_state, hyperparameters, global_step, rng):
    return next(input_queue)
