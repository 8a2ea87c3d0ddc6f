"""Optax gradient transformations of the baselines: NAdamW, and SGD with L2 weight decay.

Each comes as the transformation itself and as a builder from a baseline's hyperparameters
(``(learning_rate, hyperparameters, step_hint) -> optax.GradientTransformation``, the
``jax`` field of :class:`baselines.common.Baseline`).

    paceline run --workload mnist --framework jax --submission nadamw
"""

from __future__ import annotations

import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax


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


def sgd(learning_rate: Any, momentum: float, weight_decay: float,
        nesterov: bool) -> optax.GradientTransformation:
    """L2 weight decay added to the gradient, then (Nesterov) momentum SGD."""
    return optax.chain(
        optax.add_decayed_weights(weight_decay),
        optax.sgd(learning_rate, momentum=momentum, nesterov=nesterov),
    )


def build_nadamw(learning_rate: Any, hyperparameters: Any,  # noqa: ANN401
                 step_hint: int) -> optax.GradientTransformation:
    """:func:`nadamw` from a point (``one_minus_beta1``, ``beta2``, ``weight_decay``)."""
    del step_hint
    hp = hyperparameters
    return nadamw(learning_rate, 1.0 - hp.one_minus_beta1, hp.beta2, hp.weight_decay)


def build_adamw(learning_rate: Any, hyperparameters: Any,  # noqa: ANN401
                step_hint: int) -> optax.GradientTransformation:
    """``optax.adamw`` from a point (``one_minus_beta1``, ``beta2``, ``weight_decay``)."""
    del step_hint
    hp = hyperparameters
    return optax.adamw(learning_rate, b1=1.0 - hp.one_minus_beta1, b2=hp.beta2, eps=1e-8,
                       weight_decay=hp.weight_decay)


def build_momentum(learning_rate: Any, hyperparameters: Any, step_hint: int,  # noqa: ANN401
                   nesterov: bool = False) -> optax.GradientTransformation:
    """:func:`sgd` from a point (``one_minus_beta1``, ``weight_decay``)."""
    del step_hint
    hp = hyperparameters
    return sgd(learning_rate, 1.0 - hp.one_minus_beta1, hp.weight_decay, nesterov)


build_nesterov = functools.partial(build_momentum, nesterov=True)
