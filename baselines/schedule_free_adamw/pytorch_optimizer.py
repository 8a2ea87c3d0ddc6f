"""Schedule-free AdamW for PyTorch: the optimizer (see the package docstring for the update).

The optimizer's ``state_dict`` holds z, v, the averaging sums and which point the model holds,
so a checkpoint restored in either mode resumes correctly.

    paceline run --workload mnist --framework pytorch --submission schedule_free_adamw
"""

from __future__ import annotations

import math
from typing import Any

import torch

from baselines.schedule_free_adamw import settings


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



def build(params: Any, hyperparameters: Any, step_hint: int) -> ScheduleFreeAdamW:  # noqa: ANN401
    """The optimizer from a point (warmup in steps of ``step_hint``)."""
    s = settings(hyperparameters, step_hint)
    return ScheduleFreeAdamW(params, lr=s["lr"], betas=(s["beta1"], s["beta2"]),
                             weight_decay=s["weight_decay"], warmup_steps=s["warmup_steps"],
                             r=s["r"], weight_lr_power=s["weight_lr_power"])
