"""Shared JAX side of paceline workloads: batch placement for both API generations.

v0.6 (default): a batch is one global array sharded along its first axis, parameters are
replicated (``jax.jit`` style). v0.5 submissions use ``pmap``: batches get a leading device
axis ``(n_devices, per_device, ...)`` and parameters are replicated with a leading device
axis too. The runner tells the workload which one through ``workload.api_version``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from sdk.frameworks import jax_sharding_utils as shard
from sdk.frameworks.param_utils import jax_param_shapes, jax_param_types


def to_device_batch(batch: dict[str, np.ndarray], api_version: str) -> dict[str, Any]:
    if api_version == "0.5":
        n = jax.local_device_count()
        return {k: jnp.asarray(v.reshape(n, -1, *v.shape[1:])) for k, v in batch.items()}
    return shard.shard_along_batch_dim({k: jnp.asarray(v) for k, v in batch.items()})


def replicate_for_api(tree: Any, api_version: str) -> Any:
    if tree is None:
        return None
    if api_version == "0.5":
        devices = jax.local_devices()
        sharding = NamedSharding(Mesh(devices, ("devices",)), PartitionSpec("devices"))
        n = len(devices)
        return jax.tree_util.tree_map(
            lambda x: jax.device_put(jnp.broadcast_to(x[None], (n, *x.shape)), sharding), tree)
    return shard.replicate(tree)


def unreplicate_for_api(tree: Any, api_version: str) -> Any:
    if tree is None or api_version != "0.5":
        return tree
    return jax.tree_util.tree_map(lambda x: x[0], tree)


class JaxWorkloadMixin:
    """Param bookkeeping and a generic eval loop for JAX workloads.

    A workload implements ``_eval_batches(split, num_examples, batch_size, data_dir)`` and
    ``_eval_batch_sums(params, batch, model_state, rng)`` (a jitted function returning summed
    metrics as arrays).
    """

    framework = "jax"

    def _register_params(self, params: Any) -> None:
        self._param_shapes = jax_param_shapes(params)
        self._param_types = jax_param_types(self._param_shapes)

    def _eval_model_on_split(self, split: str, num_examples: int, global_batch_size: int,
                             params: Any, model_state: Any, rng: Any, data_dir: str | None,
                             global_step: int = 0) -> dict[str, float]:
        del global_step
        params = unreplicate_for_api(params, self.api_version)
        model_state = unreplicate_for_api(model_state, self.api_version)
        totals: dict[str, Any] = {}
        for batch in self._eval_batches(split, num_examples, global_batch_size, data_dir):
            sums = self._eval_batch_sums(params, to_device_batch(batch, "0.6"), model_state, rng)
            for key, value in sums.items():
                totals[key] = totals.get(key, 0.0) + value
        totals = {k: float(v) for k, v in jax.device_get(totals).items()}
        return self._finalize_metrics(totals, num_examples)

    def _finalize_metrics(self, totals: dict[str, float], num_examples: int) -> dict[str, float]:
        count = totals.pop("num_examples", num_examples)
        return {k: v / count for k, v in totals.items()}
