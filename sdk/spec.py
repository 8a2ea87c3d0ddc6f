"""The AlgoPerf submission and workload API (v0.6, with the v0.5 differences noted).

Names, enum values, signatures and semantics follow AlgoPerf's ``algoperf/spec.py``
(AlgoPerf's ``algoperf/spec.py``). Inside a paceline run ``from algoperf import spec`` and
``from algorithmic_efficiency import spec`` both resolve to this module, so a submission and
paceline's workloads share one set of enums and types.

This module imports neither torch nor jax.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Iterator
from typing import Any


class LossType(enum.Enum):
    SOFTMAX_CROSS_ENTROPY = 0
    SIGMOID_CROSS_ENTROPY = 1
    MEAN_SQUARED_ERROR = 2
    CTC_LOSS = 3
    MEAN_ABSOLUTE_ERROR = 4


class ForwardPassMode(enum.Enum):
    TRAIN = 0
    EVAL = 1


class ParameterType(enum.Enum):
    WEIGHT = 0
    BIAS = 1
    CONV_WEIGHT = 2
    BATCH_NORM_SCALE = 3
    BATCH_NORM_BIAS = 4
    LAYER_NORM_SCALE = 5
    LAYER_NORM_BIAS = 6
    EMBEDDING = 7
    ATTENTION_Q = 8
    ATTENTION_K = 9
    ATTENTION_V = 10
    ATTENTION_OUT = 11
    ATTENTION_QKV = 12
    ATTENTION_KV = 13
    ATTENTION_BIAS = 14


Tensor = Any


class ShapeTuple:
    """A parameter shape kept as a single pytree leaf."""

    def __init__(self, shape_tuple: tuple[int, ...]) -> None:
        self.shape_tuple = tuple(shape_tuple)

    def __repr__(self) -> str:
        return f"ShapeTuple({self.shape_tuple})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ShapeTuple) and self.shape_tuple == other.shape_tuple

    def __hash__(self) -> int:
        return hash(self.shape_tuple)


Shape = tuple[int, ...] | ShapeTuple
ParameterKey = str
ParameterShapeTree = dict[ParameterKey, Any]
ParameterTypeTree = dict[ParameterKey, Any]
ParameterContainer = Any  # nested dict of arrays (JAX) or torch.nn.Module (PyTorch)
RandomState = Any  # a JAX PRNG key, or a numpy int32 array of shape (2,) for PyTorch
OptimizerState = dict[str, Any] | tuple[Any, Any]
Hyperparameters = Any
Timing = int
Steps = int
ModelAuxiliaryState = Any
ModelInitState = tuple[ParameterContainer, ModelAuxiliaryState]
UpdateReturn = tuple[OptimizerState, ParameterContainer, ModelAuxiliaryState]


class TrainingCompleteError(Exception):
    """Raised by ``update_params`` to end training early."""


class Workload(metaclass=abc.ABCMeta):
    """The AlgoPerf workload interface: data, model, loss, metric, target and budget.

    Submissions may read any public property and call the public fixed functions
    (``init_model_fn``, ``model_fn``, ``loss_fn``, ``output_activation_fn``, ...), but never
    ``_build_input_queue``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        del args, kwargs
        self._param_shapes: ParameterShapeTree | None = None
        self._param_types: ParameterTypeTree | None = None
        self._eval_iters: dict[str, Iterator] = {}
        self.metrics_logger = None

    # ---- targets -------------------------------------------------------------------------
    @property
    @abc.abstractmethod
    def target_metric_name(self) -> str:
        """The name of the validation metric that decides time-to-target, e.g. ``'ssim'``."""

    @abc.abstractmethod
    def has_reached_validation_target(self, eval_result: dict[str, float]) -> bool:
        """Whether ``eval_result['validation/<metric>']`` beats the target (strictly)."""

    @abc.abstractmethod
    def has_reached_test_target(self, eval_result: dict[str, float]) -> bool:
        """Whether ``eval_result['test/<metric>']`` beats the test target (strictly)."""

    @property
    @abc.abstractmethod
    def validation_target_value(self) -> float: ...

    @property
    @abc.abstractmethod
    def test_target_value(self) -> float: ...

    # ---- data ----------------------------------------------------------------------------
    @abc.abstractmethod
    def _build_input_queue(
        self,
        data_rng: RandomState,
        split: str,
        data_dir: str,
        global_batch_size: int,
        cache: bool | None = None,
        repeat_final_dataset: bool | None = None,
        num_batches: int | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Batches of ``split`` (train, eval_train, validation, test). Not for submitters."""

    @property
    @abc.abstractmethod
    def loss_type(self) -> LossType: ...

    @property
    @abc.abstractmethod
    def num_train_examples(self) -> int: ...

    @property
    @abc.abstractmethod
    def eval_batch_size(self) -> int: ...

    @property
    @abc.abstractmethod
    def num_eval_train_examples(self) -> int: ...

    @property
    @abc.abstractmethod
    def num_validation_examples(self) -> int: ...

    @property
    @abc.abstractmethod
    def num_test_examples(self) -> int: ...

    @property
    @abc.abstractmethod
    def train_mean(self) -> Any: ...

    @property
    @abc.abstractmethod
    def train_stddev(self) -> Any: ...

    # ---- budget --------------------------------------------------------------------------
    @property
    @abc.abstractmethod
    def max_allowed_runtime_sec(self) -> float:
        """The external-tuning submission-time budget in seconds."""

    @property
    @abc.abstractmethod
    def eval_period_time_sec(self) -> float: ...

    @property
    @abc.abstractmethod
    def step_hint(self) -> int:
        """Approximate number of steps the baseline can take within the budget."""

    # ---- model ---------------------------------------------------------------------------
    @property
    def param_shapes(self) -> ParameterShapeTree:
        if self._param_shapes is None:
            raise ValueError("Call workload.init_model_fn() before reading param_shapes.")
        return self._param_shapes

    @property
    def model_params_types(self) -> ParameterTypeTree:
        if self._param_types is None:
            raise ValueError("Call workload.init_model_fn() before reading model_params_types.")
        return self._param_types

    @abc.abstractmethod
    def is_output_params(self, param_key: ParameterKey) -> bool: ...

    @abc.abstractmethod
    def init_model_fn(self, rng: RandomState) -> ModelInitState:
        """Return ``(initial_params, initial_model_state)``.

        v0.5 workloads took ``init_model_fn(rng, dropout_rate=None, aux_dropout_rate=None)``;
        paceline's workloads accept both forms.
        """

    @abc.abstractmethod
    def model_fn(
        self,
        params: ParameterContainer,
        augmented_and_preprocessed_input_batch: dict[str, Tensor],
        model_state: ModelAuxiliaryState,
        mode: ForwardPassMode,
        rng: RandomState,
        update_batch_norm: bool,
        dropout_rate: float | None = None,
    ) -> tuple[Tensor, ModelAuxiliaryState]:
        """Return ``(logits_batch, new_model_state)``."""

    def output_activation_fn(self, logits_batch: Tensor, framework: str) -> Tensor:
        """Turn logits into predictions according to :attr:`loss_type`."""
        if framework not in ("pytorch", "jax"):
            raise ValueError(f"`framework` must be 'pytorch' or 'jax', got {framework!r}.")
        if self.loss_type in (LossType.MEAN_SQUARED_ERROR, LossType.MEAN_ABSOLUTE_ERROR):
            return logits_batch
        if framework == "pytorch":
            import torch

            if self.loss_type == LossType.SIGMOID_CROSS_ENTROPY:
                return torch.sigmoid(logits_batch)
            return torch.softmax(logits_batch, dim=-1)
        import jax

        if self.loss_type == LossType.SIGMOID_CROSS_ENTROPY:
            return jax.nn.sigmoid(logits_batch)
        return jax.nn.softmax(logits_batch, axis=-1)

    @abc.abstractmethod
    def loss_fn(
        self,
        label_batch: Any,
        logits_batch: Any,
        mask_batch: Tensor | None = None,
        label_smoothing: float = 0.0,
    ) -> dict[str, Tensor]:
        """Return ``{'summed', 'n_valid_examples', 'per_example'}`` (not synced)."""

    @abc.abstractmethod
    def _eval_model_on_split(
        self,
        split: str,
        num_examples: int,
        global_batch_size: int,
        params: ParameterContainer,
        model_state: ModelAuxiliaryState,
        rng: RandomState,
        data_dir: str,
        global_step: int = 0,
    ) -> dict[str, float]:
        """Evaluate on one split and return plain floats."""

    def attach_metrics_logger(self, metrics_logger: Any) -> None:
        """Let a submission log extra scalars through ``workload.metrics_logger``."""
        self.metrics_logger = metrics_logger

    def eval_model(
        self,
        global_batch_size: int,
        params: ParameterContainer,
        model_state: ModelAuxiliaryState,
        rng: RandomState,
        data_dir: str,
        imagenet_v2_data_dir: str | None,
        global_step: int,
    ) -> dict[str, float]:
        """Evaluate on the train subset, validation and (if present) test splits."""
        del imagenet_v2_data_dir
        results: dict[str, float] = {}
        splits = [("eval_train", "train", self.num_eval_train_examples)]
        splits.append(("validation", "validation", self.num_validation_examples))
        try:
            num_test = self.num_test_examples
        except NotImplementedError:
            num_test = None
        if num_test is not None:
            splits.append(("test", "test", num_test))
        for split, prefix, num_examples in splits:
            metrics = self._eval_model_on_split(
                split,
                num_examples,
                global_batch_size,
                params,
                model_state,
                rng,
                data_dir,
                global_step,
            )
            for key, value in metrics.items():
                results[f"{prefix}/{key}"] = value
            if prefix != "train":
                results[f"{prefix}/num_examples"] = num_examples
        return results
