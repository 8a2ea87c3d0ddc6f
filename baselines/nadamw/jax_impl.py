"""NAdamW for JAX/optax: the gradient transformation and the AlgoPerf submission functions.

The optimizer state handed to the runner is ``(optax_state, update_fn)``, the shape AlgoPerf's
JAX baselines use (and its checkpoint code expects).
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from baselines.nadamw.common import get_batch_size, hyper, warmup_cosine
from sdk import spec

LOG_EVERY = 500


class NAdamState(NamedTuple):
    count: jax.Array
    mu: Any
    nu: Any


def scale_by_nadam(b1: float, b2: float, eps: float = 1e-8) -> optax.GradientTransformation:
    """The NAdam direction m̃/(1-β1^t) / (sqrt(v/(1-β2^t)) + ε) with Nesterov look-ahead."""

    def init_fn(params: Any) -> NAdamState:
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        return NAdamState(jnp.zeros([], jnp.int32), zeros, zeros)

    def update_fn(updates: Any, state: NAdamState, params: Any = None) -> tuple[Any, NAdamState]:
        del params
        mu = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, state.mu, updates)
        nu = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, state.nu, updates)
        count = state.count + 1
        t = count.astype(jnp.float32)
        bias1, bias2 = 1 - b1**t, 1 - b2**t
        direction = jax.tree_util.tree_map(
            lambda m, v, g: (b1 * m + (1 - b1) * g) / bias1 / (jnp.sqrt(v / bias2) + eps),
            mu, nu, updates,
        )
        return direction, NAdamState(count, mu, nu)

    return optax.GradientTransformation(init_fn, update_fn)


def nadamw(learning_rate: Any, b1: float, b2: float, weight_decay: float,
           eps: float = 1e-8) -> optax.GradientTransformation:
    """NAdam direction + decoupled weight decay, scaled by the (scheduled) learning rate."""
    return optax.chain(
        scale_by_nadam(b1, b2, eps),
        optax.add_decayed_weights(weight_decay),
        optax.scale_by_learning_rate(learning_rate),
    )


def _schedule(hp: Any, step_hint: int) -> Any:
    warmup = int(hp.warmup_factor * step_hint)
    peak = hp.learning_rate
    decay = max(step_hint - warmup, 1)
    warm = optax.linear_schedule(0.0, peak, max(warmup, 1))
    cosine = optax.cosine_decay_schedule(peak, decay)
    return optax.join_schedules([warm, cosine], [warmup])


def init_optimizer_state(workload: spec.Workload, model_params: spec.ParameterContainer,
                         model_state: spec.ModelAuxiliaryState,
                         hyperparameters: spec.Hyperparameters,
                         rng: spec.RandomState) -> spec.OptimizerState:
    del model_state, rng
    hp = hyperparameters
    opt = nadamw(_schedule(hp, workload.step_hint), 1.0 - hp.one_minus_beta1, hp.beta2,
                 hp.weight_decay)
    params_zeros = jax.tree_util.tree_map(jnp.zeros_like, model_params)
    return opt.init(params_zeros), opt.update


@functools.partial(jax.jit, static_argnums=(0, 1))
def _train_step(workload: Any, update_fn: Any, opt_state: Any, params: Any, model_state: Any,
                batch: dict[str, Any], rng: Any, dropout_rate: float, label_smoothing: float,
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
    new_params = optax.apply_updates(params, updates)
    return new_opt_state, new_params, new_model_state, loss, grad_norm


def update_params(workload: spec.Workload, current_param_container: spec.ParameterContainer,
                  current_params_types: spec.ParameterTypeTree,
                  model_state: spec.ModelAuxiliaryState, hyperparameters: spec.Hyperparameters,
                  batch: dict[str, spec.Tensor], loss_type: spec.LossType,
                  optimizer_state: spec.OptimizerState, eval_results: list,
                  global_step: int, rng: spec.RandomState) -> spec.UpdateReturn:
    del current_params_types, loss_type, eval_results
    opt_state, update_fn = optimizer_state
    dropout = hyper(hyperparameters, "dropout_rate", None)
    new_opt_state, params, new_model_state, loss, grad_norm = _train_step(
        workload, update_fn, opt_state, current_param_container, model_state, batch, rng,
        dropout, hyper(hyperparameters, "label_smoothing", 0.0),
        hyper(hyperparameters, "grad_clip", None),
    )
    if workload.metrics_logger is not None and global_step % LOG_EVERY == 0:
        lr = warmup_cosine(global_step, hyperparameters.learning_rate,
                           int(hyperparameters.warmup_factor * workload.step_hint),
                           workload.step_hint)
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
           "data_selection", "nadamw", "scale_by_nadam"]
