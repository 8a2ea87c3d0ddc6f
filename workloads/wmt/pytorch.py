"""wmt in PyTorch (dev scale): the workload class and its official variants.

    paceline run --workload wmt --framework pytorch --submission nadamw
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from sdk import spec
from workloads.common.torch_base import TorchWorkloadMixin, device, seed_torch, to_torch
from workloads.wmt import config
from workloads.wmt.bleu import corpus_bleu
from workloads.wmt.bpe import EOS
from workloads.wmt.model_pytorch import Transformer, greedy_decode
from workloads.wmt.workload import WmtWorkload


class WmtPyTorchWorkload(TorchWorkloadMixin, WmtWorkload):
    framework = "pytorch"

    def init_model_fn(self, rng: spec.RandomState, dropout_rate: float | None = None,
                      aux_dropout_rate: float | None = None) -> spec.ModelInitState:
        if dropout_rate is not None or aux_dropout_rate is not None:
            self.set_init_dropout(dropout_rate, aux_dropout_rate)
        seed_torch(rng)
        model = Transformer(self.model_config).to(device())
        self._register_params(model)
        return model, None

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key.startswith("shared_embedding.")

    def _build_input_queue(self, data_rng: spec.RandomState, split: str, data_dir: str,
                           global_batch_size: int, cache: bool | None = None,
                           repeat_final_dataset: bool | None = None,
                           num_batches: int | None = None):
        del cache, repeat_final_dataset, num_batches
        dev = device()
        if split != "train":
            return (to_torch(b, dev) for b in
                    self._eval_batches(split, 10**9, global_batch_size, data_dir))
        batches = self._train_batches(data_rng, data_dir, global_batch_size)
        batches.transform = lambda b: to_torch(b, dev)
        return batches

    def model_fn(self, params: torch.nn.Module,
                 augmented_and_preprocessed_input_batch: dict[str, Any], model_state: Any,
                 mode: spec.ForwardPassMode, rng: spec.RandomState, update_batch_norm: bool,
                 dropout_rate: float | None = None) -> tuple[torch.Tensor, Any]:
        del rng, update_batch_norm
        rate = self.resolve_dropout(dropout_rate, self.model_config.dropout_rate)
        train = mode == spec.ForwardPassMode.TRAIN
        params.train(train)
        with torch.set_grad_enabled(train):
            logits = params(augmented_and_preprocessed_input_batch, rate)
        return logits, model_state

    def loss_fn(self, label_batch: torch.Tensor, logits_batch: torch.Tensor,
                mask_batch: torch.Tensor | None = None,
                label_smoothing: float = 0.0) -> dict[str, torch.Tensor]:
        """Token-level cross-entropy with targets smoothed to (1-a) onehot + a / vocab."""
        vocab = logits_batch.shape[-1]
        per_token = F.cross_entropy(logits_batch.reshape(-1, vocab), label_batch.reshape(-1),
                                    reduction="none", label_smoothing=label_smoothing
                                    ).view(label_batch.shape)
        if mask_batch is None:
            mask_batch = (label_batch > 0).to(per_token.dtype)
        per_token = per_token * mask_batch
        return {"summed": per_token.sum(), "n_valid_examples": mask_batch.sum(),
                "per_example": per_token}

    def _eval_model_on_split(self, split: str, num_examples: int, global_batch_size: int,
                             params: Any, model_state: Any, rng: Any, data_dir: str | None,
                             global_step: int = 0) -> dict[str, float]:
        del global_step
        dev = device()
        tokenizer = self.tokenizer(data_dir)
        loss = correct = tokens = 0.0
        hypotheses, references = [], []
        with torch.no_grad():
            for batch in self._eval_batches(split, num_examples, global_batch_size, data_dir):
                batch = to_torch(batch, dev)
                logits, _ = self.model_fn(params, batch, model_state,
                                          spec.ForwardPassMode.EVAL, rng, False)
                weights = batch["weights"]
                loss += float(self.loss_fn(batch["targets"], logits, weights)["summed"])
                correct += float(((logits.argmax(-1) == batch["targets"]) * weights).sum())
                tokens += float(weights.sum())
                decoded = greedy_decode(params, batch["inputs"], self.model_config.max_len,
                                        EOS)
                hypotheses += [tokenizer.decode(row) for row in decoded.cpu().numpy()]
                references += [tokenizer.decode(row) for row in batch["targets"].cpu().numpy()]
        tokens = max(tokens, 1.0)
        return {"loss": loss / tokens, "accuracy": correct / tokens,
                "bleu": corpus_bleu(hypotheses, references)}


def translate(workload: WmtPyTorchWorkload, model: Transformer, sources: list[str],
              data_dir: str | None = None) -> list[str]:
    """Greedy translations of Velan ``sources`` (for inspection and tests)."""
    from workloads.wmt.batching import pad_rows

    tokenizer = workload.tokenizer(data_dir)
    ids = pad_rows([np.array(tokenizer.encode(s) + [EOS]) for s in sources])
    decoded = greedy_decode(model, torch.from_numpy(ids).to(device()),
                            workload.model_config.max_len, EOS)
    return [tokenizer.decode(row) for row in decoded.cpu().numpy()]


class WmtPyTorchDev(WmtPyTorchWorkload):
    scale = "dev"


class WmtPostLnPyTorchDev(WmtPyTorchDev):
    name = "wmt_post_ln"
    variant_overrides = config.VARIANTS["wmt_post_ln"]


class WmtAttentionTempPyTorchDev(WmtPyTorchDev):
    name = "wmt_attention_temp"
    variant_overrides = config.VARIANTS["wmt_attention_temp"]


class WmtGluTanhPyTorchDev(WmtPyTorchDev):
    name = "wmt_glu_tanh"
    variant_overrides = config.VARIANTS["wmt_glu_tanh"]
