"""The helper-built self-tuning example, PyTorch (see the package docstring).

``optimizer_state`` holds one NAdamW optimizer per candidate (``optimizer_<i>``, each
checkpointed through its ``state_dict``) and the :class:`SelfTuner` (pickled; it holds no
reference to the live model, only copies).

    paceline run --workload mnist --framework pytorch --submission self_tuning_example --ruleset self
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.distributed as dist

from baselines.common import get_batch_size  # noqa: F401 - the submission API
from baselines.common.pytorch_optimizers import NAdamW
from baselines.common.pytorch_step import USE_PYTORCH_DDP, loss_and_backward
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
from self_tuning import BudgetView, TorchStore


def _optimizer(model: torch.nn.Module, candidate: Any) -> NAdamW:
    return NAdamW(model.parameters(), lr=candidate.learning_rate,
                  betas=(1.0 - candidate.one_minus_beta1, candidate.beta2), eps=1e-8,
                  weight_decay=candidate.weight_decay)


def init_optimizer_state(workload: spec.Workload, model_params: spec.ParameterContainer,
                         model_state: spec.ModelAuxiliaryState,
                         hyperparameters: spec.Hyperparameters,
                         rng: spec.RandomState) -> spec.OptimizerState:
    del model_state, rng
    candidates = nadamw_candidates()
    state: dict[str, Any] = {
        f"optimizer_{i}": _optimizer(model_params, c) for i, c in enumerate(candidates)
    }
    state["tuner"] = SelfTuner(candidates, BudgetView.for_workload(workload, hyperparameters),
                               TorchStore(), TorchStore(), batch_size_for(workload))
    return state


def _probe_loss(workload: spec.Workload, model: torch.nn.Module, model_state: Any,
                probe: list[dict[str, Any]], rng: Any) -> float:
    """Mean loss (no label smoothing) of ``model`` on the held-aside probe batches."""
    summed, count = None, None
    with torch.no_grad():
        for batch in probe:
            logits, _ = workload.model_fn(
                params=model, augmented_and_preprocessed_input_batch=batch,
                model_state=model_state, mode=spec.ForwardPassMode.EVAL, rng=rng,
                update_batch_norm=False)
            losses = workload.loss_fn(label_batch=batch["targets"], logits_batch=logits,
                                      mask_batch=batch.get("weights"))
            s = torch.as_tensor(losses["summed"], dtype=torch.float64)
            n = torch.as_tensor(losses["n_valid_examples"], dtype=torch.float64)
            summed = s if summed is None else summed + s
            count = n if count is None else count + n
    if summed is None:
        return math.inf
    if USE_PYTORCH_DDP:  # every rank must pick the same candidate
        dist.all_reduce(summed)
        dist.all_reduce(count)
    value = float(summed / count)
    return value if math.isfinite(value) else math.inf


def update_params(workload: spec.Workload, current_param_container: spec.ParameterContainer,
                  current_params_types: spec.ParameterTypeTree,
                  model_state: spec.ModelAuxiliaryState, hyperparameters: spec.Hyperparameters,
                  batch: dict[str, spec.Tensor], loss_type: spec.LossType,
                  optimizer_state: spec.OptimizerState, eval_results: list,
                  global_step: int, rng: spec.RandomState,
                  train_state: Any = None) -> spec.UpdateReturn:
    del current_params_types, hyperparameters, loss_type
    tuner: SelfTuner = optimizer_state["tuner"]
    new_model_state = model_state

    def train(plan: StepPlan, model: torch.nn.Module) -> tuple[float, torch.nn.Module]:
        nonlocal new_model_state
        candidate = tuner.candidates[plan.arm]
        optimizer: NAdamW = optimizer_state[f"optimizer_{plan.arm}"]
        if plan.reset_optimizer:
            optimizer.state.clear()
        optimizer.zero_grad(set_to_none=True)
        loss, new_model_state = loss_and_backward(workload, model, model_state, batch, rng,
                                                  dropout_rate(candidate),
                                                  label_smoothing(candidate))
        for group in optimizer.param_groups:
            group["lr"] = plan.lr
        optimizer.step()
        return float(loss.detach()), model

    model = tuner.step(workload, global_step, eval_results, train_state, current_param_container,
                       batch, lambda m: _probe_loss(workload, m, model_state, tuner.probe, rng),
                       train)
    return optimizer_state, model, new_model_state


def prepare_for_eval(workload: spec.Workload, current_param_container: spec.ParameterContainer,
                     current_params_types: spec.ParameterTypeTree,
                     model_state: spec.ModelAuxiliaryState,
                     hyperparameters: spec.Hyperparameters, loss_type: spec.LossType,
                     optimizer_state: spec.OptimizerState, eval_results: list,
                     global_step: int, rng: spec.RandomState) -> spec.UpdateReturn:
    del workload, current_params_types, hyperparameters, loss_type, eval_results
    del global_step, rng
    model = optimizer_state["tuner"].state_for_eval(current_param_container)
    return optimizer_state, model, model_state
