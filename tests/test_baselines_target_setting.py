"""The AdamW, heavy-ball and Nesterov baselines: update rules checked by hand, schedules, and a
few real steps on MNIST in both frameworks and both rulesets.

    .venv/bin/python -m pytest tests/test_baselines_target_setting.py -q
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from sdk import spec
from sdk.registry import baselines, workloads
from sdk.rulesets import get_ruleset
from sdk.runner import RunOptions, train_once
from sdk.search_space import SearchSpace, generate_search, make_hyperparameters
from sdk.submission import load_submission

BASELINES = ("adamw", "momentum", "nesterov")
FRAMEWORKS = ("pytorch", "jax")
STEP_HINT = 8

# A tiny regression problem: prediction w * x, mean squared error / 2, one scalar parameter.
X = np.array([1.0, -2.0, 0.5, 3.0])
Y = np.array([2.0, -1.0, 1.0, 4.0])
W0 = 0.5
POINTS = {
    "adamw": {"learning_rate": 0.1, "one_minus_beta1": 0.1, "beta2": 0.99, "warmup_factor": 0.25,
              "weight_decay": 0.5, "label_smoothing": 0.0, "dropout_rate": 0.0},
    "momentum": {"learning_rate": 0.05, "one_minus_beta1": 0.2, "warmup_factor": 0.25,
                 "weight_decay": 0.3, "label_smoothing": 0.0, "dropout_rate": 0.0,
                 "decay_steps_factor": 0.5, "end_factor": 0.1},
}
POINTS["nesterov"] = POINTS["momentum"]


# ---- independent reference implementations (numpy, float64) -------------------------------
def reference_lr(name: str, hp: dict, step: int) -> float:
    warmup = int(hp["warmup_factor"] * STEP_HINT)
    peak = hp["learning_rate"]
    if step < warmup:
        return peak * step / warmup
    if name == "adamw":
        k = min(step - warmup, STEP_HINT - warmup)
        return peak * 0.5 * (1 + math.cos(math.pi * k / (STEP_HINT - warmup)))
    decay = int((STEP_HINT - warmup) * hp["decay_steps_factor"])
    k = min(step - warmup, decay)
    return peak + (hp["end_factor"] * peak - peak) * k / decay


def reference_trajectory(name: str, steps: int) -> list[float]:
    hp = POINTS[name]
    w, m, v, buf = W0, 0.0, 0.0, 0.0
    b1 = 1 - hp["one_minus_beta1"]
    out = []
    for step in range(steps):
        g = float(np.mean((w * X - Y) * X))
        lr = reference_lr(name, hp, step)
        if name == "adamw":
            b2, t = hp["beta2"], step + 1
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            direction = (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + 1e-8)
            w = w - lr * (direction + hp["weight_decay"] * w)
        else:
            d = g + hp["weight_decay"] * w
            buf = b1 * buf + d
            w = w - lr * ((d + b1 * buf) if name == "nesterov" else buf)
        out.append(w)
    return out


# ---- the tiny problem as an AlgoPerf workload in each framework ----------------------------
class _TorchQuadratic:
    step_hint = STEP_HINT
    metrics_logger = None

    def __init__(self) -> None:
        import torch

        self.torch = torch

    def params(self):  # noqa: ANN201
        torch = self.torch
        module = torch.nn.Module()
        module.w = torch.nn.Parameter(torch.tensor(W0, dtype=torch.float32))
        return module

    def batch(self) -> dict:
        torch = self.torch
        return {"inputs": torch.tensor(X, dtype=torch.float32),
                "targets": torch.tensor(Y, dtype=torch.float32)}

    def model_fn(self, params, augmented_and_preprocessed_input_batch, model_state, mode, rng,  # noqa: ANN001, ANN201
                 update_batch_norm, dropout_rate=None):
        return params.w * augmented_and_preprocessed_input_batch["inputs"], model_state

    def loss_fn(self, label_batch, logits_batch, mask_batch=None, label_smoothing=0.0):  # noqa: ANN001, ANN201
        per = 0.5 * (logits_batch - label_batch) ** 2
        return {"summed": per.sum(), "n_valid_examples": self.torch.tensor(float(len(per))),
                "per_example": per}

    @staticmethod
    def value(params) -> float:  # noqa: ANN001
        return float(params.w.detach())


class _JaxQuadratic:
    step_hint = STEP_HINT
    metrics_logger = None

    def params(self):  # noqa: ANN201
        import jax.numpy as jnp

        return {"w": jnp.asarray(W0, jnp.float32)}

    def batch(self) -> dict:
        import jax.numpy as jnp

        return {"inputs": jnp.asarray(X, jnp.float32), "targets": jnp.asarray(Y, jnp.float32)}

    def model_fn(self, params, augmented_and_preprocessed_input_batch, model_state, mode, rng,  # noqa: ANN001, ANN201
                 update_batch_norm, dropout_rate=None):
        return params["w"] * augmented_and_preprocessed_input_batch["inputs"], model_state

    def loss_fn(self, label_batch, logits_batch, mask_batch=None, label_smoothing=0.0):  # noqa: ANN001, ANN201
        per = 0.5 * (logits_batch - label_batch) ** 2
        return {"summed": per.sum(), "n_valid_examples": float(per.shape[0]),
                "per_example": per}

    @staticmethod
    def value(params) -> float:  # noqa: ANN001
        return float(params["w"])


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("name", BASELINES)
def test_update_rule_matches_the_hand_computed_one(name: str, framework: str) -> None:
    sub = load_submission(name, framework, "external")
    workload = _TorchQuadratic() if framework == "pytorch" else _JaxQuadratic()
    hp = make_hyperparameters(POINTS[name])
    params, state = workload.params(), None
    rng = np.zeros(2, np.uint32)
    opt = sub.init_optimizer_state(workload=workload, model_params=params, model_state=state,
                                   hyperparameters=hp, rng=rng)
    got = []
    for step in range(STEP_HINT + 2):  # warmup, decay and past the end of the schedule
        if framework == "jax":
            import jax

            rng = jax.random.PRNGKey(step)
        opt, params, state = sub.update_params(
            workload=workload, current_param_container=params, current_params_types=None,
            model_state=state, hyperparameters=hp, batch=workload.batch(),
            loss_type=spec.LossType.MEAN_SQUARED_ERROR, optimizer_state=opt, eval_results=[],
            global_step=step, rng=rng)
        got.append(workload.value(params))
    expected = reference_trajectory(name, STEP_HINT + 2)
    np.testing.assert_allclose(got, expected, rtol=2e-5, atol=1e-6)
    assert got[0] == pytest.approx(W0)  # the first update has learning rate 0 (warmup)
    assert abs(got[-1] - W0) > 0.05  # and the parameter really moved


def test_jax_schedules_equal_the_python_ones() -> None:
    import jax.numpy as jnp

    from baselines.common.schedules import cosine_schedule, linear_decay_schedule

    hint = 200
    sgd = linear_decay_schedule(make_hyperparameters({**POINTS["momentum"], "warmup_factor": 0.1}),
                                hint)
    adam = cosine_schedule(make_hyperparameters({**POINTS["adamw"], "warmup_factor": 0.1}), hint)
    for step in range(0, hint + 20, 7):
        assert float(sgd(jnp.asarray(step))) == pytest.approx(sgd(step), rel=1e-5, abs=1e-7)
        assert float(adam(jnp.asarray(step))) == pytest.approx(adam(step), rel=1e-5, abs=1e-7)
    assert adam(10) == pytest.approx(0.05) and adam(hint + 50) == 0.0
    assert sgd(hint + 50) == pytest.approx(0.005)


@pytest.mark.parametrize("name", BASELINES)
def test_registered_with_a_dict_form_search_space(name: str) -> None:
    entry = baselines().entry(name)
    space = SearchSpace.load(entry.search_space)
    assert not space.is_list and "learning_rate" in space.names
    for ruleset in ("external", "self"):
        for framework in FRAMEWORKS:
            sub = load_submission(name, framework, ruleset)
            assert sub.check() == []
            assert sub.batch_size("mnist") == 16


def _val_losses(trial_dir: Path) -> list[float]:
    with open(trial_dir / "eval_measurements.csv") as f:
        return [float(row["validation/loss"]) for row in csv.DictReader(f)]


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("ruleset", ("external", "self"))
@pytest.mark.parametrize("name", BASELINES)
def test_a_few_mnist_steps_lower_the_loss(name: str, ruleset: str, framework: str,
                                          tmp_path: Path) -> None:
    sub = load_submission(name, framework, ruleset)
    hp = None
    if ruleset == "external":
        space = SearchSpace.load(baselines().entry(name).search_space)
        point = generate_search(space, 1, seed=0)[0]._asdict()
        # MNIST's inputs are not divided by 255 (AlgoPerf's quirk): SGD needs a small step.
        point["learning_rate"] = 1e-3
        hp = make_hyperparameters(point)
    workload = workloads().create("mnist", "dev", framework)
    steps = 40
    result = train_once(workload, sub, hp, 7, get_ruleset("0.5"),
                        RunOptions(ruleset=ruleset, max_global_steps=steps, tensorboard=False,
                                   save_checkpoints=False, threads=1), tmp_path)
    assert result.status == "max_global_steps" and result.global_step == steps
    losses = _val_losses(tmp_path)
    assert all(math.isfinite(x) for x in losses)
    assert losses[-1] < losses[0]
