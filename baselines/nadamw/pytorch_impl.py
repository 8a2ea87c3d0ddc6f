"""NAdamW for PyTorch: the optimizer and the AlgoPerf submission functions."""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed.nn as dist_nn

from baselines.nadamw.common import get_batch_size, hyper, warmup_cosine
from sdk import spec
from sdk.frameworks.pytorch_utils import pytorch_setup

USE_PYTORCH_DDP = pytorch_setup()[0]
LOG_EVERY = 500


class NAdamW(torch.optim.Optimizer):
    """NAdamW (decoupled weight decay scaled by the learning rate), vectorised with foreach."""

    def __init__(self, params: Any, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps,
                                  "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:  # noqa: ANN401
        loss = None if closure is None else closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            grads = [p.grad for p in params]
            for p in params:
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
            m = [self.state[p]["exp_avg"] for p in params]
            v = [self.state[p]["exp_avg_sq"] for p in params]
            for p in params:
                self.state[p]["step"] += 1
            t = self.state[params[0]]["step"]
            beta1, beta2 = group["betas"]
            lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
            # decoupled weight decay on the pre-update parameters
            torch._foreach_mul_(params, 1.0 - lr * wd)
            torch._foreach_lerp_(m, grads, 1.0 - beta1)
            torch._foreach_mul_(v, beta2)
            torch._foreach_addcmul_(v, grads, grads, 1.0 - beta2)
            # Nesterov look-ahead: beta1 * m + (1 - beta1) * g, with m already updated
            look_ahead = torch._foreach_mul(m, beta1)
            torch._foreach_add_(look_ahead, grads, alpha=1.0 - beta1)
            bias1, bias2 = 1.0 - beta1**t, 1.0 - beta2**t
            denom = torch._foreach_sqrt(v)
            torch._foreach_div_(denom, bias2**0.5)
            torch._foreach_add_(denom, eps)
            torch._foreach_addcdiv_(params, look_ahead, denom, value=-lr / bias1)
        return loss


def init_optimizer_state(workload: spec.Workload, model_params: spec.ParameterContainer,
                         model_state: spec.ModelAuxiliaryState,
                         hyperparameters: spec.Hyperparameters,
                         rng: spec.RandomState) -> spec.OptimizerState:
    del model_state, rng
    hp = hyperparameters
    optimizer = NAdamW(model_params.parameters(), lr=hp.learning_rate,
                       betas=(1.0 - hp.one_minus_beta1, hp.beta2), eps=1e-8,
                       weight_decay=hp.weight_decay)
    warmup = int(hp.warmup_factor * workload.step_hint)
    return {"optimizer": optimizer, "warmup_steps": warmup, "total_steps": workload.step_hint}


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
    lr = warmup_cosine(global_step, hyperparameters.learning_rate,
                       optimizer_state["warmup_steps"], optimizer_state["total_steps"])
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
           "data_selection"]
