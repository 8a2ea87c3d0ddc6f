"""Heavy-ball / Nesterov SGD for PyTorch: the AlgoPerf submission functions.

``init_optimizer_state(..., nesterov=False)`` builds ``torch.optim.SGD``; the Nesterov
baseline passes ``nesterov=True``. Everything else is shared.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed.nn as dist_nn

from baselines.momentum.common import schedule_steps, warmup_linear_decay
from baselines.nadamw.common import get_batch_size, hyper
from sdk import spec
from sdk.frameworks.pytorch_utils import pytorch_setup

USE_PYTORCH_DDP = pytorch_setup()[0]
LOG_EVERY = 500


def init_optimizer_state(workload: spec.Workload, model_params: spec.ParameterContainer,
                         model_state: spec.ModelAuxiliaryState,
                         hyperparameters: spec.Hyperparameters, rng: spec.RandomState,
                         nesterov: bool = False) -> spec.OptimizerState:
    del model_state, rng
    hp = hyperparameters
    optimizer = torch.optim.SGD(model_params.parameters(), lr=hp.learning_rate,
                                momentum=1.0 - hp.one_minus_beta1, weight_decay=hp.weight_decay,
                                nesterov=nesterov, foreach=True)
    warmup, decay = schedule_steps(hp, workload.step_hint)
    return {"optimizer": optimizer, "warmup_steps": warmup, "decay_steps": decay}


def learning_rate(optimizer_state: dict[str, Any], hyperparameters: Any, step: int) -> float:
    """The scheduled learning rate for the update made at ``step`` (0-based)."""
    return warmup_linear_decay(step, hyperparameters.learning_rate,
                               optimizer_state["warmup_steps"], optimizer_state["decay_steps"],
                               hyperparameters.end_factor)


def update_params(workload: spec.Workload, current_param_container: spec.ParameterContainer,
                  current_params_types: spec.ParameterTypeTree,
                  model_state: spec.ModelAuxiliaryState, hyperparameters: spec.Hyperparameters,
                  batch: dict[str, spec.Tensor], loss_type: spec.LossType,
                  optimizer_state: spec.OptimizerState, eval_results: list,
                  global_step: int, rng: spec.RandomState) -> spec.UpdateReturn:
    del current_params_types, loss_type, eval_results
    model = current_param_container
    optimizer = optimizer_state["optimizer"]
    optimizer.zero_grad(set_to_none=True)
    logits, new_model_state = workload.model_fn(
        params=model, augmented_and_preprocessed_input_batch=batch, model_state=model_state,
        mode=spec.ForwardPassMode.TRAIN, rng=rng, update_batch_norm=True,
        dropout_rate=hyper(hyperparameters, "dropout_rate", None),
    )
    losses = workload.loss_fn(
        label_batch=batch["targets"], logits_batch=logits, mask_batch=batch.get("weights"),
        label_smoothing=hyper(hyperparameters, "label_smoothing", 0.0),
    )
    summed, n_valid = losses["summed"], losses["n_valid_examples"]
    if USE_PYTORCH_DDP:
        summed = dist_nn.all_reduce(summed)
        n_valid = dist_nn.all_reduce(n_valid)
    loss = summed / n_valid
    loss.backward()
    clip = hyper(hyperparameters, "grad_clip", None)
    if clip is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=clip)
    lr = learning_rate(optimizer_state, hyperparameters, global_step)
    for group in optimizer.param_groups:
        group["lr"] = lr
    optimizer.step()
    if workload.metrics_logger is not None and global_step % LOG_EVERY == 0:
        workload.metrics_logger.append_scalar_metrics(
            {"loss": float(loss.item()), "learning_rate": lr}, global_step)
    return optimizer_state, model, new_model_state


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
           "data_selection", "learning_rate"]
