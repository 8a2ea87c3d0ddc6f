"""The framework-neutral half of the MNIST workload: its tables (sizes, eval batch sizes;
numbers in numbers.py) and the input pipeline."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from sdk import spec
from sdk.rulesets import WorkloadNumbers
from workloads.common.batching import TrainBatches, data_seed, eval_batches
from workloads.common.family import FamilyWorkload
from workloads.mnist import data
from workloads.mnist.numbers import DEV_NUMBERS

DEV_SIZES = {"train": 3000, "eval_train": 1000, "validation": 1000, "test": 1000}
OFFICIAL_SIZES = {"train": 50_000, "eval_train": 10_000, "validation": 10_000, "test": 10_000}


class MnistWorkload(FamilyWorkload):
    """MNIST at ``dev`` or ``official`` scale; registry rows bind a framework and a scale."""

    name = "mnist"
    sizes = {"dev": DEV_SIZES, "official": OFFICIAL_SIZES}
    batch = {"dev_eval": 1000, "official_eval": 10_000}
    loss = spec.LossType.SOFTMAX_CROSS_ENTROPY

    @classmethod
    def numbers_for(cls, version: str) -> WorkloadNumbers:
        """The dev numbers (one table for every version; read here, so tests can swap it)."""
        return DEV_NUMBERS if cls.scale == "dev" else cls.official_numbers(version)

    @property
    def train_mean(self) -> float:
        return data.MEAN

    @property
    def train_stddev(self) -> float:
        return data.STD

    def effective_batch_size(self, requested: int) -> int:
        """The requested size at both scales (MNIST's dev data is not scaled down)."""
        return int(requested)

    def _data(self, data_dir: str | None) -> dict[str, dict[str, np.ndarray]]:
        key = data_dir or ""
        cache = self.__dict__.setdefault("_data_cache", {})
        if key not in cache:
            cache[key] = data.load(self.scale, data_dir)
        return cache[key]

    def _numpy_train_batches(self, data_rng: Any, data_dir: str | None,
                             global_batch_size: int) -> TrainBatches:
        seed = data_seed(data_rng)
        return TrainBatches(self._data(data_dir)["train"], global_batch_size, seed)

    def _eval_batches(self, split: str, num_examples: int, batch_size: int,
                      data_dir: str | None) -> Iterator[dict[str, np.ndarray]]:
        source = "train" if split == "eval_train" else split
        return eval_batches(self._data(data_dir)[source], batch_size, num_examples,
                            pad=self.framework == "jax")
