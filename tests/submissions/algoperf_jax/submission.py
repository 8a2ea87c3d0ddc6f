"""An AlgoPerf v0.6-style JAX submission (Adam via optax, jitted with explicit shardings)."""

import functools

import jax
import optax
from algoperf import jax_sharding_utils, spec


def get_batch_size(workload_name):
    return 32


def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):
    opt = optax.adam(hyperparameters.learning_rate)
    return opt.init(model_params), opt.update


@functools.partial(
    jax.jit, static_argnums=(0, 1),
    in_shardings=(jax_sharding_utils.get_replicate_sharding(),) * 2
    + (jax_sharding_utils.get_batch_dim_sharding(), jax_sharding_utils.get_replicate_sharding()),
    out_shardings=jax_sharding_utils.get_replicate_sharding(),
)
def _step(workload, update_fn, opt_state, params, batch, rng):
    def loss_of(p):
        logits, _ = workload.model_fn(p, batch, None, spec.ForwardPassMode.TRAIN, rng, True)
        loss = workload.loss_fn(batch["targets"], logits, batch.get("weights"))
        return loss["summed"] / loss["n_valid_examples"]

    grads = jax.grad(loss_of)(params)
    updates, opt_state = update_fn(grads, opt_state, params)
    return opt_state, optax.apply_updates(params, updates)


def update_params(workload, current_param_container, current_params_types, model_state,
                  hyperparameters, batch, loss_type, optimizer_state, eval_results,
                  global_step, rng):
    opt_state, update_fn = optimizer_state
    opt_state, params = _step(workload, update_fn, opt_state, current_param_container, batch, rng)
    return (opt_state, update_fn), params, model_state


def prepare_for_eval(workload, current_param_container, current_params_types, model_state,
                     hyperparameters, loss_type, optimizer_state, eval_results, global_step,
                     rng):
    return optimizer_state, current_param_container, model_state


def data_selection(workload, input_queue, optimizer_state, current_param_container,
                   model_state, hyperparameters, global_step, rng):
    return next(input_queue)
