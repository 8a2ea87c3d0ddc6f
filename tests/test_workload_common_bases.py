"""The framework mixins every workload family builds on (``workloads/common/torch_base.py``,
``workloads/common/jax_base.py``): masked losses, the input queues, dropout-rate precedence,
train/eval mode and the generic eval loop.

A two-feature regression "family" (ten examples in memory) stands in for a real one, so the
mixins are tested on their own.

    .venv/bin/python -m pytest tests/test_workload_common_bases.py -q
"""

from __future__ import annotations

import functools
from types import SimpleNamespace
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from sdk import spec
from sdk.workload import PacelineWorkload
from workloads.common import jax_base, torch_base
from workloads.common.batching import TrainBatches, device_input_queue, eval_batches

ARRAYS = {"inputs": np.arange(20, dtype=np.float32).reshape(10, 2),
          "targets": np.arange(10, dtype=np.float32)}
CONFIG_RATE = 0.1
TRAIN, EVAL = spec.ForwardPassMode.TRAIN, spec.ForwardPassMode.EVAL


class _Family:
    """The framework-neutral half: data, the model config and the dropout bookkeeping."""

    api_version = "0.6"
    model_config = SimpleNamespace(dropout_rate=CONFIG_RATE)
    set_init_dropout = PacelineWorkload.set_init_dropout
    resolve_dropout = PacelineWorkload.resolve_dropout

    def __init__(self) -> None:
        self._init_dropout_rate = None
        self._init_aux_dropout_rate = None

    def _numpy_train_batches(self, data_rng: Any, data_dir: str | None,
                             global_batch_size: int) -> TrainBatches:
        return TrainBatches(ARRAYS, global_batch_size, seed=int(np.asarray(data_rng)[0]))

    def _eval_batches(self, split: str, num_examples: int, batch_size: int,
                      data_dir: str | None):
        return eval_batches(ARRAYS, batch_size, num_examples, pad=self.framework == "jax")


# ---- PyTorch ------------------------------------------------------------------------------
class _ScaleByRate(torch.nn.Module):
    """``inputs.sum(-1) * w + rate``: the output shows which dropout rate was used."""

    def __init__(self) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.ones(()))

    def forward(self, inputs: torch.Tensor, rate: float) -> torch.Tensor:
        return inputs.sum(-1) * self.w + rate


class _TorchFamily(torch_base.TorchWorkloadMixin, _Family):
    def _build_model(self) -> torch.nn.Module:
        return _ScaleByRate()

    def _eval_batch_sums(self, params: Any, batch: dict[str, Any], model_state: Any,
                         rng: Any) -> dict[str, torch.Tensor]:
        outputs, _ = self.model_fn(params, batch, model_state, EVAL, rng, False, 0.0)
        weights = batch["weights"]
        return {"error": ((outputs - batch["targets"]) * weights).sum(),
                "num_examples": weights.sum()}


def test_torch_masked_loss_zeroes_masked_examples_and_counts_the_rest():
    per_example = torch.tensor([1.0, 2.0, 3.0, 4.0])
    out = torch_base.masked_loss(per_example, torch.tensor([1.0, 0.0, 1.0, 0.0]))
    assert out["per_example"].tolist() == [1.0, 0.0, 3.0, 0.0]
    assert float(out["summed"]) == 4.0 and float(out["n_valid_examples"]) == 2.0
    unmasked = torch_base.masked_loss(per_example, None)
    assert float(unmasked["summed"]) == 10.0 and float(unmasked["n_valid_examples"]) == 4.0
    per_task = torch_base.masked_loss(torch.ones(2, 3), torch.tensor([[1, 0, 1], [0, 0, 1]]))
    assert float(per_task["summed"]) == 3.0 and float(per_task["n_valid_examples"]) == 3.0


def test_torch_dropout_rate_comes_from_the_call_then_init_then_the_config():
    family = _TorchFamily()
    model, _ = family.init_model_fn(np.array([0, 1]))
    batch = torch_base.to_torch({"inputs": np.zeros((1, 2), np.float32)})

    def rate(**kw: Any) -> float:
        return float(family.model_fn(model, batch, None, EVAL, None, False, **kw)[0])

    assert rate() == pytest.approx(CONFIG_RATE)
    assert rate(dropout_rate=0.25) == pytest.approx(0.25)
    family.init_model_fn(np.array([0, 1]), dropout_rate=0.3)  # a v0.5 submission
    assert rate() == pytest.approx(0.3)
    assert rate(dropout_rate=0.25) == pytest.approx(0.25)


def test_torch_model_fn_records_gradients_and_train_mode_in_training_only():
    family = _TorchFamily()
    model, _ = family.init_model_fn(np.array([0, 1]))
    batch = torch_base.to_torch({"inputs": np.ones((3, 2), np.float32)})
    out, _ = family.model_fn(model, batch, None, TRAIN, None, True)
    assert out.requires_grad and model.training
    out, _ = family.model_fn(model, batch, None, EVAL, None, False)
    assert not out.requires_grad and not model.training
    assert set(family._param_shapes) == {"w"}


def test_torch_input_queue_serves_the_numpy_batches_as_tensors():
    family = _TorchFamily()
    rng = np.array([7, 0])
    expected = next(family._numpy_train_batches(rng, None, 4))
    got = next(family._build_input_queue(rng, "train", None, 4))
    assert isinstance(got["inputs"], torch.Tensor)
    np.testing.assert_array_equal(got["inputs"].numpy(), expected["inputs"])
    eval_pass = list(family._build_input_queue(rng, "validation", None, 4))
    assert [len(b["inputs"]) for b in eval_pass] == [4, 4, 2]  # one pass, last batch short


def test_torch_eval_averages_over_real_examples():
    family = _TorchFamily()
    model, _ = family.init_model_fn(np.array([0, 1]))
    metrics = family._eval_model_on_split("validation", 7, 4, model, None, None, None)
    inputs, targets = ARRAYS["inputs"][:7], ARRAYS["targets"][:7]
    assert metrics == {"error": pytest.approx(float((inputs.sum(-1) - targets).mean()))}


# ---- JAX ----------------------------------------------------------------------------------
class _FlaxScaleByRate(nn.Module):
    """``inputs.sum(-1) * w + rate``, plus 1000 when given a dropout key."""

    @nn.compact
    def __call__(self, inputs: jax.Array, dropout_rate: Any = 0.0,
                 dropout_rng: Any = None) -> jax.Array:
        w = self.param("w", nn.initializers.ones, ())
        keyed = 0.0 if dropout_rng is None else 1000.0
        return inputs.sum(-1) * w + dropout_rate + keyed


class _JaxFamily(jax_base.JaxWorkloadMixin, _Family):
    def _build_model(self) -> nn.Module:
        return _FlaxScaleByRate()

    def _sample_input(self) -> jax.Array:
        return jnp.zeros((1, 2), jnp.float32)

    @functools.partial(jax.jit, static_argnums=0)
    def _eval_batch_sums(self, params: Any, batch: dict[str, Any], model_state: Any,
                         rng: Any) -> dict[str, jax.Array]:
        outputs, _ = self.model_fn(params, batch, model_state, EVAL, rng, False, 0.0)
        weights = batch["weights"]
        return {"error": ((outputs - batch["targets"]) * weights).sum(),
                "num_examples": weights.sum()}


def test_jax_masked_loss_zeroes_masked_examples_and_counts_the_rest():
    per_example = jnp.array([1.0, 2.0, 3.0, 4.0])
    out = jax_base.masked_loss(per_example, jnp.array([1.0, 0.0, 1.0, 0.0]))
    assert out["per_example"].tolist() == [1.0, 0.0, 3.0, 0.0]
    assert float(out["summed"]) == 4.0 and float(out["n_valid_examples"]) == 2.0
    unmasked = jax_base.masked_loss(per_example, None)
    assert float(unmasked["summed"]) == 10.0 and float(unmasked["n_valid_examples"]) == 4.0
    per_task = jax_base.masked_loss(jnp.ones((2, 3)), jnp.array([[1, 0, 1], [0, 0, 1]]))
    assert float(per_task["summed"]) == 3.0 and float(per_task["n_valid_examples"]) == 3.0


def test_jax_dropout_rate_precedence_and_a_traced_rate_stays_traced():
    family = _JaxFamily()
    params, state = family.init_model_fn(jax.random.PRNGKey(0))
    assert state is None and set(family._param_shapes) == {"w"}
    batch = {"inputs": jnp.zeros((1, 2))}

    def rate(**kw: Any) -> float:
        return float(family.model_fn(params, batch, None, EVAL, None, False, **kw)[0][0])

    assert rate() == pytest.approx(CONFIG_RATE)
    family.init_model_fn(jax.random.PRNGKey(0), dropout_rate=0.3)  # a v0.5 submission
    assert rate() == pytest.approx(0.3)
    jitted = jax.jit(lambda r: family.model_fn(params, batch, None, EVAL, None, False, r)[0])
    assert float(jitted(0.25)[0]) == pytest.approx(0.25)


def test_jax_model_fn_draws_dropout_keys_in_training_only():
    family = _JaxFamily()
    params, _ = family.init_model_fn(jax.random.PRNGKey(0))
    batch = {"inputs": jnp.zeros((1, 2))}
    key = jax.random.PRNGKey(1)
    assert float(family.model_fn(params, batch, None, TRAIN, key, True)[0][0]) > 999
    assert float(family.model_fn(params, batch, None, EVAL, key, False)[0][0]) < 999


def test_jax_input_queue_lays_batches_out_for_the_api_version():
    family = _JaxFamily()
    rng = np.array([7, 0])
    expected = next(family._numpy_train_batches(rng, None, 4))
    got = next(family._build_input_queue(rng, "train", None, 4))
    np.testing.assert_array_equal(np.asarray(got["inputs"]), expected["inputs"])
    family.api_version = "0.5"
    pmapped = next(family._build_input_queue(rng, "train", None, 4))
    assert pmapped["inputs"].shape == (jax.local_device_count(), 4, 2)
    eval_pass = list(family._build_input_queue(rng, "validation", None, 4))
    assert all(b["inputs"].shape[-2:] == (4, 2) for b in eval_pass)  # padded: one shape


def test_jax_eval_averages_over_real_examples_not_padding():
    family = _JaxFamily()
    params, state = family.init_model_fn(jax.random.PRNGKey(0))
    metrics = family._eval_model_on_split("validation", 7, 4, params, state, None, None)
    inputs, targets = ARRAYS["inputs"][:7], ARRAYS["targets"][:7]
    assert metrics == {"error": pytest.approx(float((inputs.sum(-1) - targets).mean()))}


def test_device_input_queue_appends_the_device_step_and_sizes_only_eval_splits():
    asked: list[str] = []

    class Fake:
        def _numpy_train_batches(self, data_rng, data_dir, global_batch_size):
            arrays = {"x": np.arange(6, dtype=np.float32)}
            return TrainBatches(arrays, global_batch_size, 0,
                                transform=lambda b: {"x": b["x"] * 10})

        def _eval_batches(self, split, num_examples, batch_size, data_dir):
            return iter([{"split": split, "n": num_examples}])

    def examples(split):
        asked.append(split)
        return 3

    to_device = lambda b: {**b, "moved": True}  # noqa: E731
    train = device_input_queue(Fake(), None, "train", None, 2, to_device, examples)
    batch = next(train)
    # the stream's own transform runs first, then the device step
    assert batch["moved"] and set(batch["x"].tolist()) <= {0, 10, 20, 30, 40, 50}
    assert asked == []  # the training stream is never sized
    ev = list(device_input_queue(Fake(), None, "validation", None, 2, to_device, examples))
    assert ev == [{"split": "validation", "n": 3, "moved": True}] and asked == ["validation"]
    assert next(device_input_queue(Fake(), None, "test", None, 2, to_device))["n"] == 10**9
