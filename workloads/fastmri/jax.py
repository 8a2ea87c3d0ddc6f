"""fastmri in JAX/Flax (both scales): the workload class; the registry rows
(``entries.py``) make the classes of the base workload and its official variants.

    paceline run --workload fastmri --framework jax --submission nadamw
    paceline run --workload fastmri --framework jax --scale official --data-dir DIR \
        --submission nadamw
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp

from sdk import spec
from workloads.common.jax_base import JaxWorkloadMixin, masked_loss
from workloads.common.variants import row_classes
from workloads.fastmri.entries import ROWS
from workloads.fastmri.model_jax import UNet, ssim
from workloads.fastmri.workload import FastMriWorkload


class FastMriJaxWorkload(JaxWorkloadMixin, FastMriWorkload):
    """U-Net reconstruction; eval metrics are SSIM and the L1 loss, averaged per slice."""

    def _build_model(self) -> UNet:
        return UNet(self.model_config)

    def _sample_input(self) -> jax.Array:
        return jnp.zeros((1, 64, 64), jnp.float32)

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key == "Conv_0"

    def _dropout_rate(self, dropout_rate: Any) -> Any:
        """Official scale: 0, whatever is asked. Upstream's JAX U-Net at HEAD never passes
        the rate on to its conv blocks (AlgoPerf algoperf/workloads/fastmri/fastmri_jax/
        models.py), so dropout is a no-op in the official JAX workload; dev scale applies it."""
        if self.scale != "dev":
            return 0.0
        return super()._dropout_rate(dropout_rate)

    def loss_fn(self, label_batch: jax.Array, logits_batch: jax.Array,
                mask_batch: jax.Array | None = None,
                label_smoothing: float = 0.0) -> dict[str, jax.Array]:
        """Per-example mean absolute error over pixels; ``label_smoothing`` is ignored."""
        del label_smoothing
        return masked_loss(jnp.abs(logits_batch - label_batch).mean(axis=(1, 2)), mask_batch)

    @functools.partial(jax.jit, static_argnums=0)
    def _eval_batch_sums(self, params: Any, batch: dict[str, jax.Array], model_state: Any,
                         rng: Any) -> dict[str, jax.Array]:
        return self._eval_sums(params, batch, model_state, rng, ssim)


__getattr__ = row_classes(__name__, ROWS, FastMriJaxWorkload)
