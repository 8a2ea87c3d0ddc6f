"""MNIST in JAX/Flax (both scales)."""

from __future__ import annotations

import functools
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from sdk import spec
from workloads.common.jax_base import JaxWorkloadMixin, replicate_for_api, to_device_batch
from workloads.mnist.workload import MnistWorkload


class MnistNet(nn.Module):
    """Dense 128 -> sigmoid -> Dense 10 on flattened pixels (101,770 parameters)."""

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = x.reshape((x.shape[0], -1))
        x = nn.sigmoid(nn.Dense(128)(x))
        return nn.Dense(10)(x)


class MnistJaxWorkload(JaxWorkloadMixin, MnistWorkload):
    framework = "jax"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._model = MnistNet()

    def init_model_fn(self, rng: spec.RandomState, dropout_rate: float | None = None,
                      aux_dropout_rate: float | None = None) -> spec.ModelInitState:
        del dropout_rate, aux_dropout_rate
        params = self._model.init(rng, jnp.zeros((1, 28, 28, 1), jnp.float32))["params"]
        self._register_params(params)
        return replicate_for_api(params, self.api_version), None

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key == "Dense_1"

    def _build_input_queue(self, data_rng: spec.RandomState, split: str, data_dir: str,
                           global_batch_size: int, cache: bool | None = None,
                           repeat_final_dataset: bool | None = None,
                           num_batches: int | None = None):
        del cache, repeat_final_dataset, num_batches
        api = self.api_version
        if split != "train":
            return (to_device_batch(b, api) for b in
                    self._eval_batches(split, 10**9, global_batch_size, data_dir))
        batches = self._numpy_train_batches(data_rng, data_dir, global_batch_size)
        batches.transform = lambda b: to_device_batch(b, api)
        return batches

    def model_fn(self, params: Any, augmented_and_preprocessed_input_batch: dict[str, Any],
                 model_state: Any, mode: spec.ForwardPassMode, rng: spec.RandomState,
                 update_batch_norm: bool, dropout_rate: float | None = None
                 ) -> tuple[jax.Array, Any]:
        del mode, rng, update_batch_norm, dropout_rate
        logits = self._model.apply({"params": params},
                                   augmented_and_preprocessed_input_batch["inputs"])
        return logits, model_state

    def loss_fn(self, label_batch: jax.Array, logits_batch: jax.Array,
                mask_batch: jax.Array | None = None,
                label_smoothing: float = 0.0) -> dict[str, jax.Array]:
        num_classes = logits_batch.shape[-1]
        one_hot = jax.nn.one_hot(label_batch, num_classes)
        smoothed = optax.smooth_labels(one_hot, label_smoothing)
        per_example = optax.softmax_cross_entropy(logits_batch, smoothed)
        if mask_batch is None:
            mask_batch = jnp.ones_like(per_example)
        per_example = per_example * mask_batch
        return {"summed": per_example.sum(), "n_valid_examples": mask_batch.sum(),
                "per_example": per_example}

    @functools.partial(jax.jit, static_argnums=0)
    def _eval_batch_sums(self, params: Any, batch: dict[str, jax.Array], model_state: Any,
                         rng: Any) -> dict[str, jax.Array]:
        logits, _ = self.model_fn(params, batch, model_state, spec.ForwardPassMode.EVAL, rng,
                                  update_batch_norm=False)
        weights = batch["weights"]
        correct = (jnp.argmax(logits, axis=-1) == batch["targets"]).astype(jnp.float32)
        loss = self.loss_fn(batch["targets"], logits, weights)
        return {"accuracy": (correct * weights).sum(), "loss": loss["summed"],
                "num_examples": weights.sum()}


class MnistJaxDev(MnistJaxWorkload):
    scale = "dev"


class MnistJaxOfficial(MnistJaxWorkload):
    scale = "official"
