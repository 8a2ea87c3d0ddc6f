"""Heavy-ball / Nesterov SGD for JAX/optax: the AlgoPerf submission functions.

The optimizer state handed to the runner is ``(optax_state, update_fn)``, as in AlgoPerf's
JAX baselines. ``init_optimizer_state(..., nesterov=True)`` gives the Nesterov variant.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import optax

from baselines.momentum.common import schedule_steps, warmup_linear_decay
from baselines.nadamw.common import get_batch_size, hyper
from sdk import spec

LOG_EVERY = 500


def lr_schedule(hyperparameters: Any, step_hint: int) -> optax.Schedule:
    """The warmup + linear-decay schedule as a traceable function of the update count."""
    warmup, decay = schedule_steps(hyperparameters, step_hint)
    peak = hyperparameters.learning_rate
    end = hyperparameters.end_factor * peak

    def schedule(count: jax.Array) -> jax.Array:
        c = jnp.asarray(count, jnp.float32)
        warm = peak * c / max(warmup, 1)
        k = jnp.clip(c - warmup, 0, max(decay, 1))
        return jnp.where(c < warmup, warm, peak + (end - peak) * k / max(decay, 1))

    return schedule


def sgd(learning_rate: Any, momentum: float, weight_decay: float,
        nesterov: bool) -> optax.GradientTransformation:
    """L2 weight decay added to the gradient, then (Nesterov) momentum SGD."""
    return optax.chain(
        optax.add_decayed_weights(weight_decay),
        optax.sgd(learning_rate, momentum=momentum, nesterov=nesterov),
    )


def init_optimizer_state(workload: spec.Workload, model_params: spec.ParameterContainer,
                         model_state: spec.ModelAuxiliaryState,
                         hyperparameters: spec.Hyperparameters, rng: spec.RandomState,
                         nesterov: bool = False) -> spec.OptimizerState:
    del model_state, rng
    hp = hyperparameters
    opt = sgd(lr_schedule(hp, workload.step_hint), 1.0 - hp.one_minus_beta1, hp.weight_decay,
              nesterov)
    return opt.init(jax.tree_util.tree_map(jnp.zeros_like, model_params)), opt.update


@functools.partial(jax.jit, static_argnums=(0, 1))
def _train_step(workload: Any, update_fn: Any, opt_state: Any, params: Any, model_state: Any,
                batch: dict[str, Any], rng: Any, dropout_rate: float | None,
                label_smoothing: float,
                grad_clip: float | None) -> tuple[Any, Any, Any, jax.Array, jax.Array]:
    def loss_of(p: Any) -> tuple[jax.Array, Any]:
        logits, new_state = workload.model_fn(
            p, batch, model_state, spec.ForwardPassMode.TRAIN, rng, update_batch_norm=True,
            dropout_rate=dropout_rate,
        )
        losses = workload.loss_fn(batch["targets"], logits, batch.get("weights"),
                                  label_smoothing=label_smoothing)
        return losses["summed"] / losses["n_valid_examples"], new_state

    (loss, new_model_state), grads = jax.value_and_grad(loss_of, has_aux=True)(params)
    grad_norm = optax.global_norm(grads)
    if grad_clip is not None:
        scale = jnp.clip(grad_clip / (grad_norm + 1e-6), 0.0, 1.0)
        grads = jax.tree_util.tree_map(lambda g: g * scale, grads)
    updates, new_opt_state = update_fn(grads, opt_state, params)
    return new_opt_state, optax.apply_updates(params, updates), new_model_state, loss, grad_norm


def update_params(workload: spec.Workload, current_param_container: spec.ParameterContainer,
                  current_params_types: spec.ParameterTypeTree,
                  model_state: spec.ModelAuxiliaryState, hyperparameters: spec.Hyperparameters,
                  batch: dict[str, spec.Tensor], loss_type: spec.LossType,
                  optimizer_state: spec.OptimizerState, eval_results: list,
                  global_step: int, rng: spec.RandomState) -> spec.UpdateReturn:
    del current_params_types, loss_type, eval_results
    opt_state, update_fn = optimizer_state
    new_opt_state, params, new_model_state, loss, grad_norm = _train_step(
        workload, update_fn, opt_state, current_param_container, model_state, batch, rng,
        hyper(hyperparameters, "dropout_rate", None),
        hyper(hyperparameters, "label_smoothing", 0.0),
        hyper(hyperparameters, "grad_clip", None),
    )
    if workload.metrics_logger is not None and global_step % LOG_EVERY == 0:
        warmup, decay = schedule_steps(hyperparameters, workload.step_hint)
        lr = warmup_linear_decay(global_step, hyperparameters.learning_rate, warmup, decay,
                                 hyperparameters.end_factor)
        workload.metrics_logger.append_scalar_metrics(
            {"loss": float(loss), "grad_norm": float(grad_norm), "learning_rate": lr},
            global_step)
    return (new_opt_state, update_fn), params, new_model_state


def prepare_for_eval(workload: spec.Workload, current_param_container: spec.ParameterContainer,
                     current_params_types: spec.ParameterTypeTree,
                     model_state: spec.ModelAuxiliaryState,
                     hyperparameters: spec.Hyperparameters, loss_type: spec.LossType,
                     optimizer_state: spec.OptimizerState, eval_results: list,
                     global_step: int, rng: spec.RandomState) -> spec.UpdateReturn:
    del workload, current_params_types, hyperparameters, loss_type, eval_results
    del global_step, rng
    return optimizer_state, current_param_container, model_state


def data_selection(workload: spec.Workload, input_queue: Any, optimizer_state: Any,
                   current_param_container: spec.ParameterContainer,
                   model_state: spec.ModelAuxiliaryState, hyperparameters: Any,
                   global_step: int, rng: spec.RandomState) -> dict[str, spec.Tensor]:
    del workload, optimizer_state, current_param_container, model_state, hyperparameters
    del global_step, rng
    return next(input_queue)


__all__ = ["get_batch_size", "init_optimizer_state", "update_params", "prepare_for_eval",
           "data_selection", "lr_schedule", "sgd"]
