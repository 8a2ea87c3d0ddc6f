"""criteo1tb in JAX/Flax (both scales): the workload class; the registry rows
(``entries.py``) make the classes of the base workload and its official variants.

    paceline run --workload criteo1tb --framework jax --submission nadamw
    paceline run --workload criteo1tb --framework jax --scale official --data-dir DIR \
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
from workloads.criteo1tb.entries import ROWS
from workloads.criteo1tb.model_jax import DlrmSmall, output_param_key
from workloads.criteo1tb.workload import Criteo1TbWorkload


def sigmoid_bce(logits: jax.Array, targets: jax.Array) -> jax.Array:
    """Per-example ``-(y log sigmoid(z) + (1 - y) log sigmoid(-z))`` on one logit each."""
    z = logits.reshape(-1)
    y = targets.reshape(-1).astype(z.dtype)
    return -(y * jax.nn.log_sigmoid(z) + (1.0 - y) * jax.nn.log_sigmoid(-z))


class Criteo1TbJaxWorkload(JaxWorkloadMixin, Criteo1TbWorkload):
    """DLRM-small; the eval metric is the summed BCE over the split's examples."""

    # Dev evals run their 8,192-row batches 1,024 rows at a time (the CPU caches; same sums).
    dev_eval_forward_rows = 1024

    def _build_model(self) -> DlrmSmall:
        return DlrmSmall(self.model_config)

    def _sample_input(self) -> jax.Array:
        cfg = self.model_config
        return jnp.zeros((1, cfg.num_dense_features + cfg.num_sparse_features), jnp.float32)

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key == output_param_key(self.model_config)

    def loss_fn(self, label_batch: jax.Array, logits_batch: jax.Array,
                mask_batch: jax.Array | None = None,
                label_smoothing: float = 0.0) -> dict[str, jax.Array]:
        """Sigmoid BCE; ``label_smoothing`` is ignored, as in the official workload."""
        del label_smoothing
        return masked_loss(sigmoid_bce(logits_batch, label_batch), mask_batch)

    @functools.partial(jax.jit, static_argnums=0)
    def _eval_batch_sums(self, params: Any, batch: dict[str, jax.Array], model_state: Any,
                         rng: Any) -> dict[str, jax.Array]:
        logits, _ = self.model_fn(params, batch, model_state, spec.ForwardPassMode.EVAL, rng,
                                  update_batch_norm=False)
        summed = self.loss_fn(batch["targets"], logits, batch["weights"])["summed"]
        if self.scale == "dev":
            return {"loss": summed}
        # Officially the mean is over the split's real rows (padding has weight 0): on the
        # complete data these are upstream's num_examples, on a partial copy its own rows.
        return {"loss": summed, "num_examples": batch["weights"].sum()}


__getattr__ = row_classes(__name__, ROWS, Criteo1TbJaxWorkload)
