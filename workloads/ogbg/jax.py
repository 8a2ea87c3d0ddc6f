"""ogbg in JAX/Flax (both scales): the workload class; the registry rows
(``entries.py``) make the classes of the base workload and its official variants.

    paceline run --workload ogbg --framework jax --submission nadamw
    paceline run --scale official --workload ogbg --framework jax --submission nadamw \
        --data-dir DIR

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
from workloads.common.jax_base import JaxWorkloadMixin, masked_loss, unreplicate_for_api
from workloads.common.variants import row_classes
from workloads.ogbg.batching import GraphsTuple
from workloads.ogbg.entries import ROWS
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
    """The GNN on padded graph batches; eval metrics come from all logits of the split."""

    def _build_model(self) -> GNN:
        return GNN(self.model_config)

    def _sample_input(self) -> GraphsTuple:
        cfg = self.model_config
        return GraphsTuple(jnp.zeros((2, cfg.node_features)), jnp.zeros((1, cfg.edge_features)),
                           jnp.zeros(1, jnp.int32), jnp.zeros(1, jnp.int32), None,
                           jnp.array([2]), jnp.array([1]))

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key == "decoder"

    def _to_device(self, batch: dict[str, Any], api_version: str) -> dict[str, Any]:
        return batch_to_jax(batch, api_version)

    def loss_fn(self, label_batch: jax.Array, logits_batch: jax.Array,
                mask_batch: jax.Array | None = None,
                label_smoothing: float = 0.0) -> dict[str, jax.Array]:
        """Masked sigmoid BCE, labels smoothed to (1-a)y + a/num_tasks (as upstream)."""
        num_tasks = label_batch.shape[-1]
        smoothed = label_batch * (1.0 - label_smoothing) + label_smoothing / num_tasks
        z = logits_batch
        per_example = jnp.maximum(z, 0) - z * smoothed + jnp.log1p(jnp.exp(-jnp.abs(z)))
        return masked_loss(per_example, mask_batch)

    @functools.partial(jax.jit, static_argnums=0)
    def _eval_logits(self, params: Any, graph: GraphsTuple) -> jax.Array:
        return self._module.apply({"params": params}, graph)

    def _eval_model_on_split(self, split: str, num_examples: int, global_batch_size: int,
                             params: Any, model_state: Any, rng: Any, data_dir: str | None,
                             global_step: int = 0) -> dict[str, float]:
        """The logits of the whole split, then mean average precision, accuracy and loss."""
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


__getattr__ = row_classes(__name__, ROWS, OgbgJaxWorkload)
