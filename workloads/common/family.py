"""The framework-neutral base of a workload family, filled in from the family's tables.

A family's ``workload.py`` sets the tables below and adds what is its own (data loading,
batches); the numbers come from ``numbers.py``, the model from ``config.py``:

    class OgbgWorkload(FamilyWorkload):
        name = "ogbg"
        dev_numbers = DEV_NUMBERS                 # {workload: calibrated (v0.5) numbers}
        sizes = {"dev": {...}, "official": {...}}  # examples per split
        batch = {"official_reference": 512, "dev_reference": 128,
                 "dev_eval": 1024, "official_eval": 32_768}
        loss = spec.LossType.SOFTMAX_CROSS_ENTROPY
        variants, variants_by_scale = config.VARIANTS, True

        def _make_config(self): return config.make_config(self.scale, self.model_overrides)

Sizes, eval batch size, the dev batch-size rule (the baseline's official batch maps to
``dev_reference``, other requests scale proportionally), the ruleset numbers, the model config
(built once, on first use) and each variant's model changes then come from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from sdk import spec
from sdk.rulesets import WorkloadNumbers
from sdk.workload import PacelineWorkload
from workloads.common.batching import dev_batch_size
from workloads.common.numbers import dev_numbers


def _split_size(split: str) -> property:
    """The ``num_<split>_examples`` property of the workload API: ``self._size(split)``."""

    def size(self: FamilyWorkload) -> int:
        return self._size(split)

    return property(size, doc=f"Examples in the {split} split at this scale.")


class FamilyWorkload(PacelineWorkload):
    """A workload family described by tables; subclasses set them and add the data."""

    # {workload name: calibrated (v0.5) numbers} at dev scale; every version's follow from
    # them (workloads/common/numbers.py); official numbers: sdk.rulesets
    dev_numbers: ClassVar[Mapping[str, WorkloadNumbers]] = {}
    # {scale: {split: examples}}; splits: train, eval_train, validation, test
    sizes: ClassVar[Mapping[str, Mapping[str, int]]] = {}
    # official_reference -> dev_reference is the dev batch-size rule; {scale}_eval the eval batch
    batch: ClassVar[Mapping[str, int]] = {}
    loss: ClassVar[spec.LossType] = spec.LossType.SOFTMAX_CROSS_ENTROPY
    # {variant name: model overrides}, or {variant name: {scale: overrides}} if by scale
    variants: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    variants_by_scale: ClassVar[bool] = False

    # ---- numbers, variants, model ---------------------------------------------------------
    @classmethod
    def numbers_for(cls, version: str) -> WorkloadNumbers:
        if cls.scale != "dev":
            return cls.official_numbers(version)
        return dev_numbers(cls.name, cls.dev_numbers[cls.name], version, cls.framework)

    @classmethod
    def overrides_of(cls, name: str) -> Mapping[str, Any]:
        """The model changes that make ``name`` a variant of this family (at ``cls.scale``)."""
        table = cls.variants.get(name, {})
        return table.get(cls.scale, {}) if cls.variants_by_scale else table

    def _make_config(self) -> Any:
        """The model config of this scale with ``self.model_overrides`` applied and checked.

        A family without a model config (MNIST) keeps this default: it has no
        ``model_config`` attribute.
        """
        raise AttributeError(f"{type(self).__name__} has no model config")

    @property
    def model_config(self) -> Any:
        if "_model_config" not in self.__dict__:
            self._model_config = self._make_config()
        return self._model_config

    # ---- sizes ----------------------------------------------------------------------------
    @property
    def loss_type(self) -> spec.LossType:
        return self.loss

    def _size(self, split: str) -> int:
        """Examples in ``split`` at this scale (a family with data-dependent sizes overrides)."""
        return self.sizes[self.scale][split]

    num_train_examples = _split_size("train")
    num_eval_train_examples = _split_size("eval_train")
    num_validation_examples = _split_size("validation")
    num_test_examples = _split_size("test")

    @property
    def eval_batch_size(self) -> int:
        return self.batch[f"{self.scale}_eval"]

    @property
    def train_mean(self) -> Any:
        raise NotImplementedError  # no input normalisation outside the model

    @property
    def train_stddev(self) -> Any:
        raise NotImplementedError

    def effective_batch_size(self, requested: int) -> int:
        """Dev scale: ``requested * dev_reference / official_reference`` (at least 1)."""
        if self.scale != "dev":
            return int(requested)
        return dev_batch_size(requested, self.batch["official_reference"],
                              self.batch["dev_reference"])
