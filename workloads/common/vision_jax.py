"""JAX pieces shared by the dev ImageNet workloads: activations by name, the loss, the eval
sums, and the workload mixin (input queues, ``init_model_fn``, ``model_fn`` with batch-norm
state).

A family class adds ``_make_module()`` (a Flax module from ``self.model_config``),
``_sample_input()`` and ``is_output_params``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from sdk import spec
from sdk.errors import PacelineError
from workloads.common.jax_base import JaxWorkloadMixin, replicate_for_api, to_device_batch
from workloads.common.vision import ACTIVATION_NAMES, IMAGE_SIZE

_ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "relu": nn.relu,
    "silu": nn.silu,
    "gelu": functools.partial(nn.gelu, approximate=True),
    "gelu_exact": functools.partial(nn.gelu, approximate=False),
    "leaky_relu": functools.partial(nn.leaky_relu, negative_slope=0.2),
    "elu": nn.elu,
    "tanh": jnp.tanh,
}
assert tuple(_ACTIVATIONS) == ACTIVATION_NAMES


def activation(name: str) -> Callable[[jax.Array], jax.Array]:
    if name not in _ACTIVATIONS:
        raise PacelineError(f"Unknown activation {name!r}; choose one of "
                            f"{', '.join(ACTIVATION_NAMES)}.")
    return _ACTIVATIONS[name]


def softmax_cross_entropy(label_batch: jax.Array, logits_batch: jax.Array,
                          mask_batch: jax.Array | None = None,
                          label_smoothing: float = 0.0) -> dict[str, jax.Array]:
    """AlgoPerf's ImageNet ``loss_fn``: integer or soft (mixup) labels, smoothed one-hot."""
    num_classes = logits_batch.shape[-1]
    targets = (label_batch if label_batch.ndim == logits_batch.ndim
               else jax.nn.one_hot(label_batch, num_classes))
    targets = optax.smooth_labels(targets, label_smoothing)
    per_example = optax.softmax_cross_entropy(logits_batch, targets)
    if mask_batch is None:
        mask_batch = jnp.ones_like(per_example)
    per_example = per_example * mask_batch
    return {"summed": per_example.sum(), "n_valid_examples": mask_batch.sum(),
            "per_example": per_example}


class Dropout(nn.Module):
    """Dropout whose rate is a call argument and may be a traced value (as AlgoPerf's)."""

    @nn.compact
    def __call__(self, x: jax.Array, rate: Any, deterministic: bool) -> jax.Array:
        if deterministic or (isinstance(rate, int | float) and rate == 0):
            return x
        keep = 1.0 - rate
        mask = jax.random.bernoulli(self.make_rng("dropout"), keep, x.shape)
        return jnp.where(mask, x / keep, jnp.zeros_like(x))


class JaxImageWorkloadMixin(JaxWorkloadMixin):
    """The JAX half of an image workload; model state is the BN ``batch_stats`` (or None)."""

    default_dropout_rate = 0.0

    def _make_module(self) -> nn.Module:
        raise NotImplementedError

    @functools.cached_property
    def _module(self) -> nn.Module:
        return self._make_module()

    def init_model_fn(self, rng: spec.RandomState, dropout_rate: float | None = None,
                      aux_dropout_rate: float | None = None) -> spec.ModelInitState:
        if dropout_rate is not None or aux_dropout_rate is not None:
            self.set_init_dropout(dropout_rate, aux_dropout_rate)
        sample = jnp.zeros((2, IMAGE_SIZE, IMAGE_SIZE, self.model_config.in_channels),
                           jnp.float32)
        variables = jax.jit(functools.partial(self._module.init, train=False))(
            {"params": rng}, sample)
        params = variables["params"]
        state = variables.get("batch_stats")
        self._register_params(params)
        api = self.api_version
        return replicate_for_api(params, api), replicate_for_api(state, api)

    def _build_input_queue(self, data_rng: spec.RandomState, split: str, data_dir: str,
                           global_batch_size: int, cache: bool | None = None,
                           repeat_final_dataset: bool | None = None,
                           num_batches: int | None = None):
        del cache, repeat_final_dataset, num_batches
        api = self.api_version
        if split != "train":
            return (to_device_batch(b, api) for b in
                    self._eval_batches(split, 10**9, global_batch_size, data_dir, pad=True))
        batches = self._train_batches(data_rng, data_dir, global_batch_size)
        batches.transform = lambda b: to_device_batch(b, api)
        return batches

    def model_fn(self, params: Any, augmented_and_preprocessed_input_batch: dict[str, Any],
                 model_state: Any, mode: spec.ForwardPassMode, rng: spec.RandomState,
                 update_batch_norm: bool, dropout_rate: float | None = None
                 ) -> tuple[jax.Array, Any]:
        if mode == spec.ForwardPassMode.EVAL and update_batch_norm:
            raise ValueError("Batch norm statistics cannot be updated during evaluation.")
        train = mode == spec.ForwardPassMode.TRAIN
        # a submission may pass the rate as a traced jit argument: use it as it is
        rate = (dropout_rate if dropout_rate is not None
                else self.resolve_dropout(None, self.default_dropout_rate))
        variables = {"params": params}
        if model_state is not None:
            variables["batch_stats"] = model_state
        kwargs = self._call_kwargs(train, rate)
        rngs = {"dropout": rng} if train and rng is not None else None
        inputs = augmented_and_preprocessed_input_batch["inputs"]
        if train and model_state is not None:
            logits, updates = self._module.apply(variables, inputs, mutable=["batch_stats"],
                                                 rngs=rngs, **kwargs)
            return logits, (updates["batch_stats"] if update_batch_norm else model_state)
        logits = self._module.apply(variables, inputs, rngs=rngs, **kwargs)
        return logits, model_state

    def _call_kwargs(self, train: bool, dropout_rate: float) -> dict[str, Any]:
        del dropout_rate
        return {"train": train}

    def loss_fn(self, label_batch: jax.Array, logits_batch: jax.Array,
                mask_batch: jax.Array | None = None,
                label_smoothing: float = 0.0) -> dict[str, jax.Array]:
        return softmax_cross_entropy(label_batch, logits_batch, mask_batch, label_smoothing)

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

    def _eval_model_on_split(self, split: str, num_examples: int, global_batch_size: int,
                             params: Any, model_state: Any, rng: Any, data_dir: str | None,
                             global_step: int = 0) -> dict[str, float]:
        """As the generic loop, with padded (fixed-shape) eval batches for the jitted sums."""
        del global_step
        from workloads.common.jax_base import unreplicate_for_api

        params = unreplicate_for_api(params, self.api_version)
        model_state = unreplicate_for_api(model_state, self.api_version)
        totals: dict[str, Any] = {}
        for batch in self._eval_batches(split, num_examples, global_batch_size, data_dir,
                                        pad=True):
            sums = self._eval_batch_sums(params, to_device_batch(batch, "0.6"), model_state, rng)
            for key, value in sums.items():
                totals[key] = totals.get(key, 0.0) + value
        totals = {k: float(v) for k, v in jax.device_get(totals).items()}
        return self._finalize_metrics(totals, num_examples)
