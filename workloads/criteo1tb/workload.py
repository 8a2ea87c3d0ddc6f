"""The framework-neutral half of the criteo1tb workload: its tables (sizes, batch sizes,
variants; numbers in numbers.py) and its batches, from the generated click log (dev) or
AlgoPerf's Criteo 1TB day files (official, :mod:`workloads.criteo1tb.official_data`).

    paceline run --workload criteo1tb --submission nadamw
    paceline run --workload criteo1tb_resnet --submission nadamw
    paceline run --workload criteo1tb --scale official --data-dir ~/data/criteo1tb \
        --submission nadamw
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from sdk import spec
from sdk.errors import PacelineError
from workloads.common.batching import TrainBatches, data_seed, eval_batches, round_up
from workloads.common.family import FamilyWorkload
from workloads.criteo1tb import clicklog, config, data, official_data
from workloads.criteo1tb.numbers import DEV_NUMBERS

# Batch sizes: the NAdamW baseline's official criteo1tb batch and the dev size it maps to;
# other requests scale proportionally (workloads.common.batching). Official eval batches are
# AlgoPerf's: 8,192 in PyTorch, 131,072 in JAX (algoperf/workloads/criteo1tb/criteo1tb_*/
# workload.py), which also makes the two frameworks' eval_train sizes differ.
BATCH = {"official_reference": 262_144, "dev_reference": 1024, "dev_eval": 8192,
         "official_eval": 8192, "official_eval_jax": 131_072}
OFFICIAL_SIZES = {"train": 4_195_197_692, "validation": 83_274_637, "test": 95_000_000}
# Dev sizes are those of `paceline data prepare criteo1tb` until a run has loaded its data;
# then the loaded files' sizes apply (a --data-dir may hold other sizes).
DEV_SIZES = {"train": clicklog.NUM_TRAIN_DAYS * clicklog.TRAIN_EXAMPLES_PER_DAY,
             "validation": clicklog.DAY23_EXAMPLES - clicklog.DAY23_EXAMPLES // 2,
             "test": clicklog.DAY23_EXAMPLES // 2}
EVAL_TRAIN_SEED = 23  # fixes which training examples form the eval_train subset

_SPLITS: dict[str, dict[str, dict[str, np.ndarray]]] = {}


def _key(data_dir: str | None) -> str:
    return str(Path(data_dir).expanduser()) if data_dir else ""


def load_splits(data_dir: str | None) -> dict[str, dict[str, np.ndarray]]:
    """The preprocessed dev splits (and the eval_train subset), loaded once per folder."""
    key = _key(data_dir)
    if key not in _SPLITS:
        splits = data.load(data_dir)
        n_eval = round_up(len(splits["validation"]["targets"]), BATCH["dev_eval"])
        pick = np.random.default_rng(EVAL_TRAIN_SEED).permutation(len(splits["train"]["targets"]))
        pick = np.sort(pick[:n_eval])
        splits["eval_train"] = {k: v[pick] for k, v in splits["train"].items()}
        _SPLITS[key] = splits
    return _SPLITS[key]


class Criteo1TbWorkload(FamilyWorkload):
    """criteo1tb at dev scale; framework subclasses add the model, registry rows the variants."""

    name = "criteo1tb"
    dev_numbers = DEV_NUMBERS
    batch = BATCH
    loss = spec.LossType.SIGMOID_CROSS_ENTROPY
    variants, variants_by_scale = config.VARIANTS, True
    _data_dir: str | None = None  # the folder a run has loaded its data from

    @property
    def eval_batch_size(self) -> int:
        if self.scale == "official" and self.framework == "jax":
            return self.batch["official_eval_jax"]
        return super().eval_batch_size

    def _make_config(self) -> config.DlrmConfig:
        return config.make_config(self.scale, self.model_overrides)

    def _loaded(self, split: str) -> int | None:
        splits = _SPLITS.get(_key(self._data_dir))
        return len(splits[split]["targets"]) if splits else None

    def _size(self, split: str) -> int:
        if split == "eval_train":
            # As upstream: the validation size rounded up to a whole number of eval batches
            # (capped by the training set of a small --data-dir).
            if self.scale == "dev" and self._loaded("eval_train"):
                return self._loaded("eval_train")
            return round_up(self._size("validation"), self.eval_batch_size)
        if self.scale != "dev":
            return OFFICIAL_SIZES[split]
        return self._loaded(split) or DEV_SIZES[split]

    # ---- batches --------------------------------------------------------------------------
    def _splits(self, data_dir: str | None) -> dict[str, dict[str, np.ndarray]]:
        self._data_dir = data_dir
        return load_splits(data_dir)

    @staticmethod
    def _official_root(data_dir: str | None) -> Path:
        if not data_dir:
            raise PacelineError("The official criteo1tb workloads need --data-dir with the "
                                "Criteo 1TB day files as AlgoPerf's dataset_setup.py splits "
                                "them (day_0_00 ... day_23_35; see docs/workloads/"
                                "criteo1tb.md).")
        root = official_data.folder(data_dir)
        if not root.is_dir():
            raise PacelineError(f"--data-dir {root} is not a directory.")
        return root

    def _numpy_train_batches(self, data_rng: Any, data_dir: str | None,
                             global_batch_size: int) -> TrainBatches | official_data.TrainStream:
        seed = data_seed(data_rng)
        size = self.effective_batch_size(global_batch_size)
        if self.scale != "dev":
            files = official_data.train_files(self._official_root(data_dir))
            return official_data.TrainStream(files, size, seed)
        return TrainBatches(self._splits(data_dir)["train"], size, seed)

    def _eval_batches(self, split: str, num_examples: int, batch_size: int,
                      data_dir: str | None) -> Iterator[dict[str, np.ndarray]]:
        if self.scale != "dev":
            root = self._official_root(data_dir)
            files = (official_data.eval_train_files(root) if split == "eval_train"
                     else official_data.split_files(root, split))
            return official_data.eval_batches(files, batch_size, num_examples)
        return eval_batches(self._splits(data_dir)[split], batch_size, num_examples,
                            pad=self.framework == "jax")
