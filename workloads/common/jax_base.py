"""Shared JAX side of paceline workloads: batch placement for both API generations, and the
workload mixin that every JAX family builds on.

v0.6 (default): a batch is one global array sharded along its first axis, parameters are
replicated (``jax.jit`` style). v0.5 submissions use ``pmap``: batches get a leading device
axis ``(n_devices, per_device, ...)`` and parameters are replicated with a leading device
axis too. The runner tells the workload which one through ``workload.api_version``.
Either way a run uses every local device (several GPUs, or on the CPU
``XLA_FLAGS=--xla_force_host_platform_device_count=N``); the global batch must split evenly
over them, and eval batches are padded with rows of weight 0 until they do.

    paceline run --workload criteo1tb --framework jax --submission nadamw
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from sdk import spec
from sdk.errors import PacelineError
from sdk.frameworks import jax_sharding_utils as shard
from sdk.frameworks.param_utils import jax_param_shapes, jax_param_types
from sdk.workload import effective_batch
from workloads.common.batching import device_input_queue, eval_forward_rows


def to_device_batch(batch: dict[str, np.ndarray], api_version: str) -> dict[str, Any]:
    if api_version == "0.5":
        n = jax.local_device_count()
        return {k: jnp.asarray(v.reshape(n, -1, *v.shape[1:])) for k, v in batch.items()}
    return shard.shard_along_batch_dim({k: jnp.asarray(v) for k, v in batch.items()})


def check_device_split(global_batch_size: int) -> None:
    """Refuse a training batch that does not split evenly over the local devices."""
    n = jax.local_device_count()
    if global_batch_size % n:
        raise PacelineError(f"The global batch of {global_batch_size} does not split evenly "
                            f"over {n} local devices; choose a batch size divisible by {n}.")


def pad_to_devices(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """An eval batch padded with rows of weight 0 to a multiple of the local device count
    (unchanged on one device), so it shards along its first axis."""
    if "weights" not in batch:
        return batch
    extra = -len(batch["weights"]) % jax.local_device_count()
    if not extra:
        return batch
    return {k: np.concatenate([v, np.zeros((extra, *v.shape[1:]), v.dtype)])
            for k, v in batch.items()}


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


def masked_loss(per_example: jax.Array, mask_batch: jax.Array | None) -> dict[str, jax.Array]:
    """AlgoPerf's ``loss_fn`` result from unmasked per-example losses.

    ``mask_batch`` (``None``: every example counts) is laid out like ``per_example``; masked
    entries are zeroed, ``summed`` adds the rest and ``n_valid_examples`` counts them.
    """
    if mask_batch is None:
        mask_batch = jnp.ones_like(per_example)
    mask = mask_batch.reshape(per_example.shape).astype(per_example.dtype)
    per_example = per_example * mask
    return {"summed": per_example.sum(), "n_valid_examples": mask.sum(),
            "per_example": per_example}


class JaxWorkloadMixin:
    """The JAX half of a workload: ``init_model_fn``, input queues, ``model_fn``, evaluation.

    Put it first among the bases (``class FooJaxWorkload(JaxWorkloadMixin, FooWorkload)``).
    A family class adds ``_build_model()`` (its Flax module), ``_sample_input()`` (inputs of
    the right shapes for ``init``), ``is_output_params``, ``loss_fn`` and a jitted
    ``_eval_batch_sums(params, batch, model_state, rng)`` returning summed metrics. The
    family's framework-neutral workload provides ``_numpy_train_batches(data_rng, data_dir,
    global_batch_size)`` (a stream with a ``transform`` attribute) and ``_eval_batches(split,
    num_examples, batch_size, data_dir)`` (numpy batches with ``weights``; padded in JAX).

    The default ``model_fn`` calls the module as ``apply({"params": p}, inputs,
    dropout_rate=..., dropout_rng=...)`` and keeps no model state; a module called otherwise
    overrides ``model_fn`` (see ``workloads.common.vision_jax`` for batch-norm state).
    """

    framework = "jax"

    # ---- the model ------------------------------------------------------------------------
    def _build_model(self) -> Any:
        """The Flax module of this workload (built once, from ``self.model_config``)."""
        raise NotImplementedError

    def _sample_input(self) -> Any:
        """Model inputs whose shapes and dtypes ``init`` traces the module with."""
        raise NotImplementedError

    @functools.cached_property
    def _module(self) -> Any:
        return self._build_model()

    @property
    def _default_dropout_rate(self) -> float:
        """The rate ``model_fn`` uses when neither the call nor ``init_model_fn`` gives one."""
        return self.model_config.dropout_rate

    def _init_variables(self, rng: spec.RandomState) -> tuple[Any, Any]:
        """Fresh ``(params, model_state)`` on one device; the default module has no state."""
        return jax.jit(self._module.init)(rng, self._sample_input())["params"], None

    def init_model_fn(self, rng: spec.RandomState, dropout_rate: float | None = None,
                      aux_dropout_rate: float | None = None) -> spec.ModelInitState:
        """Initial parameters and model state, replicated as the submission's API expects.

        v0.5 submissions pass their dropout rates here; ``model_fn`` then uses them.
        """
        if dropout_rate is not None or aux_dropout_rate is not None:
            self.set_init_dropout(dropout_rate, aux_dropout_rate)
        params, model_state = self._init_variables(rng)
        self._register_params(params)
        api = self.api_version
        return replicate_for_api(params, api), replicate_for_api(model_state, api)

    def _register_params(self, params: Any) -> None:
        self._param_shapes = jax_param_shapes(params)
        self._param_types = jax_param_types(self._param_shapes)

    # ---- input pipeline -------------------------------------------------------------------
    def _to_device(self, batch: dict[str, Any], api_version: str) -> dict[str, Any]:
        """A numpy batch as device arrays laid out for ``api_version``."""
        return to_device_batch(batch, api_version)

    def _build_input_queue(self, data_rng: spec.RandomState, split: str, data_dir: str,
                           global_batch_size: int, cache: bool | None = None,
                           repeat_final_dataset: bool | None = None,
                           num_batches: int | None = None):
        """Endless shuffled training batches, or one pass over an eval split, on device."""
        del cache, repeat_final_dataset, num_batches
        api = self.api_version
        if split == "train":
            check_device_split(effective_batch(self, global_batch_size))
        return device_input_queue(self, data_rng, split, data_dir, global_batch_size,
                                  lambda b: self._to_device(b, api))

    # ---- the forward pass -----------------------------------------------------------------
    def _dropout_rate(self, dropout_rate: Any) -> Any:
        """Like ``resolve_dropout``, but a rate given to the call (possibly a traced jit
        argument) is used as it is."""
        if dropout_rate is not None:
            return dropout_rate
        return self.resolve_dropout(None, self._default_dropout_rate)

    def model_fn(self, params: Any, augmented_and_preprocessed_input_batch: dict[str, Any],
                 model_state: Any, mode: spec.ForwardPassMode, rng: spec.RandomState,
                 update_batch_norm: bool, dropout_rate: float | None = None
                 ) -> tuple[jax.Array, Any]:
        """The module's outputs on ``batch["inputs"]``; dropout draws from ``rng`` in training."""
        del update_batch_norm
        train = mode == spec.ForwardPassMode.TRAIN
        outputs = self._module.apply(
            {"params": params}, augmented_and_preprocessed_input_batch["inputs"],
            dropout_rate=self._dropout_rate(dropout_rate),
            dropout_rng=rng if train and rng is not None else None,
        )
        return outputs, model_state

    # ---- evaluation -----------------------------------------------------------------------
    def _eval_model_on_split(self, split: str, num_examples: int, global_batch_size: int,
                             params: Any, model_state: Any, rng: Any, data_dir: str | None,
                             global_step: int = 0) -> dict[str, float]:
        """Metrics on the first ``num_examples`` of ``split``: batch sums, then averages."""
        del global_step
        params = unreplicate_for_api(params, self.api_version)
        model_state = unreplicate_for_api(model_state, self.api_version)
        totals: dict[str, Any] = {}
        rows = eval_forward_rows(self, global_batch_size)
        for batch in self._eval_batches(split, num_examples, rows, data_dir):
            sums = self._eval_batch_sums(params, to_device_batch(pad_to_devices(batch), "0.6"),
                                         model_state, rng)
            for key, value in sums.items():
                totals[key] = totals.get(key, 0.0) + value
        totals = {k: float(v) for k, v in jax.device_get(totals).items()}
        return self._finalize_metrics(totals, num_examples)

    def _finalize_metrics(self, totals: dict[str, float], num_examples: int) -> dict[str, float]:
        """Averages of the summed metrics: over the summed ``num_examples`` weights when the
        batch sums include them (so padding does not count), else over ``num_examples``."""
        count = totals.pop("num_examples", num_examples)
        return {k: v / count for k, v in totals.items()}
