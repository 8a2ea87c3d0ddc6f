"""JAX pieces shared by the image-classification workloads: activations by name, the loss and
eval sums of a softmax classifier (also MNIST's), and the dev ImageNet workload mixin
(``model_fn`` with batch-norm state, padded eval batches).

A dev ImageNet family class adds ``_build_model()`` (a Flax module from
``self.model_config``) and ``is_output_params``.

    paceline run --scale dev --framework jax --workload imagenet_resnet --submission nadamw
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from sdk import spec
from sdk.errors import PacelineError
from workloads.common.jax_base import JaxWorkloadMixin
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


def accuracy_and_loss_sums(logits: jax.Array, labels: jax.Array,
                           weights: jax.Array) -> dict[str, jax.Array]:
    """Weighted number of correct top-1 predictions, summed loss and example weight."""
    correct = (jnp.argmax(logits, axis=-1) == labels).astype(jnp.float32)
    loss = softmax_cross_entropy(labels, logits, weights)
    return {"accuracy": (correct * weights).sum(), "loss": loss["summed"],
            "num_examples": weights.sum()}


class Dropout(nn.Module):
    """Dropout whose rate is a call argument and may be a traced value (as AlgoPerf's)."""

    @nn.compact
    def __call__(self, x: jax.Array, rate: Any, deterministic: bool) -> jax.Array:
        if deterministic or (isinstance(rate, int | float) and rate == 0):
            return x
        keep = 1.0 - rate
        mask = jax.random.bernoulli(self.make_rng("dropout"), keep, x.shape)
        return jnp.where(mask, x / keep, jnp.zeros_like(x))


class JaxClassifierMixin(JaxWorkloadMixin):
    """``loss_fn`` and eval sums of a softmax classifier (MNIST and the dev ImageNet families)."""

    def loss_fn(self, label_batch: jax.Array, logits_batch: jax.Array,
                mask_batch: jax.Array | None = None,
                label_smoothing: float = 0.0) -> dict[str, jax.Array]:
        return softmax_cross_entropy(label_batch, logits_batch, mask_batch, label_smoothing)

    @functools.partial(jax.jit, static_argnums=0)
    def _eval_batch_sums(self, params: Any, batch: dict[str, jax.Array], model_state: Any,
                         rng: Any) -> dict[str, jax.Array]:
        logits, _ = self.model_fn(params, batch, model_state, spec.ForwardPassMode.EVAL, rng,
                                  update_batch_norm=False)
        return accuracy_and_loss_sums(logits, batch["targets"], batch["weights"])


class JaxImageWorkloadMixin(JaxClassifierMixin):
    """The JAX half of a dev ImageNet workload; model state is the BN ``batch_stats`` (or None).

    Eval batches are padded to full size, so the jitted eval sums compile once.
    """

    def _sample_input(self) -> jax.Array:
        size = IMAGE_SIZE if self.scale == "dev" else self.official_image_size
        return jnp.zeros((2, size, size, self.model_config.in_channels), jnp.float32)

    def _init_variables(self, rng: spec.RandomState) -> tuple[Any, Any]:
        """Parameters and, for batch-norm models, ``batch_stats`` (inference-mode init)."""
        variables = jax.jit(functools.partial(self._module.init, train=False))(
            {"params": rng}, self._sample_input())
        return variables["params"], variables.get("batch_stats")

    def _eval_batches(self, split: str, num_examples: int, batch_size: int,
                      data_dir: str | None, pad: bool = True) -> Iterator[dict[str, Any]]:
        """The family's eval batches, padded (weight 0) to ``batch_size`` by default."""
        return super()._eval_batches(split, num_examples, batch_size, data_dir, pad=pad)

    def model_fn(self, params: Any, augmented_and_preprocessed_input_batch: dict[str, Any],
                 model_state: Any, mode: spec.ForwardPassMode, rng: spec.RandomState,
                 update_batch_norm: bool, dropout_rate: float | None = None
                 ) -> tuple[jax.Array, Any]:
        """The logits; in training a BN model returns its updated ``batch_stats`` if
        ``update_batch_norm``, else the statistics it was given."""
        if mode == spec.ForwardPassMode.EVAL and update_batch_norm:
            raise ValueError("Batch norm statistics cannot be updated during evaluation.")
        train = mode == spec.ForwardPassMode.TRAIN
        rate = self._dropout_rate(dropout_rate)
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
        """Keyword arguments of the module's ``__call__`` besides the inputs."""
        del dropout_rate
        return {"train": train}
