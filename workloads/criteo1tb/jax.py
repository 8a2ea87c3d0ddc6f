"""criteo1tb in JAX/Flax (dev scale): the workload class and its official variants.

    paceline run --workload criteo1tb --framework jax --submission nadamw
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp

from sdk import spec
from workloads.common.jax_base import JaxWorkloadMixin, replicate_for_api, to_device_batch
from workloads.criteo1tb import config
from workloads.criteo1tb.model_jax import DlrmSmall, output_param_key
from workloads.criteo1tb.workload import Criteo1TbWorkload


def sigmoid_bce(logits: jax.Array, targets: jax.Array) -> jax.Array:
    """Per-example ``-(y log sigmoid(z) + (1 - y) log sigmoid(-z))`` on one logit each."""
    z = logits.reshape(-1)
    y = targets.reshape(-1).astype(z.dtype)
    return -(y * jax.nn.log_sigmoid(z) + (1.0 - y) * jax.nn.log_sigmoid(-z))


class Criteo1TbJaxWorkload(JaxWorkloadMixin, Criteo1TbWorkload):
    framework = "jax"

    @property
    def _model(self) -> DlrmSmall:
        if "_flax_model" not in self.__dict__:
            self._flax_model = DlrmSmall(self.model_config)
        return self._flax_model

    def init_model_fn(self, rng: spec.RandomState, dropout_rate: float | None = None,
                      aux_dropout_rate: float | None = None) -> spec.ModelInitState:
        if dropout_rate is not None or aux_dropout_rate is not None:
            self.set_init_dropout(dropout_rate, aux_dropout_rate)
        cfg = self.model_config
        x = jnp.zeros((1, cfg.num_dense_features + cfg.num_sparse_features), jnp.float32)
        params = jax.jit(self._model.init)(rng, x)["params"]
        self._register_params(params)
        return replicate_for_api(params, self.api_version), None

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key == output_param_key(self.model_config)

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
        logits = self._model.apply(
            {"params": params}, augmented_and_preprocessed_input_batch["inputs"],
            dropout_rate=self._dropout_rate(dropout_rate),
            dropout_rng=rng if train and rng is not None else None,
        )
        return logits, model_state

    def loss_fn(self, label_batch: jax.Array, logits_batch: jax.Array,
                mask_batch: jax.Array | None = None,
                label_smoothing: float = 0.0) -> dict[str, jax.Array]:
        """Sigmoid BCE; ``label_smoothing`` is ignored, as in the official workload."""
        del label_smoothing
        per_example = sigmoid_bce(logits_batch, label_batch)
        if mask_batch is None:
            mask_batch = jnp.ones_like(per_example)
        mask = mask_batch.reshape(per_example.shape).astype(per_example.dtype)
        per_example = per_example * mask
        return {"summed": per_example.sum(), "n_valid_examples": mask.sum(),
                "per_example": per_example}

    @functools.partial(jax.jit, static_argnums=0)
    def _eval_batch_sums(self, params: Any, batch: dict[str, jax.Array], model_state: Any,
                         rng: Any) -> dict[str, jax.Array]:
        logits, _ = self.model_fn(params, batch, model_state, spec.ForwardPassMode.EVAL, rng,
                                  update_batch_norm=False)
        return {"loss": self.loss_fn(batch["targets"], logits, batch["weights"])["summed"]}

    def _finalize_metrics(self, totals: dict[str, float], num_examples: int) -> dict[str, float]:
        return {"loss": totals["loss"] / num_examples}


class Criteo1TbJaxDev(Criteo1TbJaxWorkload):
    scale = "dev"


class Criteo1TbLayerNormJaxDev(Criteo1TbJaxDev):
    name = "criteo1tb_layernorm"
    variant_overrides = config.VARIANTS["criteo1tb_layernorm"]["dev"]


class Criteo1TbResNetJaxDev(Criteo1TbJaxDev):
    name = "criteo1tb_resnet"
    variant_overrides = config.VARIANTS["criteo1tb_resnet"]["dev"]


class Criteo1TbEmbedInitJaxDev(Criteo1TbJaxDev):
    name = "criteo1tb_embed_init"
    variant_overrides = config.VARIANTS["criteo1tb_embed_init"]["dev"]
