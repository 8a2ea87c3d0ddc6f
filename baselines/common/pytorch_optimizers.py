"""PyTorch optimizers of the baselines: NAdamW (which ``torch.optim`` lacks), and builders of
each baseline's optimizer from its hyperparameters (the ``pytorch`` field of
:class:`baselines.common.Baseline`).

    paceline run --workload mnist --framework pytorch --submission nadamw
"""

from __future__ import annotations

import functools
from typing import Any

import torch


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



def build_nadamw(params: Any, hyperparameters: Any, step_hint: int) -> NAdamW:  # noqa: ANN401
    """NAdamW from a point (``learning_rate``, ``one_minus_beta1``, ``beta2``,
    ``weight_decay``); the training step sets the scheduled rate before each update."""
    del step_hint
    hp = hyperparameters
    return NAdamW(params, lr=hp.learning_rate, betas=(1.0 - hp.one_minus_beta1, hp.beta2),
                  eps=1e-8, weight_decay=hp.weight_decay)


def build_adamw(params: Any, hyperparameters: Any,  # noqa: ANN401
                step_hint: int) -> torch.optim.AdamW:
    """``torch.optim.AdamW`` from the same point as :func:`build_nadamw`."""
    del step_hint
    hp = hyperparameters
    return torch.optim.AdamW(params, lr=hp.learning_rate,
                             betas=(1.0 - hp.one_minus_beta1, hp.beta2), eps=1e-8,
                             weight_decay=hp.weight_decay, foreach=True)


def build_momentum(params: Any, hyperparameters: Any, step_hint: int,  # noqa: ANN401
                   nesterov: bool = False) -> torch.optim.SGD:
    """``torch.optim.SGD`` with (Nesterov) momentum ``1 - one_minus_beta1`` and L2
    ``weight_decay`` added to the gradient."""
    del step_hint
    hp = hyperparameters
    return torch.optim.SGD(params, lr=hp.learning_rate, momentum=1.0 - hp.one_minus_beta1,
                           weight_decay=hp.weight_decay, nesterov=nesterov, foreach=True)


build_nesterov = functools.partial(build_momentum, nesterov=True)
