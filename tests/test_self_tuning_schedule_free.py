"""Schedule-free AdamW (PyTorch and JAX): the update against a plain reference with x, y, z
kept explicitly, and the train/eval point swaps around evaluations."""

from __future__ import annotations

import math

import numpy as np
import pytest

B1, B2, EPS, WD, LR, WARMUP, R, P = 0.9, 0.99, 1e-8, 0.05, 0.05, 5, 0.75, 2.0
LAM = np.linspace(0.5, 2.0, 6)


def grad(w: np.ndarray, k: int) -> np.ndarray:
    return LAM * w + 0.1 * np.cos(k + np.arange(w.size))  # deterministic "noise"


def reference(steps: int, w0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The paper's recursion with every sequence explicit; returns (y, x) after ``steps``."""
    z, x, v = w0.copy(), w0.copy(), np.zeros_like(w0)
    weight_sum, lr_max = 0.0, 0.0
    for k in range(steps):
        y = (1 - B1) * z + B1 * x
        g = grad(y, k)
        v = B2 * v + (1 - B2) * g * g
        lr = LR * min(1.0, (k + 1) / WARMUP)
        lr_max = max(lr_max, lr)
        w = (k + 1) ** R * lr_max**P
        weight_sum += w
        c = w / weight_sum
        step = lr * math.sqrt(1 - B2 ** (k + 1))
        z = z - step * (g / (np.sqrt(v) + EPS) + WD * y)
        x = (1 - c) * x + c * z
    return (1 - B1) * z + B1 * x, x


W0 = np.linspace(-1.0, 1.0, 6)


def test_pytorch_update_matches_the_reference():
    import torch

    from baselines.schedule_free_adamw.pytorch_optimizer import ScheduleFreeAdamW

    p = torch.nn.Parameter(torch.tensor(W0, dtype=torch.float64))
    opt = ScheduleFreeAdamW([p], lr=LR, betas=(B1, B2), eps=EPS, weight_decay=WD,
                            warmup_steps=WARMUP, r=R, weight_lr_power=P)
    for k in range(40):
        opt.train()
        p.grad = torch.tensor(grad(p.detach().numpy(), k))
        opt.step()
        if k % 7 == 3:  # an evaluation now and then must not disturb training
            opt.eval()
    opt.train()
    y_ref, x_ref = reference(40, W0)
    np.testing.assert_allclose(p.detach().numpy(), y_ref, rtol=1e-10, atol=1e-12)
    opt.eval()
    opt.eval()  # idempotent
    np.testing.assert_allclose(p.detach().numpy(), x_ref, rtol=1e-10, atol=1e-12)
    with pytest.raises(RuntimeError, match="train"):
        opt.step()


def test_pytorch_checkpoint_remembers_which_point_the_model_holds():
    import torch

    from baselines.schedule_free_adamw.pytorch_optimizer import ScheduleFreeAdamW

    def make():
        p = torch.nn.Parameter(torch.tensor(W0, dtype=torch.float64))
        return p, ScheduleFreeAdamW([p], lr=LR, betas=(B1, B2), weight_decay=WD)

    p, opt = make()
    for k in range(10):
        opt.train()
        p.grad = torch.tensor(grad(p.detach().numpy(), k))
        opt.step()
    opt.eval()  # the runner checkpoints after evaluations, i.e. at x
    saved_p, saved_opt = p.detach().clone(), opt.state_dict()
    q, restored = make()
    with torch.no_grad():
        q.copy_(saved_p)
    restored.load_state_dict(saved_opt)
    restored.train()
    opt.train()
    np.testing.assert_allclose(q.detach().numpy(), p.detach().numpy(), rtol=1e-12)


def test_jax_update_matches_the_reference():
    import jax

    from baselines.schedule_free_adamw import jax_optimizer as sf

    jax.config.update("jax_enable_x64", True)
    try:
        cfg = sf.Settings(lr=LR, beta1=B1, beta2=B2, weight_decay=WD, warmup_steps=WARMUP, r=R,
                          weight_lr_power=P, eps=EPS)
        params = {"w": jax.numpy.asarray(W0)}
        state = sf.init(params)
        for k in range(40):
            params, state = sf.to_train(cfg, params, state)
            g = {"w": jax.numpy.asarray(grad(np.asarray(params["w"]), k))}
            params, state = sf.update(cfg, g, state, params)
            if k % 7 == 3:
                params, state = sf.to_eval(cfg, params, state)
        params, state = sf.to_train(cfg, params, state)
        y_ref, x_ref = reference(40, W0)
        np.testing.assert_allclose(np.asarray(params["w"]), y_ref, rtol=1e-9, atol=1e-12)
        params, state = sf.to_eval(cfg, params, state)
        params, state = sf.to_eval(cfg, params, state)
        np.testing.assert_allclose(np.asarray(params["w"]), x_ref, rtol=1e-9, atol=1e-12)
        assert bool(state.at_eval_point)
    finally:
        jax.config.update("jax_enable_x64", False)


class _LinearWorkload:
    """Just enough workload for update_params: a linear model with squared loss."""

    step_hint = 100
    metrics_logger = None

    def __init__(self, torch):
        self.torch = torch

    def model_fn(self, params, augmented_and_preprocessed_input_batch, model_state, mode, rng,
                 update_batch_norm, dropout_rate=None):
        return params(augmented_and_preprocessed_input_batch["inputs"]), model_state

    def loss_fn(self, label_batch, logits_batch, mask_batch=None, label_smoothing=0.0):
        per = ((logits_batch - label_batch) ** 2).sum(-1)
        return {"summed": per.sum(), "n_valid_examples": per.numel(), "per_example": per}


def test_evaluations_see_the_averaged_point_with_or_without_prepare_for_eval():
    import torch

    from baselines.schedule_free_adamw import BASELINE
    from baselines.schedule_free_adamw import pytorch_external as impl

    torch.manual_seed(0)
    workload, model = _LinearWorkload(torch), torch.nn.Linear(3, 1)
    hp = BASELINE.fixed_point()._replace(label_smoothing=0.0, dropout_rate=None)
    state = impl.init_optimizer_state(workload, model, None, hp, None)
    opt = state["optimizer"]
    batch = {"inputs": torch.randn(8, 3), "targets": torch.randn(8, 1)}

    def update(step):
        return impl.update_params(workload, model, None, None, hp, batch, None, state, [], step,
                                  None)

    update(0)
    assert not opt.in_train_mode  # no prepare_for_eval seen: a v0.5 runner evaluates x
    update(1)
    assert not opt.in_train_mode
    impl.prepare_for_eval(workload, model, None, None, hp, None, state, [], 2, None)
    assert not opt.in_train_mode and state["eval_point"].runner_prepares
    update(2)
    assert opt.in_train_mode  # a v0.6 runner: stay at y, swap only before evaluations
    impl.prepare_for_eval(workload, model, None, None, hp, None, state, [], 3, None)
    assert not opt.in_train_mode
