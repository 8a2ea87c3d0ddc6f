"""finewebedu_lm in PyTorch (both scales): the workload class; the registry rows
(``entries.py``) make its dev and official classes.

    paceline run --workload finewebedu_lm --ruleset-version latest --submission nadamw
"""

from __future__ import annotations

import contextlib
from typing import Any

import torch
import torch.nn.functional as F

from sdk import spec
from workloads.common.torch_base import TorchWorkloadMixin, masked_loss
from workloads.common.variants import row_classes
from workloads.finewebedu_lm.entries import ROWS
from workloads.finewebedu_lm.model_pytorch import DecoderLM
from workloads.finewebedu_lm.workload import FinewebeduLmWorkload


class FinewebeduLmPyTorchWorkload(TorchWorkloadMixin, FinewebeduLmWorkload):
    """The decoder of ``model_pytorch``; no dropout and no model state, as upstream."""

    _default_dropout_rate = 0.0  # the model has no dropout; a submission's rate is ignored
    # loss per token and perplexity (the framework mixin's would average per example)
    _finalize_metrics = FinewebeduLmWorkload._finalize_metrics

    def _build_model(self) -> DecoderLM:
        return DecoderLM(self.model_config)

    def _autocast(self, dev: torch.device) -> Any:
        """bfloat16 autocast where the config computes in it (official), else nothing."""
        if self.model_config.compute_dtype == "bfloat16":
            return torch.autocast(device_type=dev.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    def _forward(self, model: DecoderLM, inputs: torch.Tensor, dropout_rate: float
                 ) -> torch.Tensor:
        del dropout_rate
        with self._autocast(inputs.device):
            return model(inputs.long())

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key in ("embed.weight", "lm_head.weight")  # the tied or own head

    def loss_fn(self, label_batch: torch.Tensor, logits_batch: torch.Tensor,
                mask_batch: torch.Tensor | None = None,
                label_smoothing: float = 0.0) -> dict[str, torch.Tensor]:
        """Per-token cross-entropy (float32), masked by per-token weights if given."""
        vocab = logits_batch.shape[-1]
        per_token = F.cross_entropy(logits_batch.float().reshape(-1, vocab),
                                    label_batch.reshape(-1).long(), reduction="none",
                                    label_smoothing=label_smoothing).view(label_batch.shape)
        return masked_loss(per_token, mask_batch)

    def _eval_batch_sums(self, params: DecoderLM, batch: dict[str, Any], model_state: Any,
                         rng: Any) -> dict[str, torch.Tensor]:
        logits, _ = self.model_fn(params, batch, model_state, spec.ForwardPassMode.EVAL, rng,
                                  False)
        out = self.loss_fn(batch["targets"], logits, batch["weights"])
        return {"loss": out["summed"], "num_examples": out["n_valid_examples"]}


__getattr__ = row_classes(__name__, ROWS, FinewebeduLmPyTorchWorkload)
