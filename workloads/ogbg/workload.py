"""The framework-neutral half of the ogbg workload: its tables (numbers, sizes, batch sizes,
variants) and its batches, from the dev data or (official scale) TFDS ogbg_molpcba.

    paceline run --workload ogbg --submission nadamw
    paceline run --workload ogbg_model_size --submission nadamw
    paceline run --scale official --workload ogbg --submission nadamw --data-dir DIR
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sdk import spec
from workloads.common.batching import data_seed
from workloads.common.family import FamilyWorkload
from workloads.ogbg import config, data, official_data
from workloads.ogbg.batching import (
    OFFICIAL_AVG_EDGES_PER_GRAPH,
    OFFICIAL_AVG_NODES_PER_GRAPH,
    GraphSplit,
    TrainGraphBatches,
    eval_graph_batches,
)
from workloads.ogbg.numbers import DEV_NUMBERS

# Evaluations use the first 2,500 graphs of each split (a tenth of a run's time at most).
DEV_SIZES = {"train": round(data.NUM_MOLECULES * data.SPLIT_FRACTIONS["train"]),
             "eval_train": 2500, "validation": 2500, "test": 2500}
OFFICIAL_SIZES = {"train": 350_343, "eval_train": 43_793, "validation": 43_793,
                  "test": 43_793}
# Batch sizes: the NAdamW baseline's official ogbg batch (AlgoPerf's algorithms/baselines/external_tuning/pytorch_nadamw_full_budget.py) and the dev
# size it maps to; other requests scale proportionally (workloads.common.batching).
BATCH = {"official_reference": 512, "dev_reference": 128, "dev_eval": 1024,
         "official_eval": 32_768}

_SPLITS: dict[str, dict[str, GraphSplit]] = {}


def load_splits(data_dir: str | None) -> dict[str, GraphSplit]:
    """The dev splits as :class:`GraphSplit` objects, loaded once per data folder."""
    key = str(Path(data_dir).expanduser()) if data_dir else ""
    if key not in _SPLITS:
        _SPLITS[key] = {name: GraphSplit(arrays) for name, arrays in data.load(data_dir).items()}
    return _SPLITS[key]


def load_official_split(data_dir: str | None, split: str) -> GraphSplit:
    """One split of TFDS ogbg_molpcba (``official_data``), batched with the official budgets,
    loaded once per data folder and split."""
    key = f"official:{official_data.version_dir(data_dir)}:{split}"
    if key not in _SPLITS:
        _SPLITS[key] = {split: GraphSplit(official_data.load_split(data_dir, split),
                                          OFFICIAL_AVG_NODES_PER_GRAPH,
                                          OFFICIAL_AVG_EDGES_PER_GRAPH)}
    return _SPLITS[key][split]


class OgbgWorkload(FamilyWorkload):
    """ogbg at dev scale; framework subclasses add the model, registry rows the variants."""

    name = "ogbg"
    dev_numbers = DEV_NUMBERS
    sizes = {"dev": DEV_SIZES, "official": OFFICIAL_SIZES}
    batch = BATCH
    # Upstream quirk kept for compatibility: the loss is sigmoid BCE, the property says
    # softmax (AlgoPerf's algoperf/workloads/ogbg/workload.py).
    loss = spec.LossType.SOFTMAX_CROSS_ENTROPY
    variants, variants_by_scale = config.VARIANTS, True

    def _make_config(self) -> config.GnnConfig:
        return config.make_config(self.scale, self.model_overrides)

    # ---- batches --------------------------------------------------------------------------
    def _split(self, split: str, data_dir: str | None) -> GraphSplit:
        name = "train" if split == "eval_train" else split
        if self.scale == "official":
            return load_official_split(data_dir, name)
        return load_splits(data_dir)[name]

    def _numpy_train_batches(self, data_rng: Any, data_dir: str | None,
                             global_batch_size: int) -> TrainGraphBatches:
        seed = data_seed(data_rng)
        return TrainGraphBatches(self._split("train", data_dir),
                                 self.effective_batch_size(global_batch_size), seed)

    def _eval_batches(self, split: str, num_examples: int, batch_size: int,
                      data_dir: str | None) -> Iterator[dict[str, Any]]:
        return eval_graph_batches(self._split(split, data_dir), batch_size, num_examples)
