"""AdamW for JAX: ``optax.adamw`` with warmup + cosine, driven by NAdamW's training step.

The optimizer state handed to the runner is ``(optax_state, update_fn)``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import optax

from baselines.nadamw.jax_impl import (  # noqa: F401 - shared submission functions
    data_selection,
    get_batch_size,
    prepare_for_eval,
    update_params,
)
from sdk import spec


def lr_schedule(hyperparameters: Any, step_hint: int) -> optax.Schedule:
    """Linear warmup to ``learning_rate``, then a cosine to 0 at ``step_hint`` (then 0)."""
    warmup = int(hyperparameters.warmup_factor * step_hint)
    decay = max(step_hint - warmup, 1)
    peak = hyperparameters.learning_rate

    def schedule(count: jax.Array) -> jax.Array:
        c = jnp.asarray(count, jnp.float32)
        warm = peak * c / max(warmup, 1)
        k = jnp.clip(c - warmup, 0, decay)
        return jnp.where(c < warmup, warm, peak * 0.5 * (1.0 + jnp.cos(jnp.pi * k / decay)))

    return schedule


def init_optimizer_state(workload: spec.Workload, model_params: spec.ParameterContainer,
                         model_state: spec.ModelAuxiliaryState,
                         hyperparameters: spec.Hyperparameters,
                         rng: spec.RandomState) -> spec.OptimizerState:
    del model_state, rng
    hp = hyperparameters
    opt = optax.adamw(lr_schedule(hp, workload.step_hint), b1=1.0 - hp.one_minus_beta1,
                      b2=hp.beta2, eps=1e-8, weight_decay=hp.weight_decay)
    return opt.init(jax.tree_util.tree_map(jnp.zeros_like, model_params)), opt.update


__all__ = ["get_batch_size", "init_optimizer_state", "update_params", "prepare_for_eval",
           "data_selection", "lr_schedule"]
