"""The PyTorch half both LibriSpeech families share: model_fn, CTC loss_fn, WER evaluation.

Logits and labels are ``(values, paddings)`` tuples, as in AlgoPerf: ``model_fn`` returns
``((logits [B, T, V], logit_paddings [B, T]), None)``; ``loss_fn`` takes
``label_batch = (ids [B, L], id_paddings [B, L])``. A family adds ``_build_model()`` (its
model, normalised by ``self._frontend_stats()``) and :meth:`is_output_params`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from sdk import spec
from workloads.common.speech import metrics, text
from workloads.common.speech.workload import SpeechWorkload
from workloads.common.torch_base import TorchWorkloadMixin, device


def to_torch_nested(batch: dict[str, Any], dev: torch.device) -> dict[str, Any]:
    """Numpy arrays (also inside tuples) -> tensors on ``dev``."""
    def convert(x: Any) -> Any:
        if isinstance(x, tuple):
            return tuple(convert(v) for v in x)
        t = torch.from_numpy(np.ascontiguousarray(x))
        return t.to(dev, non_blocking=True) if dev.type != "cpu" else t
    return {k: convert(v) for k, v in batch.items()}


class SpeechTorchWorkload(TorchWorkloadMixin, SpeechWorkload):
    """CTC speech recognition in PyTorch on top of :class:`SpeechWorkload`."""

    framework = "pytorch"
    DROPOUT_RATE: ClassVar[float] = 0.1

    def _dropout_rates(self, dropout_rate: float | None) -> tuple[float, float]:
        """(residual/FF/attention rate, input rate). A v0.5 submission's init-time
        ``aux_dropout_rate`` is the input dropout, as in AlgoPerf v0.5's speech models."""
        rate = self.resolve_dropout(dropout_rate, self.DROPOUT_RATE)
        aux = self._init_aux_dropout_rate
        return rate, (float(aux) if dropout_rate is None and aux is not None else rate)

    def model_fn(self, params: nn.Module, augmented_and_preprocessed_input_batch: dict[str, Any],
                 model_state: Any, mode: spec.ForwardPassMode, rng: spec.RandomState,
                 update_batch_norm: bool, dropout_rate: float | None = None
                 ) -> tuple[tuple[torch.Tensor, torch.Tensor], Any]:
        del rng
        self._set_mode(params, mode, update_batch_norm)
        rate, input_rate = self._dropout_rates(dropout_rate)
        audio, paddings = augmented_and_preprocessed_input_batch["inputs"]
        dev = device()
        with torch.set_grad_enabled(mode == spec.ForwardPassMode.TRAIN):
            logits, logit_paddings = params(audio.to(dev), paddings.to(dev), rate, input_rate)
        return (logits, logit_paddings), None

    def loss_fn(self, label_batch: tuple[torch.Tensor, torch.Tensor],
                logits_batch: tuple[torch.Tensor, torch.Tensor],
                mask_batch: torch.Tensor | None = None,
                label_smoothing: float = 0.0) -> dict[str, torch.Tensor]:
        """CTC on log-softmax (blank 0); ``n_valid_examples`` counts non-padded target tokens.

        ``label_smoothing`` is ignored, as in AlgoPerf's speech workloads.
        """
        del label_smoothing
        targets, target_paddings = label_batch
        logits, logit_paddings = logits_batch
        log_probs = F.log_softmax(logits, dim=-1).transpose(0, 1)
        input_lengths = (1 - logit_paddings).sum(dim=1).long()
        target_lengths = (1 - target_paddings).sum(dim=1).long()
        per_example = F.ctc_loss(log_probs, targets.long(), input_lengths, target_lengths,
                                 blank=text.BLANK_ID, reduction="none")
        tokens = target_lengths.to(per_example.dtype)
        if mask_batch is not None:
            per_example = per_example * mask_batch
            tokens = tokens * mask_batch
        return {"summed": per_example.sum(), "n_valid_examples": tokens.sum().clamp(min=1),
                "per_example": per_example}

    def _eval_model_on_split(self, split: str, num_examples: int, global_batch_size: int,
                             params: Any, model_state: Any, rng: Any, data_dir: str | None,
                             global_step: int = 0) -> dict[str, float]:
        del global_step
        totals = {"loss": 0.0, "tokens": 0.0, "errors": 0, "words": 0}
        dev = device()
        with torch.no_grad():
            for batch in self._eval_batches(split, num_examples, global_batch_size, data_dir):
                batch = self._to_device(batch, dev)
                (logits, paddings), _ = self.model_fn(
                    params, batch, model_state, spec.ForwardPassMode.EVAL, rng,
                    update_batch_norm=False)
                loss = self.loss_fn(batch["targets"], (logits, paddings))
                totals["loss"] += float(loss["summed"])
                totals["tokens"] += float(loss["n_valid_examples"])
                hyps = metrics.greedy_decode(logits.argmax(dim=-1).cpu().numpy(),
                                             paddings.cpu().numpy())
                ids, id_paddings = (t.cpu().numpy() for t in batch["targets"])
                refs = [row[pad == 0].astype(int) for row, pad in zip(ids, id_paddings,
                                                                         strict=True)]
                errors, words = metrics.wer_counts(hyps, refs, self.detokenize)
                totals["errors"] += errors
                totals["words"] += words
        return {"ctc_loss": totals["loss"] / max(totals["tokens"], 1.0),
                "wer": totals["errors"] / max(totals["words"], 1)}

    def _to_device(self, batch: dict[str, Any], dev: torch.device) -> dict[str, Any]:
        return to_torch_nested(batch, dev)

    def _queue_eval_examples(self, split: str) -> int:
        return {"eval_train": self.num_eval_train_examples,
                "validation": self.num_validation_examples,
                "test": self.num_test_examples}[split]
