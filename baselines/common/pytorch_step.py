"""The one PyTorch training step of every declared baseline, and its optimizer state.

``optimizer_state = {"optimizer": <torch optimizer>}``, plus ``"eval_point"`` (an
:class:`self_tuning.EvalPointGuard`) for optimizers evaluated at another point than they train
at. A step: forward in train mode, the mean loss ``summed / n_valid_examples`` (summed over
ranks under DDP), backward, optional ``grad_clip``, the scheduled learning rate set on every
parameter group, ``optimizer.step()``.

    paceline run --workload mnist --framework pytorch --submission nadamw
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed.nn as dist_nn

from baselines.common.baseline import Baseline, hyper
from sdk import spec
from sdk.frameworks.pytorch_utils import pytorch_setup
from self_tuning import EvalPointGuard

USE_PYTORCH_DDP = pytorch_setup()[0]
LOG_EVERY = 500


def init_optimizer_state(baseline: Baseline, workload: spec.Workload,
                         model_params: spec.ParameterContainer,
                         hyperparameters: Any) -> dict[str, Any]:  # noqa: ANN401
    build = baseline.optimizer("pytorch")
    optimizer = build(model_params.parameters(), hyperparameters, workload.step_hint)
    state: dict[str, Any] = {"optimizer": optimizer}
    if baseline.eval_point:
        state["eval_point"] = EvalPointGuard()
    return state


def extras(optimizer_state: dict[str, Any]) -> dict[str, Any]:
    """Where a submission keeps what it adds to the optimizer state (a budget, a guard)."""
    return optimizer_state


def loss_and_backward(workload: spec.Workload, model: torch.nn.Module, model_state: Any,  # noqa: ANN401
                      batch: dict[str, spec.Tensor], rng: Any, dropout_rate: float | None,  # noqa: ANN401
                      label_smoothing: float) -> tuple[torch.Tensor, Any]:
    """The mean training loss of ``batch`` (over all ranks), its gradients accumulated."""
    logits, new_model_state = workload.model_fn(
        params=model, augmented_and_preprocessed_input_batch=batch, model_state=model_state,
        mode=spec.ForwardPassMode.TRAIN, rng=rng, update_batch_norm=True,
        dropout_rate=dropout_rate,
    )
    losses = workload.loss_fn(
        label_batch=batch["targets"], logits_batch=logits, mask_batch=batch.get("weights"),
        label_smoothing=label_smoothing,
    )
    summed, n_valid = losses["summed"], losses["n_valid_examples"]
    if USE_PYTORCH_DDP:
        summed = dist_nn.all_reduce(summed)
        n_valid = dist_nn.all_reduce(n_valid)
    loss = summed / n_valid
    loss.backward()
    return loss, new_model_state


def update_params(baseline: Baseline, workload: spec.Workload, model: torch.nn.Module,
                  model_state: Any, hyperparameters: Any, batch: dict[str, spec.Tensor],  # noqa: ANN401
                  optimizer_state: dict[str, Any], global_step: int,
                  rng: Any) -> spec.UpdateReturn:  # noqa: ANN401
    optimizer = optimizer_state["optimizer"]
    model.train()  # as AlgoPerf's baselines do: an eval may have left the model in eval mode
    if baseline.eval_point:
        optimizer.train()
    optimizer.zero_grad(set_to_none=True)
    loss, new_model_state = loss_and_backward(
        workload, model, model_state, batch, rng, hyper(hyperparameters, "dropout_rate", None),
        hyper(hyperparameters, "label_smoothing", 0.0))
    clip = hyper(hyperparameters, "grad_clip", None)
    if clip is not None:
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=clip)
    lr = None
    if baseline.schedule is not None:
        lr = baseline.schedule(hyperparameters, workload.step_hint)(global_step)
        for group in optimizer.param_groups:
            group["lr"] = lr
    optimizer.step()
    if baseline.eval_point:
        model = optimizer_state["eval_point"].after_update(model, _to_eval(optimizer))
    if workload.metrics_logger is not None and global_step % LOG_EVERY == 0:
        scalars = {"loss": float(loss.item())}
        if lr is not None:
            scalars["learning_rate"] = lr
        workload.metrics_logger.append_scalar_metrics(scalars, global_step)
    return optimizer_state, model, new_model_state


def prepare_for_eval(baseline: Baseline, model: torch.nn.Module, model_state: Any,  # noqa: ANN401
                     optimizer_state: dict[str, Any]) -> spec.UpdateReturn:
    """The model at its evaluation point (itself, unless the optimizer averages)."""
    if baseline.eval_point:
        model = optimizer_state["eval_point"].prepare_for_eval(
            model, _to_eval(optimizer_state["optimizer"]))
    return optimizer_state, model, model_state


def _to_eval(optimizer: torch.optim.Optimizer) -> Any:  # noqa: ANN401
    def swap(model: torch.nn.Module) -> torch.nn.Module:
        optimizer.eval()
        return model

    return swap
