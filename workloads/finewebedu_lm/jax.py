"""finewebedu_lm in JAX/Flax (both scales): the workload class; the registry rows
(``entries.py``) make its dev and official classes.

    paceline run --workload finewebedu_lm --ruleset-version latest --framework jax --submission nadamw
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
import optax

from sdk import spec
from workloads.common.jax_base import JaxWorkloadMixin, masked_loss
from workloads.common.variants import row_classes
from workloads.finewebedu_lm.entries import ROWS
from workloads.finewebedu_lm.model_jax import DecoderLM
from workloads.finewebedu_lm.workload import FinewebeduLmWorkload


class FinewebeduLmJaxWorkload(JaxWorkloadMixin, FinewebeduLmWorkload):
    """The decoder of ``model_jax``; no dropout and no model state, as upstream."""

    _default_dropout_rate = 0.0  # the model has no dropout; a submission's rate is ignored
    # loss per token and perplexity (the framework mixin's would average per example)
    _finalize_metrics = FinewebeduLmWorkload._finalize_metrics

    def _build_model(self) -> DecoderLM:
        return DecoderLM(self.model_config)

    def _sample_input(self) -> jax.Array:
        return jnp.zeros((1, self.model_config.seq_len), jnp.int32)

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key in ("embed", "lm_head")  # the tied or own head

    def model_fn(self, params: Any, augmented_and_preprocessed_input_batch: dict[str, Any],
                 model_state: Any, mode: spec.ForwardPassMode, rng: spec.RandomState,
                 update_batch_norm: bool, dropout_rate: float | None = None
                 ) -> tuple[jax.Array, Any]:
        """Next-token logits of ``batch["inputs"]`` (no dropout, so rng and mode are unused)."""
        del mode, rng, update_batch_norm, dropout_rate
        tokens = augmented_and_preprocessed_input_batch["inputs"].astype(jnp.int32)
        return self._module.apply({"params": params}, tokens), model_state

    def loss_fn(self, label_batch: jax.Array, logits_batch: jax.Array,
                mask_batch: jax.Array | None = None,
                label_smoothing: float = 0.0) -> dict[str, jax.Array]:
        """Per-token cross-entropy (float32), masked by per-token weights if given."""
        vocab = logits_batch.shape[-1]
        targets = optax.smooth_labels(jax.nn.one_hot(label_batch, vocab), label_smoothing)
        per_token = optax.softmax_cross_entropy(logits_batch.astype(jnp.float32), targets)
        return masked_loss(per_token, mask_batch)

    @functools.partial(jax.jit, static_argnums=0)
    def _eval_batch_sums(self, params: Any, batch: dict[str, jax.Array], model_state: Any,
                         rng: Any) -> dict[str, jax.Array]:
        logits, _ = self.model_fn(params, batch, model_state, spec.ForwardPassMode.EVAL, rng,
                                  update_batch_norm=False)
        out = self.loss_fn(batch["targets"], logits, batch["weights"])
        return {"loss": out["summed"], "num_examples": out["n_valid_examples"]}


__getattr__ = row_classes(__name__, ROWS, FinewebeduLmJaxWorkload)
