"""MNIST in JAX/Flax (both scales): the workload class; the registry rows (``entries.py``)
make its dev and official classes.

    paceline run --workload mnist --framework jax --submission nadamw
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from sdk import spec
from workloads.common.variants import row_classes
from workloads.common.vision_jax import JaxClassifierMixin
from workloads.mnist.entries import ROWS
from workloads.mnist.model_jax import MnistNet
from workloads.mnist.workload import MnistWorkload


class MnistJaxWorkload(JaxClassifierMixin, MnistWorkload):
    """The MLP of ``model_jax``; no dropout and no model state."""

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


__getattr__ = row_classes(__name__, ROWS, MnistJaxWorkload)
