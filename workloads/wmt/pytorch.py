"""wmt in PyTorch (both scales): the workload class; the registry rows (``entries.py``)
make the classes of the base workload and its official variants.

    paceline run --workload wmt --framework pytorch --submission nadamw
    paceline run --workload wmt --scale official --data-dir ~/data/wmt --submission nadamw

Evaluation decodes greedily at dev scale and, officially, with AlgoPerf's beam search
(beam_search.py), detokenising with AlgoPerf's SentencePiece model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from sdk import spec
from workloads.common.torch_base import TorchWorkloadMixin, device, to_torch
from workloads.common.variants import row_classes
from workloads.wmt import official_data
from workloads.wmt.beam_search import beam_search
from workloads.wmt.bleu import corpus_bleu
from workloads.wmt.bpe import EOS
from workloads.wmt.entries import ROWS
from workloads.wmt.model_pytorch import Transformer, greedy_decode
from workloads.wmt.workload import WmtWorkload


class WmtPyTorchWorkload(TorchWorkloadMixin, WmtWorkload):
    """The Transformer on packed sentence pairs; eval adds greedy decoding and BLEU."""

    def _build_model(self) -> Transformer:
        return Transformer(self.model_config)

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key.startswith("shared_embedding.")

    def _model_inputs(self, batch: dict[str, Any]) -> dict[str, Any]:
        """The Transformer reads the whole batch (sources, targets, positions, segments)."""
        return batch

    def model_fn(self, params: Transformer,
                 augmented_and_preprocessed_input_batch: dict[str, Any], model_state: Any,
                 mode: spec.ForwardPassMode, rng: spec.RandomState, update_batch_norm: bool,
                 dropout_rate: float | None = None) -> tuple[torch.Tensor, Any]:
        """The logits. Officially, as AlgoPerf's algoperf/workloads/wmt/wmt_pytorch/
        workload.py: TRAIN leaves the model in whatever mode it is in (upstream switches to
        eval mode for EVAL and never back; dropout is on again only once the submission calls
        ``model.train()``, as AlgoPerf's baselines do in ``update_params``)."""
        if self.scale == "dev" or mode != spec.ForwardPassMode.TRAIN:
            return super().model_fn(params, augmented_and_preprocessed_input_batch,
                                    model_state, mode, rng, update_batch_norm, dropout_rate)
        rate = self.resolve_dropout(dropout_rate, self._default_dropout_rate)
        with torch.enable_grad():
            return params(augmented_and_preprocessed_input_batch, rate), model_state

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
        """Token loss and accuracy, then greedy translations scored with corpus BLEU."""
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
                hypotheses += [tokenizer.decode(row) for row in self._translate(params, batch)]
                references += [tokenizer.decode(row) for row in batch["targets"].cpu().numpy()]
        tokens = max(tokens, 1.0)
        return {"loss": loss / tokens, "accuracy": correct / tokens,
                "bleu": corpus_bleu(hypotheses, references)}

    def _translate(self, model: Transformer, batch: dict[str, torch.Tensor]) -> np.ndarray:
        """Token ids of the translations of ``batch["inputs"]``: greedy at dev scale, beam
        search (4 beams, up to 256 positions) officially."""
        if self.scale == "dev":
            decoded = greedy_decode(model, batch["inputs"], self.model_config.max_len, EOS)
        else:
            decoded = beam_search(model, batch["inputs"], eos=official_data.EOS,
                                  max_len=official_data.MAX_LEN)
        return decoded.cpu().numpy()


def translate(workload: WmtPyTorchWorkload, model: Transformer, sources: list[str],
              data_dir: str | None = None) -> list[str]:
    """Greedy translations of Velan ``sources`` (for inspection and tests)."""
    from workloads.wmt.batching import pad_rows

    tokenizer = workload.tokenizer(data_dir)
    ids = pad_rows([np.array(tokenizer.encode(s) + [EOS]) for s in sources])
    decoded = greedy_decode(model, torch.from_numpy(ids).to(device()),
                            workload.model_config.max_len, EOS)
    return [tokenizer.decode(row) for row in decoded.cpu().numpy()]


__getattr__ = row_classes(__name__, ROWS, WmtPyTorchWorkload)
