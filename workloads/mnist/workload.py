"""The framework-neutral half of the MNIST workload: numbers, splits, input pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from sdk import spec
from sdk.rulesets import WorkloadNumbers
from sdk.workload import PacelineWorkload
from workloads.common.batching import TrainBatches, eval_batches
from workloads.mnist import data

# Dev-scale numbers, from `paceline targets mnist --scale dev` (see docs/workloads.md).
# The same in both ruleset versions: AlgoPerf never changed MNIST's numbers.
DEV_NUMBERS = WorkloadNumbers(
    target_metric_name="accuracy",
    validation_target_value=0.915,
    test_target_value=0.91,
    max_allowed_runtime_sec=20.0,
    eval_period_time_sec=1.0,
    step_hint=10000,
    metric_minimized=False,
)
DEV_SIZES = {"train": 3000, "eval_train": 1000, "validation": 1000, "test": 1000}
OFFICIAL_SIZES = {"train": 50_000, "eval_train": 10_000, "validation": 10_000, "test": 10_000}


class MnistWorkload(PacelineWorkload):
    """MNIST at ``dev`` or ``official`` scale; subclasses bind a framework and a scale."""

    name = "mnist"

    @classmethod
    def numbers_for(cls, version: str) -> WorkloadNumbers:
        return DEV_NUMBERS if cls.scale == "dev" else cls.official_numbers(version)

    @property
    def _sizes(self) -> dict[str, int]:
        return DEV_SIZES if self.scale == "dev" else OFFICIAL_SIZES

    @property
    def loss_type(self) -> spec.LossType:
        return spec.LossType.SOFTMAX_CROSS_ENTROPY

    @property
    def num_train_examples(self) -> int:
        return self._sizes["train"]

    @property
    def num_eval_train_examples(self) -> int:
        return self._sizes["eval_train"]

    @property
    def num_validation_examples(self) -> int:
        return self._sizes["validation"]

    @property
    def num_test_examples(self) -> int:
        return self._sizes["test"]

    @property
    def eval_batch_size(self) -> int:
        return 1000 if self.scale == "dev" else 10_000

    @property
    def train_mean(self) -> float:
        return data.MEAN

    @property
    def train_stddev(self) -> float:
        return data.STD

    def _data(self, data_dir: str | None) -> dict[str, dict[str, np.ndarray]]:
        key = data_dir or ""
        cache = self.__dict__.setdefault("_data_cache", {})
        if key not in cache:
            cache[key] = data.load(self.scale, data_dir)
        return cache[key]

    def _numpy_train_batches(self, data_rng: Any, data_dir: str | None,
                             global_batch_size: int) -> TrainBatches:
        seed = int(np.asarray(data_rng).reshape(-1)[0]) & 0x7FFFFFFF
        return TrainBatches(self._data(data_dir)["train"], global_batch_size, seed)

    def _eval_batches(self, split: str, num_examples: int, batch_size: int,
                      data_dir: str | None) -> Iterator[dict[str, np.ndarray]]:
        source = "train" if split == "eval_train" else split
        return eval_batches(self._data(data_dir)[source], batch_size, num_examples,
                            pad=self.framework == "jax")
