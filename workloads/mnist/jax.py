"""MNIST in JAX/Flax (both scales).

    paceline run --workload mnist --framework jax --submission nadamw
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from sdk import spec
from workloads.common.vision_jax import JaxClassifierMixin
from workloads.mnist.workload import MnistWorkload


class MnistNet(nn.Module):
    """Dense 128 -> sigmoid -> Dense 10 on flattened pixels (101,770 parameters)."""

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = x.reshape((x.shape[0], -1))
        x = nn.sigmoid(nn.Dense(128)(x))
        return nn.Dense(10)(x)


class MnistJaxWorkload(JaxClassifierMixin, MnistWorkload):
    """The MLP above; no dropout and no model state."""

    def _build_model(self) -> MnistNet:
        return MnistNet()

    def _sample_input(self) -> jax.Array:
        return jnp.zeros((1, 28, 28, 1), jnp.float32)

    def _init_variables(self, rng: spec.RandomState) -> tuple[Any, Any]:
        """Parameters from ``init`` run eagerly (not jitted, unlike the other families)."""
        return self._module.init(rng, self._sample_input())["params"], None

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key == "Dense_1"

    def model_fn(self, params: Any, augmented_and_preprocessed_input_batch: dict[str, Any],
                 model_state: Any, mode: spec.ForwardPassMode, rng: spec.RandomState,
                 update_batch_norm: bool, dropout_rate: float | None = None
                 ) -> tuple[jax.Array, Any]:
        """The logits of ``batch["inputs"]``; MnistNet has no dropout and no state."""
        del mode, rng, update_batch_norm, dropout_rate
        logits = self._module.apply({"params": params},
                                    augmented_and_preprocessed_input_batch["inputs"])
        return logits, model_state


class MnistJaxDev(MnistJaxWorkload):
    scale = "dev"


class MnistJaxOfficial(MnistJaxWorkload):
    scale = "official"
