"""The helper-built self-tuning example, JAX (see the package docstring).

``optimizer_state = (per-candidate optax states, SelfTuningUpdate)``: the first element is a
pytree (checkpointed), the second a callable holding the :class:`SelfTuner` and the optax
transformations, the ``(state, update_fn)`` shape of AlgoPerf's JAX baselines. The race's
bookkeeping is not checkpointed: a resumed run races again from its current state.

    paceline run --workload mnist --framework jax --submission self_tuning_example --ruleset self
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import optax

from baselines.common import get_batch_size  # noqa: F401 - the submission API
from baselines.common.jax_optimizers import nadamw
from baselines.common.jax_step import loss_and_grads
from baselines.common.submission import data_selection  # noqa: F401 - the submission API
from baselines.self_tuning_example.tuner import (
    SelfTuner,
    StepPlan,
    batch_size_for,
    dropout_rate,
    label_smoothing,
    nadamw_candidates,
)
from sdk import spec
from self_tuning import BudgetView, JaxStore


@dataclass(eq=False)
class SelfTuningUpdate:
    """The callable half of the optimizer state: the tuner and one transformation per arm."""

    tuner: SelfTuner
    transforms: tuple[optax.GradientTransformation, ...]

    def __call__(self, grads: Any, opt_states: Any, params: Any) -> Any:
        arm = self.tuner.last_plan.arm if self.tuner.last_plan is not None else 0
        return self.transforms[arm].update(grads, opt_states[arm], params)


def init_optimizer_state(workload: spec.Workload, model_params: spec.ParameterContainer,
                         model_state: spec.ModelAuxiliaryState,
                         hyperparameters: spec.Hyperparameters,
                         rng: spec.RandomState) -> spec.OptimizerState:
    del model_state, rng
    candidates = nadamw_candidates()
    # learning rate 1: the scheduled rate multiplies the update in the train step
    transforms = tuple(nadamw(1.0, 1.0 - c.one_minus_beta1, c.beta2, c.weight_decay)
                       for c in candidates)
    opt_states = tuple(t.init(model_params) for t in transforms)
    tuner = SelfTuner(candidates, BudgetView.for_workload(workload, hyperparameters),
                      JaxStore(), JaxStore(), batch_size_for(workload))
    return opt_states, SelfTuningUpdate(tuner, transforms)


@functools.partial(jax.jit, static_argnums=(0, 1, 7, 8))
def _train_step(workload: Any, transform: optax.GradientTransformation, opt_state: Any,
                params: Any, model_state: Any, batch: dict[str, Any], rng: Any,
                dropout: float | None, smoothing: float, lr: jax.Array
                ) -> tuple[Any, Any, Any, jax.Array]:
    loss, new_model_state, grads = loss_and_grads(workload, params, model_state, batch, rng,
                                                  dropout, smoothing)
    updates, new_opt_state = transform.update(grads, opt_state, params)
    new_params = jax.tree_util.tree_map(lambda p, u: p + lr * u, params, updates)
    return new_opt_state, new_params, new_model_state, loss


@functools.partial(jax.jit, static_argnums=0)
def _probe_sums(workload: Any, params: Any, model_state: Any, batch: dict[str, Any],
                rng: Any) -> tuple[jax.Array, jax.Array]:
    logits, _ = workload.model_fn(params, batch, model_state, spec.ForwardPassMode.EVAL, rng,
                                  update_batch_norm=False)
    losses = workload.loss_fn(batch["targets"], logits, batch.get("weights"))
    return losses["summed"], losses["n_valid_examples"]


def _probe_loss(workload: spec.Workload, state: tuple[Any, Any], probe: list[Any],
                rng: Any) -> float:
    params, model_state = state
    summed, count = 0.0, 0.0
    for batch in probe:
        s, n = _probe_sums(workload, params, model_state, batch, rng)
        summed, count = summed + float(s), count + float(n)
    value = summed / count if count else math.inf
    return value if math.isfinite(value) else math.inf


def update_params(workload: spec.Workload, current_param_container: spec.ParameterContainer,
                  current_params_types: spec.ParameterTypeTree,
                  model_state: spec.ModelAuxiliaryState, hyperparameters: spec.Hyperparameters,
                  batch: dict[str, spec.Tensor], loss_type: spec.LossType,
                  optimizer_state: spec.OptimizerState, eval_results: list,
                  global_step: int, rng: spec.RandomState,
                  train_state: Any = None) -> spec.UpdateReturn:
    del current_params_types, hyperparameters, loss_type
    opt_states, update = optimizer_state
    tuner = update.tuner

    def train(plan: StepPlan, state: tuple[Any, Any]) -> tuple[float, tuple[Any, Any]]:
        nonlocal opt_states
        arm, (params, state_of_model) = plan.arm, state
        transform = update.transforms[arm]
        opt_state = transform.init(params) if plan.reset_optimizer else opt_states[arm]
        new_opt_state, new_params, new_model_state, loss = _train_step(
            workload, transform, opt_state, params, state_of_model, batch, rng,
            dropout_rate(tuner.candidates[arm]), label_smoothing(tuner.candidates[arm]),
            jnp.asarray(plan.lr, jnp.float32))
        opt_states = opt_states[:arm] + (new_opt_state,) + opt_states[arm + 1:]
        return float(loss), (new_params, new_model_state)

    params, model_state = tuner.step(
        workload, global_step, eval_results, train_state, (current_param_container, model_state),
        batch, lambda state: _probe_loss(workload, state, tuner.probe, rng), train)
    return (opt_states, update), params, model_state


def prepare_for_eval(workload: spec.Workload, current_param_container: spec.ParameterContainer,
                     current_params_types: spec.ParameterTypeTree,
                     model_state: spec.ModelAuxiliaryState,
                     hyperparameters: spec.Hyperparameters, loss_type: spec.LossType,
                     optimizer_state: spec.OptimizerState, eval_results: list,
                     global_step: int, rng: spec.RandomState) -> spec.UpdateReturn:
    del workload, current_params_types, hyperparameters, loss_type, eval_results
    del global_step, rng
    params, model_state = optimizer_state[1].tuner.state_for_eval(
        (current_param_container, model_state))
    return optimizer_state, params, model_state
