"""wmt in JAX/Flax (both scales): the workload class; the registry rows (``entries.py``)
make the classes of the base workload and its official variants.

    paceline run --workload wmt --framework jax --submission nadamw
    paceline run --workload wmt --framework jax --scale official --data-dir ~/data/wmt \\
        --submission nadamw

The model is model_jax.py (AlgoPerf's JAX Transformer). At dev scale it is the PyTorch dev
model's twin (same config, data, loss, greedy decoding and BLEU; attention probabilities
dropped as in PyTorch, initialised as upstream's JAX model); officially it is upstream's JAX
model, attention probabilities never dropped. Evaluation reports per-token loss and accuracy
and the BLEU of greedy (dev, greedy_jax.py) or beam-search (official, beam_search_jax.py)
translations, detokenised with the dev BPE or AlgoPerf's SentencePiece model.
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import Any

import jax
import jax.numpy as jnp
import optax

from sdk import spec
from workloads.common.jax_base import JaxWorkloadMixin, to_device_batch, unreplicate_for_api
from workloads.common.variants import row_classes
from workloads.wmt import config, official_data
from workloads.wmt.beam_search_jax import beam_search
from workloads.wmt.bleu import corpus_bleu
from workloads.wmt.bpe import EOS
from workloads.wmt.entries import ROWS
from workloads.wmt.greedy_jax import greedy_decode
from workloads.wmt.model_jax import Transformer
from workloads.wmt.workload import WmtWorkload

MODEL_KEYS = ("inputs_position", "targets_position", "inputs_segmentation",
              "targets_segmentation")


class WmtJaxWorkload(JaxWorkloadMixin, WmtWorkload):
    """The Flax Transformer on packed rows; no model state."""

    def _make_config(self) -> config.TransformerConfig:
        """The PyTorch workload's config; officially without attention-probability dropout,
        which upstream's JAX model never applies (AlgoPerf algoperf/workloads/wmt/wmt_jax/
        models.py), unless a model override sets it."""
        cfg = super()._make_config()
        if self.scale == "official" and "attention_dropout" not in (self.model_overrides or {}):
            cfg = replace(cfg, attention_dropout=False)
        return cfg

    def _build_model(self) -> Transformer:
        return Transformer(self.model_config)

    def _sample_input(self) -> jax.Array:
        return jnp.zeros((1, self.model_config.max_len), jnp.int32)

    def _init_variables(self, rng: spec.RandomState) -> tuple[Any, None]:
        tokens = self._sample_input()
        return jax.jit(self._module.init)(rng, tokens, tokens)["params"], None

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return "shared_embedding" in str(param_key)

    def model_fn(self, params: Any, augmented_and_preprocessed_input_batch: dict[str, Any],
                 model_state: Any, mode: spec.ForwardPassMode, rng: spec.RandomState,
                 update_batch_norm: bool, dropout_rate: float | None = None
                 ) -> tuple[jax.Array, Any]:
        """[B, L, vocab] logits; dropout (drawn from ``rng``) in training only."""
        del update_batch_norm
        batch = augmented_and_preprocessed_input_batch
        train = mode == spec.ForwardPassMode.TRAIN
        logits = self._module.apply(
            {"params": params}, batch["inputs"], batch["targets"],
            **{k: batch.get(k) for k in MODEL_KEYS},
            rate=self._dropout_rate(dropout_rate), train=train,
            rngs={"dropout": rng} if train and rng is not None else {})
        return logits, model_state

    def loss_fn(self, label_batch: jax.Array, logits_batch: jax.Array,
                mask_batch: jax.Array | None = None,
                label_smoothing: float = 0.0) -> dict[str, jax.Array]:
        """Token-level cross-entropy against (1-a) onehot + a / vocab, summed over ``mask``."""
        targets = optax.smooth_labels(jax.nn.one_hot(label_batch, logits_batch.shape[-1]),
                                      label_smoothing)
        per_token = -(targets * jax.nn.log_softmax(logits_batch)).sum(-1)
        mask = (label_batch > 0) if mask_batch is None else mask_batch
        per_token = jnp.where(mask, per_token, 0.0)
        return {"summed": per_token.sum(), "n_valid_examples": mask.sum(),
                "per_example": per_token}

    @functools.partial(jax.jit, static_argnums=0)
    def _eval_batch_sums(self, params: Any, batch: dict[str, jax.Array]
                         ) -> dict[str, jax.Array]:
        logits, _ = self.model_fn(params, batch, None, spec.ForwardPassMode.EVAL, None, False)
        weights = batch["weights"]
        correct = (logits.argmax(-1) == batch["targets"]) * weights
        return {"loss": self.loss_fn(batch["targets"], logits, weights)["summed"],
                "accuracy": correct.sum(), "tokens": weights.sum()}

    def _eval_model_on_split(self, split: str, num_examples: int, global_batch_size: int,
                             params: Any, model_state: Any, rng: Any, data_dir: str | None,
                             global_step: int = 0) -> dict[str, float]:
        """Token loss and accuracy, then translations (greedy at dev scale, beam search
        officially) scored with corpus BLEU."""
        del model_state, rng, global_step
        params = unreplicate_for_api(params, self.api_version)
        tokenizer = self.tokenizer(data_dir)
        totals = {"loss": 0.0, "accuracy": 0.0, "tokens": 0.0}
        hypotheses, references = [], []
        for batch in self._eval_batches(split, num_examples, global_batch_size, data_dir):
            sums = self._eval_batch_sums(params, to_device_batch(batch, "0.6"))
            totals = {k: totals[k] + float(v) for k, v in sums.items()}
            decoded = self._translate(params, batch["inputs"])
            hypotheses += [tokenizer.decode(row) for row in decoded]
            references += [tokenizer.decode(row) for row in batch["targets"]]
        tokens = max(totals.pop("tokens"), 1.0)
        return {"loss": totals["loss"] / tokens, "accuracy": totals["accuracy"] / tokens,
                "bleu": corpus_bleu(hypotheses, references)}

    def _translate(self, params: Any, inputs: Any) -> Any:
        """Token ids of the translations of ``inputs``: greedy at dev scale, as the PyTorch dev
        workload, beam search (4 beams, up to 256 positions) officially."""
        if self.scale == "dev":
            return greedy_decode(params, self.model_config, inputs, EOS)
        return beam_search(params, self.model_config, inputs, eos=official_data.EOS,
                           max_len=official_data.MAX_LEN)


__getattr__ = row_classes(__name__, ROWS, WmtJaxWorkload)
