"""fastmri in JAX/Flax (dev scale): the workload class and its official variants.

    paceline run --workload fastmri --framework jax --submission nadamw
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp

from sdk import spec
from workloads.common.jax_base import JaxWorkloadMixin, replicate_for_api, to_device_batch
from workloads.fastmri import config
from workloads.fastmri.model_jax import UNet, ssim
from workloads.fastmri.workload import FastMriWorkload


class FastMriJaxWorkload(JaxWorkloadMixin, FastMriWorkload):
    framework = "jax"

    @property
    def _model(self) -> UNet:
        if "_flax_model" not in self.__dict__:
            self._flax_model = UNet(self.model_config)
        return self._flax_model

    def init_model_fn(self, rng: spec.RandomState, dropout_rate: float | None = None,
                      aux_dropout_rate: float | None = None) -> spec.ModelInitState:
        if dropout_rate is not None or aux_dropout_rate is not None:
            self.set_init_dropout(dropout_rate, aux_dropout_rate)
        params = jax.jit(self._model.init)(rng, jnp.zeros((1, 64, 64), jnp.float32))["params"]
        self._register_params(params)
        return replicate_for_api(params, self.api_version), None

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key == "Conv_0"

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

    def _dropout_rate(self, dropout_rate: Any) -> Any:
        """Like ``resolve_dropout``, but leaves a traced rate traced."""
        if dropout_rate is not None:
            return dropout_rate
        if self._init_dropout_rate is not None:
            return self._init_dropout_rate
        return self.model_config.dropout_rate

    def model_fn(self, params: Any, augmented_and_preprocessed_input_batch: dict[str, Any],
                 model_state: Any, mode: spec.ForwardPassMode, rng: spec.RandomState,
                 update_batch_norm: bool, dropout_rate: float | None = None
                 ) -> tuple[jax.Array, Any]:
        del update_batch_norm
        train = mode == spec.ForwardPassMode.TRAIN
        outputs = self._model.apply(
            {"params": params}, augmented_and_preprocessed_input_batch["inputs"],
            dropout_rate=self._dropout_rate(dropout_rate),
            dropout_rng=rng if train and rng is not None else None,
        )
        return outputs, model_state

    def loss_fn(self, label_batch: jax.Array, logits_batch: jax.Array,
                mask_batch: jax.Array | None = None,
                label_smoothing: float = 0.0) -> dict[str, jax.Array]:
        """Per-example mean absolute error over pixels; ``label_smoothing`` is ignored."""
        del label_smoothing
        per_example = jnp.abs(logits_batch - label_batch).mean(axis=(1, 2))
        if mask_batch is None:
            mask_batch = jnp.ones_like(per_example)
        mask = mask_batch.reshape(per_example.shape).astype(per_example.dtype)
        per_example = per_example * mask
        return {"summed": per_example.sum(), "n_valid_examples": mask.sum(),
                "per_example": per_example}

    @functools.partial(jax.jit, static_argnums=0)
    def _eval_batch_sums(self, params: Any, batch: dict[str, jax.Array], model_state: Any,
                         rng: Any) -> dict[str, jax.Array]:
        outputs, _ = self.model_fn(params, batch, model_state, spec.ForwardPassMode.EVAL, rng,
                                   update_batch_norm=False)
        weights = batch["weights"]
        per_example = ssim(outputs, batch["targets"], batch["mean"], batch["std"],
                           batch["volume_max"])
        loss = self.loss_fn(batch["targets"], outputs, weights)["summed"]
        return {"ssim": (per_example * weights).sum(), "loss": loss}

    def _finalize_metrics(self, totals: dict[str, float], num_examples: int) -> dict[str, float]:
        return {k: v / num_examples for k, v in totals.items()}


class FastMriJaxDev(FastMriJaxWorkload):
    scale = "dev"


class FastMriModelSizeJaxDev(FastMriJaxDev):
    name = "fastmri_model_size"
    variant_overrides = config.VARIANTS["fastmri_model_size"]["dev"]


class FastMriTanhJaxDev(FastMriJaxDev):
    name = "fastmri_tanh"
    variant_overrides = config.VARIANTS["fastmri_tanh"]["dev"]


class FastMriLayerNormJaxDev(FastMriJaxDev):
    name = "fastmri_layernorm"
    variant_overrides = config.VARIANTS["fastmri_layernorm"]["dev"]
