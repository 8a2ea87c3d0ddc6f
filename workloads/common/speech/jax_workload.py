"""The JAX half both LibriSpeech families share: model_fn with batch-norm state, CTC loss
(``optax.ctc_loss``), WER evaluation with the family's greedy decoder.

Batches are AlgoPerf's: ``inputs = (audio [B, S], paddings [B, S])``, ``targets = (ids [B, L],
id_paddings [B, L])``. ``model_fn`` returns ``((logits [B, T, V], logit_paddings [B, T]),
model_state)``, the state being the masked BatchNorm's ``batch_stats``. A family adds
``_build_model()`` (a Flax module called as ``module(audio, paddings, train=, update_bn=,
dropout_rate=, input_dropout_rate=)``, normalised by ``self._frontend_stats()``) and
:meth:`is_output_params`.

    paceline run --workload librispeech_conformer --framework jax --submission nadamw
"""

from __future__ import annotations

import functools
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import optax

from sdk import spec
from sdk.frameworks import jax_sharding_utils as shard
from workloads.common.jax_base import JaxWorkloadMixin, unreplicate_for_api
from workloads.common.speech import metrics, text
from workloads.common.speech.workload import SpeechWorkload

# Dev batches are padded to a multiple of half a second: a handful of shapes to compile.
JAX_PAD_MULTIPLE = 8000
OFFICIAL_INIT_SAMPLES = 320_000  # AlgoPerf's init input length (20 s)


def speech_batch_to_device(batch: dict[str, Any], api_version: str) -> dict[str, Any]:
    """Numpy speech batch (tuples of arrays) -> device arrays laid out for ``api_version``."""
    if api_version == "0.5":
        n = jax.local_device_count()
        return jax.tree_util.tree_map(
            lambda v: jnp.asarray(v.reshape(n, -1, *v.shape[1:])), batch)
    return shard.shard_along_batch_dim(jax.tree_util.tree_map(jnp.asarray, batch))


def ctc_loss(label_batch: tuple[jax.Array, jax.Array], logits_batch: tuple[jax.Array, jax.Array],
             mask_batch: jax.Array | None = None) -> dict[str, jax.Array]:
    """CTC on log-softmax (blank 0); ``n_valid_examples`` counts non-padded target tokens."""
    targets, target_paddings = label_batch
    logits, logit_paddings = logits_batch
    per_example = optax.ctc_loss(jax.nn.log_softmax(logits), logit_paddings,
                                 targets.astype(jnp.int32), target_paddings,
                                 blank_id=text.BLANK_ID)
    tokens = (1 - target_paddings).sum(axis=1)
    if mask_batch is not None:
        per_example = per_example * mask_batch
        tokens = tokens * mask_batch
    return {"summed": per_example.sum(), "n_valid_examples": jnp.maximum(tokens.sum(), 1),
            "per_example": per_example}


class SpeechJaxWorkload(JaxWorkloadMixin, SpeechWorkload):
    """CTC speech recognition in JAX on top of :class:`SpeechWorkload`."""

    DROPOUT_RATE: ClassVar[float] = 0.1
    train_pad_multiple = JAX_PAD_MULTIPLE
    eval_pad_multiple = JAX_PAD_MULTIPLE

    @property
    def _default_dropout_rate(self) -> float:
        return self.DROPOUT_RATE

    def _sample_input(self) -> tuple[jax.Array, jax.Array]:
        samples = OFFICIAL_INIT_SAMPLES if self.scale != "dev" else JAX_PAD_MULTIPLE * 2
        return jnp.zeros((2, samples), jnp.float32), jnp.zeros((2, samples), jnp.float32)

    def _init_variables(self, rng: spec.RandomState) -> tuple[Any, Any]:
        """Parameters and the masked BatchNorms' ``batch_stats`` (inference-mode init)."""
        variables = jax.jit(self._module.init)(rng, *self._sample_input())
        return variables["params"], variables.get("batch_stats")

    def _to_device(self, batch: dict[str, Any], api_version: str) -> dict[str, Any]:
        return speech_batch_to_device(batch, api_version)

    def _rates(self, dropout_rate: Any) -> tuple[Any, Any]:
        """(residual/FF/attention rate, input rate). A v0.5 submission's init-time
        ``aux_dropout_rate`` is the input dropout, as in AlgoPerf v0.5's speech models."""
        rate = self._dropout_rate(dropout_rate)
        aux = self._init_aux_dropout_rate
        return rate, (float(aux) if dropout_rate is None and aux is not None else rate)

    def model_fn(self, params: Any, augmented_and_preprocessed_input_batch: dict[str, Any],
                 model_state: Any, mode: spec.ForwardPassMode, rng: spec.RandomState,
                 update_batch_norm: bool, dropout_rate: float | None = None
                 ) -> tuple[tuple[jax.Array, jax.Array], Any]:
        """Logits and paddings; in training the new ``batch_stats`` if ``update_batch_norm``."""
        train = mode == spec.ForwardPassMode.TRAIN
        rate, input_rate = self._rates(dropout_rate)
        audio, paddings = augmented_and_preprocessed_input_batch["inputs"]
        variables = {"params": params}
        if model_state is not None:  # None: no BatchNorm (DeepSpeech norm_and_spec_aug)
            variables["batch_stats"] = model_state
        kwargs = {"train": train, "update_bn": train and update_batch_norm,
                  "dropout_rate": rate, "input_dropout_rate": input_rate}
        if not train:
            return self._module.apply(variables, audio, paddings, **kwargs), model_state
        key = rng if rng is not None else jax.random.PRNGKey(0)
        drop_key, spec_key = jax.random.split(key)
        outputs, updates = self._module.apply(
            variables, audio, paddings, rngs={"dropout": drop_key, "specaug": spec_key},
            mutable=["batch_stats"], **kwargs)
        if update_batch_norm and model_state is not None:
            return outputs, updates["batch_stats"]
        return outputs, model_state

    def loss_fn(self, label_batch: tuple[jax.Array, jax.Array],
                logits_batch: tuple[jax.Array, jax.Array],
                mask_batch: jax.Array | None = None,
                label_smoothing: float = 0.0) -> dict[str, jax.Array]:
        """CTC loss; ``label_smoothing`` is ignored, as in AlgoPerf's speech workloads."""
        del label_smoothing
        return ctc_loss(label_batch, logits_batch, mask_batch)

    @functools.partial(jax.jit, static_argnums=0)
    def _eval_step(self, params: Any, batch: dict[str, Any], model_state: Any
                   ) -> dict[str, jax.Array]:
        (logits, paddings), _ = self.model_fn(params, batch, model_state,
                                              spec.ForwardPassMode.EVAL, None, False)
        loss = ctc_loss(batch["targets"], (logits, paddings))
        return {"loss": loss["summed"], "tokens": loss["n_valid_examples"],
                "frame_ids": logits.argmax(axis=-1), "paddings": paddings}

    def _eval_model_on_split(self, split: str, num_examples: int, global_batch_size: int,
                             params: Any, model_state: Any, rng: Any, data_dir: str | None,
                             global_step: int = 0) -> dict[str, float]:
        """CTC loss per target token and WER (word errors over reference words) on ``split``."""
        del rng, global_step
        params = unreplicate_for_api(params, self.api_version)
        model_state = unreplicate_for_api(model_state, self.api_version)
        totals = {"loss": 0.0, "tokens": 0.0, "errors": 0, "words": 0}
        for batch in self._eval_batches(split, num_examples, global_batch_size, data_dir):
            out = jax.device_get(self._eval_step(params, speech_batch_to_device(batch, "0.6"),
                                                 model_state))
            totals["loss"] += float(out["loss"])
            totals["tokens"] += float(out["tokens"])
            hyps = metrics.greedy_decode(np.asarray(out["frame_ids"]), np.asarray(out["paddings"]))
            ids, id_paddings = batch["targets"]
            refs = [row[pad == 0].astype(int) for row, pad in zip(ids, id_paddings, strict=True)]
            errors, words = metrics.wer_counts(hyps, refs, self.detokenize)
            totals["errors"] += errors
            totals["words"] += words
        return {"ctc_loss": totals["loss"] / max(totals["tokens"], 1.0),
                "wer": totals["errors"] / max(totals["words"], 1)}
