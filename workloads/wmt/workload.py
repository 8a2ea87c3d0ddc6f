"""The framework-neutral half of the wmt workload: its tables (sizes, batch sizes, variants;
numbers in numbers.py) and its batches, from the generated dev corpus or, at official scale,
from AlgoPerf's WMT data (official_data.py).

    paceline run --workload wmt --submission nadamw
    paceline run --workload wmt_post_ln --submission nadamw
    paceline run --workload wmt --scale official --data-dir ~/data/wmt --submission nadamw
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from sdk import spec
from sdk.errors import PacelineError
from workloads.common.batching import data_seed
from workloads.common.family import FamilyWorkload
from workloads.wmt import config, data, official_data
from workloads.wmt.batching import PairSplit, TrainPackedBatches, eval_pair_batches
from workloads.wmt.bpe import BpeTokenizer
from workloads.wmt.numbers import DEV_NUMBERS

# Evaluations translate the first sentences of each split (a tenth of a run's time at most).
DEV_SIZES = {"train": data.SPLIT_SIZES["train"], "eval_train": 100, "validation": 300,
             "test": 300}
OFFICIAL_SIZES = {"train": 5_906_184, "eval_train": 3_072, "validation": 3_000,
                  "test": 3_003}
# Batch sizes in rows: the NAdamW baseline's official wmt batch (AlgoPerf's algorithms/baselines/external_tuning/pytorch_nadamw_full_budget.py) and
# the dev size it maps to; other requests scale proportionally (workloads.common.batching).
# Dev rows hold data.MAX_LEN tokens (official: 256).
BATCH = {"official_reference": 128, "dev_reference": 32, "dev_eval": 300,
         "official_eval": 128}

EVAL_TRAIN_SEED = 0  # seeds the shuffle buffer that picks the official eval_train pairs

_DATA: dict[str, tuple[dict[str, PairSplit], BpeTokenizer]] = {}
_OFFICIAL: dict[str, official_data.OfficialWmt] = {}


def load_official(data_dir: str | None) -> official_data.OfficialWmt:
    """AlgoPerf's WMT data in ``data_dir`` (tokenizer loaded once per folder)."""
    if not data_dir:
        raise PacelineError("The official wmt workloads need --data-dir with AlgoPerf's WMT "
                            "data (see docs/workloads/wmt.md).")
    key = str(Path(data_dir).expanduser())
    if key not in _OFFICIAL:
        _OFFICIAL[key] = official_data.OfficialWmt(Path(key))
    return _OFFICIAL[key]


def load_splits(data_dir: str | None) -> tuple[dict[str, PairSplit], BpeTokenizer]:
    """The dev splits and tokenizer, loaded once per data folder."""
    key = str(Path(data_dir).expanduser()) if data_dir else ""
    if key not in _DATA:
        arrays, tokenizer = data.load(data_dir)
        _DATA[key] = ({k: PairSplit(v) for k, v in arrays.items()}, tokenizer)
    return _DATA[key]


class WmtWorkload(FamilyWorkload):
    """wmt at dev scale; framework subclasses add the model, registry rows the variants."""

    name = "wmt"
    dev_numbers = DEV_NUMBERS
    sizes = {"dev": DEV_SIZES, "official": OFFICIAL_SIZES}
    batch = BATCH
    loss = spec.LossType.SOFTMAX_CROSS_ENTROPY
    variants = config.VARIANTS

    def _make_config(self) -> config.TransformerConfig:
        vocab = data.VOCAB_SIZE if self.scale == "dev" else None
        cfg = config.make_config(self.scale, self.model_overrides, vocab)
        if self.scale == "dev" and cfg.max_len < data.MAX_LEN:
            raise PacelineError(f"wmt max_len must be at least {data.MAX_LEN} at dev "
                                "scale (the longest sequence).")
        return cfg

    # ---- batches --------------------------------------------------------------------------
    def _split(self, split: str, data_dir: str | None) -> PairSplit:
        return load_splits(data_dir)[0]["train" if split == "eval_train" else split]

    def tokenizer(self, data_dir: str | None) -> BpeTokenizer | official_data.Tokenizer:
        if self.scale != "dev":
            return load_official(data_dir).tokenizer
        return load_splits(data_dir)[1]

    def _numpy_train_batches(self, data_rng: Any, data_dir: str | None, global_batch_size: int
                             ) -> TrainPackedBatches | official_data.TrainStream:
        seed = data_seed(data_rng)
        rows = self.effective_batch_size(global_batch_size)
        if self.scale != "dev":
            return official_data.TrainStream(load_official(data_dir), rows, seed)
        return TrainPackedBatches(self._split("train", data_dir), rows, data.MAX_LEN, seed)

    def _eval_batches(self, split: str, num_examples: int, batch_size: int,
                      data_dir: str | None) -> Iterator[dict[str, np.ndarray]]:
        if self.scale == "dev":
            return eval_pair_batches(self._split(split, data_dir), batch_size, num_examples)
        pairs = load_official(data_dir).eval_pairs(split, num_examples, EVAL_TRAIN_SEED)
        return (official_data.pad_batch(pairs[i : i + batch_size])
                for i in range(0, len(pairs), batch_size))
