"""Schedule-free AdamW for JAX: the pure update, the point swaps, and the update object.

``optimizer_state = (ScheduleFreeState, ScheduleFreeAdamW)``: a pytree of arrays (what
checkpoints keep, including which point the parameters hold) and the update object holding
the static settings and the Python-side bookkeeping, the ``(state, update_fn)`` shape of
AlgoPerf's JAX baselines. The update object returns new parameters, not updates.

    paceline run --workload mnist --framework jax --submission schedule_free_adamw
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp

from baselines.schedule_free_adamw import settings
from self_tuning import EvalPointGuard


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


@dataclass(eq=False)
class ScheduleFreeAdamW:
    """The ``update_fn`` half of the optimizer state: static settings plus bookkeeping.

    ``extras`` holds what a submission adds (a budget view, a guard); none of it is
    checkpointed, as with any ``update_fn``. Hashed by identity, so the jitted training step
    takes it as a static argument.
    """

    cfg: Settings
    eval_point: EvalPointGuard = field(default_factory=EvalPointGuard)
    extras: dict[str, Any] = field(default_factory=dict)

    def __call__(self, grads: Any, state: ScheduleFreeState,
                 params: Any) -> tuple[Any, ScheduleFreeState]:
        return update(self.cfg, grads, state, params)

    def init(self, params: Any) -> ScheduleFreeState:  # noqa: ANN401
        return init(params)

    def to_train(self, params: Any, state: ScheduleFreeState) -> tuple[Any, ScheduleFreeState]:
        return to_train(self.cfg, params, state)

    def to_eval(self, params: Any, state: ScheduleFreeState) -> tuple[Any, ScheduleFreeState]:
        return to_eval(self.cfg, params, state)


def build(learning_rate: Any, hyperparameters: Any,  # noqa: ANN401
          step_hint: int) -> ScheduleFreeAdamW:
    """The update object from a point (its peak rate is ``learning_rate`` of the point)."""
    del learning_rate
    s = settings(hyperparameters, step_hint)
    return ScheduleFreeAdamW(Settings(
        lr=s["lr"], beta1=s["beta1"], beta2=s["beta2"], weight_decay=s["weight_decay"],
        warmup_steps=s["warmup_steps"], r=s["r"], weight_lr_power=s["weight_lr_power"]))
