"""Shared PyTorch side of paceline workloads: devices, batches, and the workload mixin that
every PyTorch family builds on.

    paceline run --workload criteo1tb --framework pytorch --submission nadamw
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from sdk import distributed, spec
from sdk.frameworks.param_utils import pytorch_param_shapes, pytorch_param_types
from sdk.frameworks.pytorch_utils import pytorch_setup, update_batch_norm_fn
from sdk.workload import effective_batch
from workloads.common.batching import ALL_EXAMPLES, device_input_queue, eval_forward_rows


def device() -> torch.device:
    """The workload's device; under ``with torch.device("meta")`` the meta device, so
    ``init_model_fn`` builds shapes only (``paceline workloads`` counts parameters that way)."""
    if torch.get_default_device().type == "meta":
        return torch.get_default_device()
    return pytorch_setup()[2]


def to_torch(batch: dict[str, np.ndarray], dev: torch.device | None = None) -> dict[str, Any]:
    """Numpy batch -> torch tensors on the workload's device (no copy on CPU)."""
    dev = dev or device()
    out = {}
    for key, value in batch.items():
        t = torch.from_numpy(np.ascontiguousarray(value))
        out[key] = t.to(dev, non_blocking=True) if dev.type != "cpu" else t
    return out


def seed_torch(rng: Any) -> None:
    """Seed torch from an AlgoPerf numpy key, as AlgoPerf's PyTorch workloads do."""
    torch.manual_seed(int(np.asarray(rng).reshape(-1)[0]))


def masked_loss(per_example: torch.Tensor,
                mask_batch: torch.Tensor | None) -> dict[str, torch.Tensor]:
    """AlgoPerf's ``loss_fn`` result from unmasked per-example losses.

    ``mask_batch`` (``None``: every example counts) is laid out like ``per_example``; masked
    entries are zeroed, ``summed`` adds the rest and ``n_valid_examples`` counts them.
    """
    if mask_batch is not None:
        mask = mask_batch.reshape(per_example.shape).to(per_example.dtype)
        per_example = per_example * mask
        n_valid = mask.sum()
    else:
        n_valid = torch.tensor(float(per_example.numel()), device=per_example.device)
    return {"summed": per_example.sum(), "n_valid_examples": n_valid,
            "per_example": per_example}


class TorchWorkloadMixin:
    """The PyTorch half of a workload: ``init_model_fn``, input queues, ``model_fn``, evaluation.

    Put it first among the bases (``class FooPyTorchWorkload(TorchWorkloadMixin, FooWorkload)``).
    A family class adds ``_build_model()`` (its ``nn.Module``), ``is_output_params``,
    ``loss_fn`` and either ``_eval_batch_sums(params, batch, model_state, rng) -> {name: summed
    value}`` or its own ``_eval_model_on_split``. The family's framework-neutral workload
    provides ``_numpy_train_batches(data_rng, data_dir, global_batch_size)`` (a stream with a
    ``transform`` attribute, to which the device transfer is appended) and
    ``_eval_batches(split, num_examples, batch_size, data_dir)`` (numpy batches with
    ``weights``). Metrics are the sums divided by the number of real
    examples unless ``_finalize_metrics`` says otherwise.

    The default ``model_fn`` calls the model as ``model(batch["inputs"], dropout_rate)``
    (override ``_model_inputs`` or ``_forward`` for another call) and keeps no model state.
    """

    framework = "pytorch"
    channels_last = False  # store conv weights NHWC-ordered (see vision_torch_workload)

    # ---- the model ------------------------------------------------------------------------
    def _build_model(self) -> torch.nn.Module:
        """A freshly initialised model of this workload (from ``self.model_config``)."""
        raise NotImplementedError

    @property
    def _default_dropout_rate(self) -> float:
        """The rate ``model_fn`` uses when neither the call nor ``init_model_fn`` gives one."""
        return self.model_config.dropout_rate

    def init_model_fn(self, rng: spec.RandomState, dropout_rate: float | None = None,
                      aux_dropout_rate: float | None = None) -> spec.ModelInitState:
        """The model (it is the parameters) on the workload's device, seeded from ``rng``.

        v0.5 submissions pass their dropout rates here; ``model_fn`` then uses them.
        """
        if dropout_rate is not None or aux_dropout_rate is not None:
            self.set_init_dropout(dropout_rate, aux_dropout_rate)
        seed_torch(rng)
        model = self._build_model().to(device())
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        self._register_params(model)
        if distributed.world_size() > 1:  # as AlgoPerf's workloads: DDP when several ranks
            from torch.nn.parallel import DistributedDataParallel

            ids = [device().index] if device().type == "cuda" else None
            model = DistributedDataParallel(model, device_ids=ids, output_device=ids and ids[0])
        return model, None

    def _register_params(self, model: torch.nn.Module) -> None:
        self._param_shapes = pytorch_param_shapes(model)
        self._param_types = pytorch_param_types(self._param_shapes)

    # ---- input pipeline -------------------------------------------------------------------
    def _to_device(self, batch: dict[str, Any], dev: torch.device) -> dict[str, Any]:
        """A numpy batch as tensors on ``dev``."""
        return to_torch(batch, dev)

    def _build_input_queue(self, data_rng: spec.RandomState, split: str, data_dir: str,
                           global_batch_size: int, cache: bool | None = None,
                           repeat_final_dataset: bool | None = None,
                           num_batches: int | None = None):
        """Endless shuffled training batches, or one pass over an eval split, on device.

        Under DDP each rank gets its share of every global batch (``sdk.distributed``).
        """
        del cache, repeat_final_dataset, num_batches
        dev = device()
        if split == "train":
            distributed.check_batch_split(effective_batch(self, global_batch_size))
        return device_input_queue(self, data_rng, split, data_dir, global_batch_size,
                                  lambda b: self._to_device(distributed.rank_rows(b), dev),
                                  eval_examples=self._queue_eval_examples)

    def _queue_eval_examples(self, split: str) -> int:
        """How many examples an eval split's input queue covers (default: all of it)."""
        return ALL_EXAMPLES

    # ---- the forward pass -----------------------------------------------------------------
    @staticmethod
    def _set_mode(model: torch.nn.Module, mode: spec.ForwardPassMode,
                  update_batch_norm: bool) -> None:
        """Train or eval mode, and whether batch norm updates its running statistics."""
        if mode == spec.ForwardPassMode.TRAIN:
            model.train()
        else:
            model.eval()
        model.apply(lambda m: update_batch_norm_fn(m, update_batch_norm))

    def _model_inputs(self, batch: dict[str, Any]) -> Any:
        """What the model is called on: the batch's ``inputs``."""
        return batch["inputs"]

    def _forward(self, model: torch.nn.Module, inputs: Any, dropout_rate: float) -> Any:
        """The model's outputs on ``inputs`` with dropout at ``dropout_rate``."""
        return model(inputs, dropout_rate)

    def model_fn(self, params: torch.nn.Module,
                 augmented_and_preprocessed_input_batch: dict[str, Any], model_state: Any,
                 mode: spec.ForwardPassMode, rng: spec.RandomState, update_batch_norm: bool,
                 dropout_rate: float | None = None) -> tuple[torch.Tensor, Any]:
        """The outputs in train or eval mode; gradients are recorded in training only."""
        del rng, update_batch_norm
        rate = self.resolve_dropout(dropout_rate, self._default_dropout_rate)
        train = mode == spec.ForwardPassMode.TRAIN
        params.train(train)
        with torch.set_grad_enabled(train):
            inputs = self._model_inputs(augmented_and_preprocessed_input_batch)
            outputs = self._forward(params, inputs, rate)
        return outputs, model_state

    # ---- evaluation -----------------------------------------------------------------------
    def _eval_model_on_split(self, split: str, num_examples: int, global_batch_size: int,
                             params: Any, model_state: Any, rng: Any, data_dir: str | None,
                             global_step: int = 0) -> dict[str, float]:
        """Metrics on the first ``num_examples`` of ``split``: batch sums, then averages.

        Under DDP each rank sums its share of every batch and the sums are added up over
        the ranks (AlgoPerf's PyTorch workloads all-reduce their eval sums the same way).
        """
        del global_step
        totals: dict[str, float] = {}
        dev = device()
        with torch.no_grad():
            rows = eval_forward_rows(self, global_batch_size)
            for batch in self._eval_batches(split, num_examples, rows, data_dir):
                share = self._to_device(distributed.rank_rows(batch), dev)
                sums = self._eval_batch_sums(params, share, model_state, rng)
                for key, value in sums.items():
                    totals[key] = totals.get(key, 0.0) + float(value)
        return self._finalize_metrics(distributed.sum_over_ranks(totals), num_examples)

    def _finalize_metrics(self, totals: dict[str, float], num_examples: int) -> dict[str, float]:
        """Averages of the summed metrics: over the summed ``num_examples`` weights when the
        batch sums include them, else over ``num_examples``."""
        count = totals.pop("num_examples", num_examples)
        return {k: v / count for k, v in totals.items()}
