"""A v0.5-style JAX submission: `algorithmic_efficiency` imports, pmap over devices with
`lax.psum`, replicated parameters and optimizer state, no prepare_for_eval."""

import functools

import jax
import jax.numpy as jnp
import optax
from algorithmic_efficiency import spec
from flax import jax_utils
from jax import lax


def get_batch_size(workload_name):
    return 32


def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):
    zeros = jax.tree_util.tree_map(lambda s: jnp.zeros(s.shape_tuple), workload.param_shapes)
    opt = optax.adam(hyperparameters.learning_rate)
    return jax_utils.replicate(opt.init(zeros)), opt.update


@functools.partial(jax.pmap, axis_name="batch", in_axes=(None, None, 0, 0, 0, None),
                   static_broadcasted_argnums=(0, 1))
def _pmapped_step(workload, update_fn, opt_state, params, batch, rng):
    def loss_of(p):
        logits, _ = workload.model_fn(p, batch, None, spec.ForwardPassMode.TRAIN, rng, True)
        loss = workload.loss_fn(batch["targets"], logits)
        return loss["summed"], loss["n_valid_examples"]

    (summed, n), grads = jax.value_and_grad(loss_of, has_aux=True)(params)
    summed, n, grads = lax.psum((summed, n, grads), axis_name="batch")
    grads = jax.tree_util.tree_map(lambda g: g / n, grads)
    updates, opt_state = update_fn(grads, opt_state, params)
    return opt_state, optax.apply_updates(params, updates)


def update_params(workload, current_param_container, current_params_types, model_state,
                  hyperparameters, batch, loss_type, optimizer_state, eval_results,
                  global_step, rng):
    opt_state, update_fn = optimizer_state
    opt_state, params = _pmapped_step(workload, update_fn, opt_state, current_param_container,
                                      batch, rng)
    return (opt_state, update_fn), params, model_state


def data_selection(workload, input_queue, optimizer_state, current_param_container,
                   model_state, hyperparameters, global_step, rng):
    return next(input_queue)
