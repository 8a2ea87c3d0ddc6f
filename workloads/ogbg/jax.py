"""ogbg in JAX/Flax (dev scale): the workload class and its official variants.

    paceline run --workload ogbg --framework jax --submission nadamw

Batches have fixed shapes (padded graph budgets), so the model compiles once for training and
once per eval batch shape.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from sdk import spec
from sdk.errors import PacelineError
from workloads.common.jax_base import (
    JaxWorkloadMixin,
    replicate_for_api,
    unreplicate_for_api,
)
from workloads.ogbg import config
from workloads.ogbg.batching import GraphsTuple
from workloads.ogbg.metrics import eval_metrics
from workloads.ogbg.model_jax import GNN
from workloads.ogbg.workload import OgbgWorkload


def batch_to_jax(batch: dict[str, Any], api_version: str) -> dict[str, Any]:
    """Numpy graph batch -> jax arrays (v0.5 pmap style: a leading device axis of 1)."""
    if api_version == "0.5" and jax.local_device_count() > 1:
        raise PacelineError("The ogbg JAX workload runs v0.5 (pmap) submissions on one device "
                            "only; graph batches are not split per device.")

    def put(x: Any) -> Any:
        if x is None:
            return None
        x = jnp.asarray(x)
        return x[None] if api_version == "0.5" else x

    return {"inputs": GraphsTuple(*(put(x) for x in batch["inputs"])),
            "targets": put(batch["targets"]), "weights": put(batch["weights"])}


class OgbgJaxWorkload(JaxWorkloadMixin, OgbgWorkload):
    framework = "jax"

    @property
    def _model(self) -> GNN:
        if "_flax_model" not in self.__dict__:
            self._flax_model = GNN(self.model_config)
        return self._flax_model

    def init_model_fn(self, rng: spec.RandomState, dropout_rate: float | None = None,
                      aux_dropout_rate: float | None = None) -> spec.ModelInitState:
        if dropout_rate is not None or aux_dropout_rate is not None:
            self.set_init_dropout(dropout_rate, aux_dropout_rate)
        cfg = self.model_config
        graph = GraphsTuple(jnp.zeros((2, cfg.node_features)), jnp.zeros((1, cfg.edge_features)),
                            jnp.zeros(1, jnp.int32), jnp.zeros(1, jnp.int32), None,
                            jnp.array([2]), jnp.array([1]))
        params = jax.jit(self._model.init)(rng, graph)["params"]
        self._register_params(params)
        return replicate_for_api(params, self.api_version), None

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key == "decoder"

    def _build_input_queue(self, data_rng: spec.RandomState, split: str, data_dir: str,
                           global_batch_size: int, cache: bool | None = None,
                           repeat_final_dataset: bool | None = None,
                           num_batches: int | None = None):
        del cache, repeat_final_dataset, num_batches
        api = self.api_version
        if split != "train":
            return (batch_to_jax(b, api) for b in
                    self._eval_batches(split, 10**9, global_batch_size, data_dir))
        batches = self._train_batches(data_rng, data_dir, global_batch_size)
        batches.transform = lambda b: batch_to_jax(b, api)
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
        """Masked sigmoid BCE, labels smoothed to (1-a)y + a/num_tasks (as upstream)."""
        num_tasks = label_batch.shape[-1]
        smoothed = label_batch * (1.0 - label_smoothing) + label_smoothing / num_tasks
        z = logits_batch
        per_example = jnp.maximum(z, 0) - z * smoothed + jnp.log1p(jnp.exp(-jnp.abs(z)))
        if mask_batch is None:
            mask_batch = jnp.ones_like(per_example)
        mask = mask_batch.astype(per_example.dtype)
        per_example = per_example * mask
        return {"summed": per_example.sum(), "n_valid_examples": mask.sum(),
                "per_example": per_example}

    @functools.partial(jax.jit, static_argnums=0)
    def _eval_logits(self, params: Any, graph: GraphsTuple) -> jax.Array:
        return self._model.apply({"params": params}, graph)

    def _eval_model_on_split(self, split: str, num_examples: int, global_batch_size: int,
                             params: Any, model_state: Any, rng: Any, data_dir: str | None,
                             global_step: int = 0) -> dict[str, float]:
        del model_state, rng, global_step
        params = unreplicate_for_api(params, self.api_version)
        logits, labels, weights = [], [], []
        for batch in self._eval_batches(split, num_examples, global_batch_size, data_dir):
            graph = GraphsTuple(*(None if x is None else jnp.asarray(x)
                                  for x in batch["inputs"]))
            logits.append(np.asarray(self._eval_logits(params, graph)))
            labels.append(batch["targets"])
            weights.append(batch["weights"])
        return eval_metrics(np.concatenate(logits), np.concatenate(labels),
                            np.concatenate(weights))


class OgbgJaxDev(OgbgJaxWorkload):
    scale = "dev"


class OgbgGeluJaxDev(OgbgJaxDev):
    name = "ogbg_gelu"
    variant_overrides = config.VARIANTS["ogbg_gelu"]["dev"]


class OgbgSiluJaxDev(OgbgJaxDev):
    name = "ogbg_silu"
    variant_overrides = config.VARIANTS["ogbg_silu"]["dev"]


class OgbgModelSizeJaxDev(OgbgJaxDev):
    name = "ogbg_model_size"
    variant_overrides = config.VARIANTS["ogbg_model_size"]["dev"]
