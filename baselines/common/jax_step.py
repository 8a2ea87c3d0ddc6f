"""The one JAX training step of every declared baseline, and its optimizer state.

``optimizer_state = (optax_state, update_fn)``, the shape of AlgoPerf's JAX baselines (and of
what its checkpoints keep: the first element). ``update_fn`` is an :class:`OptaxUpdate`
(``optax``'s ``update`` plus room for what a submission adds), or, for an optimizer
evaluated at another point than it trains at (schedule-free), the optimizer's own update
object, which returns new parameters instead of updates. The step is jitted with the
workload and ``update_fn`` static: value and gradient of the mean loss, global-norm
clipping when ``grad_clip`` is set, the update.

    paceline run --workload mnist --framework jax --submission nadamw
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import optax

from baselines.common.baseline import Baseline, hyper
from sdk import spec

LOG_EVERY = 500


@dataclass(eq=False)
class OptaxUpdate:
    """An optax ``update`` with a place for a submission's extras (not checkpointed)."""

    update: Any
    extras: dict[str, Any] = field(default_factory=dict)

    def __call__(self, grads: Any, state: Any, params: Any) -> tuple[Any, Any]:  # noqa: ANN401
        return self.update(grads, state, params)


def init_optimizer_state(baseline: Baseline, workload: spec.Workload,
                         model_params: spec.ParameterContainer,
                         hyperparameters: Any) -> spec.OptimizerState:  # noqa: ANN401
    hp = hyperparameters
    step_hint = workload.step_hint
    if baseline.eval_point:
        optimizer = baseline.optimizer("jax")(hp.learning_rate, hp, step_hint)
        return optimizer.init(model_params), optimizer
    lr = baseline.schedule(hp, step_hint) if baseline.schedule is not None else hp.learning_rate
    transform = baseline.optimizer("jax")(lr, hp, step_hint)
    return (transform.init(jax.tree_util.tree_map(jnp.zeros_like, model_params)),
            OptaxUpdate(transform.update))


def extras(optimizer_state: spec.OptimizerState) -> dict[str, Any]:
    """Where a submission keeps what it adds to the optimizer state (a budget, a guard)."""
    return optimizer_state[1].extras


def loss_and_grads(workload: spec.Workload, params: Any, model_state: Any,  # noqa: ANN401
                   batch: dict[str, Any], rng: Any, dropout_rate: float | None,  # noqa: ANN401
                   label_smoothing: float) -> tuple[jax.Array, Any, Any]:
    """The mean training loss of ``batch``, the new model state and the gradients."""

    def loss_of(p: Any) -> tuple[jax.Array, Any]:  # noqa: ANN401
        logits, new_state = workload.model_fn(
            p, batch, model_state, spec.ForwardPassMode.TRAIN, rng, update_batch_norm=True,
            dropout_rate=dropout_rate,
        )
        losses = workload.loss_fn(batch["targets"], logits, batch.get("weights"),
                                  label_smoothing=label_smoothing)
        return losses["summed"] / losses["n_valid_examples"], new_state

    (loss, new_model_state), grads = jax.value_and_grad(loss_of, has_aux=True)(params)
    return loss, new_model_state, grads


@functools.partial(jax.jit, static_argnums=(0, 1, 2))
def train_step(workload: Any, update_fn: Any, returns_params: bool, opt_state: Any,  # noqa: ANN401
               params: Any, model_state: Any, batch: dict[str, Any], rng: Any,  # noqa: ANN401
               dropout_rate: float | None, label_smoothing: float,
               grad_clip: float | None) -> tuple[Any, Any, Any, jax.Array, jax.Array]:
    loss, new_model_state, grads = loss_and_grads(workload, params, model_state, batch, rng,
                                                  dropout_rate, label_smoothing)
    grad_norm = optax.global_norm(grads)
    if grad_clip is not None:
        scale = jnp.clip(grad_clip / (grad_norm + 1e-6), 0.0, 1.0)
        grads = jax.tree_util.tree_map(lambda g: g * scale, grads)
    if returns_params:
        new_params, new_opt_state = update_fn(grads, opt_state, params)
    else:
        updates, new_opt_state = update_fn(grads, opt_state, params)
        new_params = optax.apply_updates(params, updates)
    return new_opt_state, new_params, new_model_state, loss, grad_norm


def update_params(baseline: Baseline, workload: spec.Workload, params: Any, model_state: Any,  # noqa: ANN401
                  hyperparameters: Any, batch: dict[str, Any], optimizer_state: Any,  # noqa: ANN401
                  global_step: int, rng: Any) -> spec.UpdateReturn:  # noqa: ANN401
    opt_state, update_fn = optimizer_state
    if baseline.eval_point:
        params, opt_state = update_fn.to_train(params, opt_state)
    opt_state, params, new_model_state, loss, grad_norm = train_step(
        workload, update_fn, baseline.eval_point, opt_state, params, model_state, batch, rng,
        hyper(hyperparameters, "dropout_rate", None),
        hyper(hyperparameters, "label_smoothing", 0.0),
        hyper(hyperparameters, "grad_clip", None),
    )
    if baseline.eval_point:
        params, opt_state = update_fn.eval_point.after_update(
            (params, opt_state), lambda ps: update_fn.to_eval(*ps))
    if workload.metrics_logger is not None and global_step % LOG_EVERY == 0:
        _log(baseline, workload, hyperparameters, global_step, loss, grad_norm)
    return (opt_state, update_fn), params, new_model_state


def _log(baseline: Baseline, workload: spec.Workload, hyperparameters: Any,  # noqa: ANN401
         global_step: int, loss: jax.Array, grad_norm: jax.Array) -> None:
    scalars = {"loss": float(loss)}
    if baseline.schedule is not None:
        lr = baseline.schedule(hyperparameters, workload.step_hint)(global_step)
        scalars.update(grad_norm=float(grad_norm), learning_rate=lr)
    workload.metrics_logger.append_scalar_metrics(scalars, global_step)


def prepare_for_eval(baseline: Baseline, params: Any, model_state: Any,  # noqa: ANN401
                     optimizer_state: Any) -> spec.UpdateReturn:  # noqa: ANN401
    """The parameters at their evaluation point (themselves, unless the optimizer averages)."""
    if not baseline.eval_point:
        return optimizer_state, params, model_state
    opt_state, update_fn = optimizer_state
    params, opt_state = update_fn.eval_point.prepare_for_eval(
        (params, opt_state), lambda ps: update_fn.to_eval(*ps))
    return (opt_state, update_fn), params, model_state
