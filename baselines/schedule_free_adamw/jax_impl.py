"""Schedule-free AdamW for JAX: pure update, point swaps, and the AlgoPerf submission functions.

``optimizer_state = (ScheduleFreeState, ScheduleFreeAdamW)``: a pytree of arrays (what
checkpoints keep, including which point the parameters hold) and a callable holding the
static settings and the Python-side bookkeeping, the ``(state, update_fn)`` shape of
AlgoPerf's JAX baselines.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from baselines.schedule_free_adamw.common import get_batch_size, hyper, settings
from sdk import spec
from self_tuning import EvalPointGuard

LOG_EVERY = 500


class ScheduleFreeState(NamedTuple):
    count: jax.Array  # steps taken (int32)
    z: Any  # the base sequence
    v: Any  # second moments
    weight_sum: jax.Array  # Σ w_i
    lr_max: jax.Array  # max warmed-up learning rate so far
    at_eval_point: jax.Array  # whether the parameters hold x (else y)


@dataclass(frozen=True)
class Settings:
    """Static settings of schedule-free AdamW (hashable, so jit treats them as constants)."""

    lr: float
    beta1: float
    beta2: float
    weight_decay: float
    warmup_steps: int
    r: float = 0.0
    weight_lr_power: float = 2.0
    eps: float = 1e-8


def init(params: Any) -> ScheduleFreeState:
    """z_0 = θ_0, v_0 = 0; the parameters hold y_0 = x_0 = θ_0."""
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    z = jax.tree_util.tree_map(jnp.array, params)
    return ScheduleFreeState(jnp.zeros([], jnp.int32), z, zeros, jnp.zeros([]), jnp.zeros([]),
                             jnp.zeros([], jnp.bool_))


def update(cfg: Settings, grads: Any, state: ScheduleFreeState,
           y: Any) -> tuple[Any, ScheduleFreeState]:
    """One step from the training point ``y`` (see the package docstring); returns new y."""
    k1 = (state.count + 1).astype(state.weight_sum.dtype)
    warm = jnp.minimum(1.0, k1 / cfg.warmup_steps) if cfg.warmup_steps > 0 else 1.0
    lr = cfg.lr * warm
    lr_max = jnp.maximum(state.lr_max, lr)
    weight = k1**cfg.r * lr_max**cfg.weight_lr_power
    weight_sum = state.weight_sum + weight
    c = jnp.where(weight_sum > 0, weight / weight_sum, 1.0)
    step = lr * jnp.sqrt(1.0 - cfg.beta2**k1)
    b1, b2 = cfg.beta1, cfg.beta2
    v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1.0 - b2) * g * g, state.v, grads)
    d = jax.tree_util.tree_map(
        lambda g, v, y: g / (jnp.sqrt(v) + cfg.eps) + cfg.weight_decay * y, grads, v, y)
    new_y = jax.tree_util.tree_map(
        lambda y, z, d: (1.0 - c) * y + c * z + step * (b1 * (1.0 - c) - 1.0) * d, y, state.z, d)
    z = jax.tree_util.tree_map(lambda z, d: z - step * d, state.z, d)
    return new_y, ScheduleFreeState(state.count + 1, z, v, weight_sum, lr_max,
                                    state.at_eval_point)


@functools.partial(jax.jit, static_argnums=2)
def _lerp_to_z(params: Any, z: Any, weight: float) -> Any:
    return jax.tree_util.tree_map(lambda p, z: p + weight * (z - p), params, z)


def to_eval(cfg: Settings, params: Any, state: ScheduleFreeState
            ) -> tuple[Any, ScheduleFreeState]:
    """Parameters at x: ``x = y + (1 - 1/β1)(z - y)`` (no-op if already there)."""
    if bool(state.at_eval_point):
        return params, state
    return (_lerp_to_z(params, state.z, 1.0 - 1.0 / cfg.beta1),
            state._replace(at_eval_point=jnp.ones([], jnp.bool_)))


def to_train(cfg: Settings, params: Any, state: ScheduleFreeState
             ) -> tuple[Any, ScheduleFreeState]:
    """Parameters at y: ``y = x + (1 - β1)(z - x)`` (no-op if already there)."""
    if not bool(state.at_eval_point):
        return params, state
    return (_lerp_to_z(params, state.z, 1.0 - cfg.beta1),
            state._replace(at_eval_point=jnp.zeros([], jnp.bool_)))


@dataclass
class ScheduleFreeAdamW:
    """The ``update_fn`` half of the optimizer state: static settings plus bookkeeping.

    ``extras`` holds what a submission adds (a budget view, a guard); none of it is
    checkpointed, as with any ``update_fn``.
    """

    cfg: Settings
    eval_point: EvalPointGuard = field(default_factory=EvalPointGuard)
    extras: dict[str, Any] = field(default_factory=dict)

    def __call__(self, grads: Any, state: ScheduleFreeState,
                 params: Any) -> tuple[Any, ScheduleFreeState]:
        return update(self.cfg, grads, state, params)


def make_settings(hyperparameters: Any, step_hint: int) -> Settings:
    s = settings(hyperparameters, step_hint)
    return Settings(lr=s["lr"], beta1=s["beta1"], beta2=s["beta2"],
                    weight_decay=s["weight_decay"], warmup_steps=s["warmup_steps"], r=s["r"],
                    weight_lr_power=s["weight_lr_power"])


def init_optimizer_state(workload: spec.Workload, model_params: spec.ParameterContainer,
                         model_state: spec.ModelAuxiliaryState,
                         hyperparameters: spec.Hyperparameters,
                         rng: spec.RandomState) -> spec.OptimizerState:
    del model_state, rng
    return init(model_params), ScheduleFreeAdamW(make_settings(hyperparameters,
                                                               workload.step_hint))


@functools.partial(jax.jit, static_argnums=(0, 1))
def _train_step(workload: Any, cfg: Settings, state: ScheduleFreeState, params: Any,
                model_state: Any, batch: dict[str, Any], rng: Any, dropout_rate: float | None,
                label_smoothing: float, grad_clip: float | None
                ) -> tuple[ScheduleFreeState, Any, Any, jax.Array]:
    def loss_of(p: Any) -> tuple[jax.Array, Any]:
        logits, new_state = workload.model_fn(
            p, batch, model_state, spec.ForwardPassMode.TRAIN, rng, update_batch_norm=True,
            dropout_rate=dropout_rate,
        )
        losses = workload.loss_fn(batch["targets"], logits, batch.get("weights"),
                                  label_smoothing=label_smoothing)
        return losses["summed"] / losses["n_valid_examples"], new_state

    (loss, new_model_state), grads = jax.value_and_grad(loss_of, has_aux=True)(params)
    if grad_clip is not None:
        norm = jnp.sqrt(sum(jnp.sum(g * g) for g in jax.tree_util.tree_leaves(grads)))
        scale = jnp.clip(grad_clip / (norm + 1e-6), 0.0, 1.0)
        grads = jax.tree_util.tree_map(lambda g: g * scale, grads)
    new_params, new_state = update(cfg, grads, state, params)
    return new_state, new_params, new_model_state, loss


def update_params(workload: spec.Workload, current_param_container: spec.ParameterContainer,
                  current_params_types: spec.ParameterTypeTree,
                  model_state: spec.ModelAuxiliaryState, hyperparameters: spec.Hyperparameters,
                  batch: dict[str, spec.Tensor], loss_type: spec.LossType,
                  optimizer_state: spec.OptimizerState, eval_results: list,
                  global_step: int, rng: spec.RandomState) -> spec.UpdateReturn:
    del current_params_types, loss_type, eval_results
    state, opt = optimizer_state
    params, state = to_train(opt.cfg, current_param_container, state)
    state, params, new_model_state, loss = _train_step(
        workload, opt.cfg, state, params, model_state, batch, rng,
        hyper(hyperparameters, "dropout_rate", None),
        hyper(hyperparameters, "label_smoothing", 0.0),
        hyper(hyperparameters, "grad_clip", None),
    )
    params, state = opt.eval_point.after_update(
        (params, state), lambda ps: to_eval(opt.cfg, *ps))
    if workload.metrics_logger is not None and global_step % LOG_EVERY == 0:
        workload.metrics_logger.append_scalar_metrics({"loss": float(loss)}, global_step)
    return (state, opt), params, new_model_state


def prepare_for_eval(workload: spec.Workload, current_param_container: spec.ParameterContainer,
                     current_params_types: spec.ParameterTypeTree,
                     model_state: spec.ModelAuxiliaryState,
                     hyperparameters: spec.Hyperparameters, loss_type: spec.LossType,
                     optimizer_state: spec.OptimizerState, eval_results: list,
                     global_step: int, rng: spec.RandomState) -> spec.UpdateReturn:
    del workload, current_params_types, hyperparameters, loss_type, eval_results
    del global_step, rng
    state, opt = optimizer_state
    params, state = opt.eval_point.prepare_for_eval(
        (current_param_container, state), lambda ps: to_eval(opt.cfg, *ps))
    return (state, opt), params, model_state


def data_selection(workload: spec.Workload, input_queue: Any, optimizer_state: Any,
                   current_param_container: spec.ParameterContainer,
                   model_state: spec.ModelAuxiliaryState, hyperparameters: Any,
                   global_step: int, rng: spec.RandomState) -> dict[str, spec.Tensor]:
    del workload, optimizer_state, current_param_container, model_state, hyperparameters
    del global_step, rng
    return next(input_queue)


__all__ = ["ScheduleFreeAdamW", "ScheduleFreeState", "Settings", "init", "update", "to_eval",
           "to_train", "get_batch_size", "init_optimizer_state", "update_params",
           "prepare_for_eval", "data_selection"]
