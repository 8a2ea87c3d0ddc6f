"""Schedule-free AdamW for PyTorch: the optimizer and the AlgoPerf submission functions.

``optimizer_state = {"optimizer": ScheduleFreeAdamW, "eval_point": EvalPointGuard}``; the
optimizer's ``state_dict`` holds z, v, the averaging sums and which point the model holds, so
a checkpoint restored in either mode resumes correctly.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.distributed.nn as dist_nn

from baselines.schedule_free_adamw.common import get_batch_size, hyper, settings
from sdk import spec
from sdk.frameworks.pytorch_utils import pytorch_setup
from self_tuning import EvalPointGuard

USE_PYTORCH_DDP = pytorch_setup()[0]
LOG_EVERY = 500


class ScheduleFreeAdamW(torch.optim.Optimizer):
    """Schedule-free AdamW (see the package docstring for the update).

    The model holds the training point y between :meth:`train` and :meth:`eval`, the
    evaluation point x after :meth:`eval`; both are idempotent. :meth:`step` needs y.

    Args:
        params: the parameters (or parameter groups).
        lr: peak learning rate γ.
        betas: (β1, β2): interpolation weight and second-moment decay.
        eps: ε.
        weight_decay: λ, applied at y and scaled by the step size.
        warmup_steps: W, linear warmup length in steps.
        r: power of the step count in the averaging weights.
        weight_lr_power: power of the (running max) learning rate in the averaging weights.
    """

    def __init__(self, params: Any, lr: float = 2.5e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0, warmup_steps: int = 0,
                 r: float = 0.0, weight_lr_power: float = 2.0) -> None:
        if not 0.0 < betas[0] < 1.0 or not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"ScheduleFreeAdamW needs 0 < beta1 < 1 and 0 <= beta2 < 1, got "
                             f"{betas}.")
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "warmup_steps": warmup_steps, "r": r, "weight_lr_power": weight_lr_power,
                    "k": 0, "weight_sum": 0.0, "lr_max": 0.0, "train_mode": True}
        super().__init__(params, defaults)

    def _swap(self, to_train: bool) -> None:
        for group in self.param_groups:
            if group["train_mode"] == to_train:
                continue
            beta1 = group["betas"][0]
            params = [p for p in group["params"] if "z" in self.state[p]]
            if params:
                z = [self.state[p]["z"] for p in params]
                # y -> x: x = y + (1 - 1/β1)(z - y);  x -> y: y = x + (1 - β1)(z - x)
                weight = (1.0 - beta1) if to_train else (1.0 - 1.0 / beta1)
                torch._foreach_lerp_(params, z, weight)
            group["train_mode"] = to_train

    @torch.no_grad()
    def eval(self) -> None:
        """Put the evaluation point x into the model."""
        self._swap(to_train=False)

    @torch.no_grad()
    def train(self) -> None:
        """Put the training point y into the model."""
        self._swap(to_train=True)

    @property
    def in_train_mode(self) -> bool:
        return all(group["train_mode"] for group in self.param_groups)

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:  # noqa: ANN401
        if not self.in_train_mode:
            raise RuntimeError("ScheduleFreeAdamW.step() needs the training point; call "
                               "optimizer.train() first.")
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            params = [p for p in group["params"] if p.grad is not None]
            if not params:
                continue
            for p in params:
                state = self.state[p]
                if not state:
                    state["z"] = p.detach().clone()
                    state["exp_avg_sq"] = torch.zeros_like(p)
            k = group["k"]
            beta1, beta2 = group["betas"]
            warmup = group["warmup_steps"]
            lr = group["lr"] * (min(1.0, (k + 1) / warmup) if warmup > 0 else 1.0)
            lr_max = group["lr_max"] = max(group["lr_max"], lr)
            weight = (k + 1) ** group["r"] * lr_max ** group["weight_lr_power"]
            group["weight_sum"] += weight
            c = weight / group["weight_sum"] if group["weight_sum"] > 0 else 1.0
            step_size = lr * math.sqrt(1.0 - beta2 ** (k + 1))

            grads = [p.grad for p in params]
            z = [self.state[p]["z"] for p in params]
            v = [self.state[p]["exp_avg_sq"] for p in params]
            torch._foreach_mul_(v, beta2)
            torch._foreach_addcmul_(v, grads, grads, value=1.0 - beta2)
            denom = torch._foreach_sqrt(v)
            torch._foreach_add_(denom, group["eps"])
            d = torch._foreach_div(grads, denom)
            if group["weight_decay"]:
                torch._foreach_add_(d, params, alpha=group["weight_decay"])
            # y <- (1 - c) y + c z + s (β1 (1 - c) - 1) d ;  z <- z - s d
            torch._foreach_lerp_(params, z, c)
            torch._foreach_add_(params, d, alpha=step_size * (beta1 * (1.0 - c) - 1.0))
            torch._foreach_add_(z, d, alpha=-step_size)
            group["k"] = k + 1
        return loss


def init_optimizer_state(workload: spec.Workload, model_params: spec.ParameterContainer,
                         model_state: spec.ModelAuxiliaryState,
                         hyperparameters: spec.Hyperparameters,
                         rng: spec.RandomState) -> spec.OptimizerState:
    del model_state, rng
    s = settings(hyperparameters, workload.step_hint)
    optimizer = ScheduleFreeAdamW(
        model_params.parameters(), lr=s["lr"], betas=(s["beta1"], s["beta2"]),
        weight_decay=s["weight_decay"], warmup_steps=s["warmup_steps"], r=s["r"],
        weight_lr_power=s["weight_lr_power"],
    )
    return {"optimizer": optimizer, "eval_point": EvalPointGuard()}


def _to_eval(optimizer: ScheduleFreeAdamW) -> Any:
    def swap(model: Any) -> Any:
        optimizer.eval()
        return model

    return swap


def update_params(workload: spec.Workload, current_param_container: spec.ParameterContainer,
                  current_params_types: spec.ParameterTypeTree,
                  model_state: spec.ModelAuxiliaryState, hyperparameters: spec.Hyperparameters,
                  batch: dict[str, spec.Tensor], loss_type: spec.LossType,
                  optimizer_state: spec.OptimizerState, eval_results: list,
                  global_step: int, rng: spec.RandomState) -> spec.UpdateReturn:
    del current_params_types, loss_type, eval_results
    model = current_param_container
    optimizer: ScheduleFreeAdamW = optimizer_state["optimizer"]
    optimizer.train()
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
    optimizer.step()
    model = optimizer_state["eval_point"].after_update(model, _to_eval(optimizer))
    if workload.metrics_logger is not None and global_step % LOG_EVERY == 0:
        workload.metrics_logger.append_scalar_metrics({"loss": float(loss.item())}, global_step)
    return optimizer_state, model, new_model_state


def prepare_for_eval(workload: spec.Workload, current_param_container: spec.ParameterContainer,
                     current_params_types: spec.ParameterTypeTree,
                     model_state: spec.ModelAuxiliaryState,
                     hyperparameters: spec.Hyperparameters, loss_type: spec.LossType,
                     optimizer_state: spec.OptimizerState, eval_results: list,
                     global_step: int, rng: spec.RandomState) -> spec.UpdateReturn:
    del workload, current_params_types, hyperparameters, loss_type, eval_results
    del global_step, rng
    model = optimizer_state["eval_point"].prepare_for_eval(
        current_param_container, _to_eval(optimizer_state["optimizer"]))
    return optimizer_state, model, model_state


def data_selection(workload: spec.Workload, input_queue: Any, optimizer_state: Any,
                   current_param_container: spec.ParameterContainer,
                   model_state: spec.ModelAuxiliaryState, hyperparameters: Any,
                   global_step: int, rng: spec.RandomState) -> dict[str, spec.Tensor]:
    del workload, optimizer_state, current_param_container, model_state, hyperparameters
    del global_step, rng
    return next(input_queue)


__all__ = ["ScheduleFreeAdamW", "get_batch_size", "init_optimizer_state", "update_params",
           "prepare_for_eval", "data_selection"]
