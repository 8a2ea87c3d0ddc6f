"""The framework-neutral half of the finewebedu_lm workload: its tables (sizes, batch sizes;
numbers in numbers.py), its batches and its metrics (loss and perplexity).

    paceline run --workload finewebedu_lm --ruleset-version latest --submission nadamw
    paceline run --workload finewebedu_lm --ruleset-version latest --framework jax --submission nadamw
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from sdk import spec
from sdk.errors import PacelineError
from sdk.rulesets import LATEST, WorkloadNumbers, get_ruleset, resolve_version
from workloads.common.batching import data_seed
from workloads.common.family import FamilyWorkload
from workloads.finewebedu_lm import config, data, official_data
from workloads.finewebedu_lm.numbers import DEV_NUMBERS
from workloads.finewebedu_lm.windows import TokenStream, TrainWindows, WindowSplit, eval_windows

# Windows of seq_len + 1 tokens. Dev: train is every window of the prepared corpus; the
# evaluations read the first windows of each split (a tenth of a run's time at most).
DEV_SIZES = {"eval_train": 32, "validation": 128}
# AlgoPerf algoperf/workloads/finewebedu_lm/workload.py; no test split.
OFFICIAL_SIZES = {"train": 8_749_870, "eval_train": 10_000, "validation": 100_000}
# Batch sizes in windows: the baselines' official finewebedu_lm batch (AlgoPerf's
# reference_algorithms get_batch_size) and the dev size it maps to (4 windows, 512 tokens: a
# step short enough that a CPU-minute budget holds ~1,500 steps); eval batches as upstream.
BATCH = {"official_reference": 64, "dev_reference": 4, "dev_eval": 64, "official_eval": 256}

_SPLITS: dict[tuple[str, str, int], WindowSplit] = {}


def load_split(scale: str, split: str, data_dir: str | None, seq_len: int) -> WindowSplit:
    """A split's windows, read once per (scale, data folder, split)."""
    source = "train" if split == "eval_train" else split
    key = (scale, f"{Path(data_dir).expanduser() if data_dir else ''}:{source}", seq_len)
    if key not in _SPLITS:
        if scale == "dev":
            stream = TokenStream([data.load(data_dir)[source]])
        elif not data_dir:
            raise PacelineError("Official finewebedu_lm reads AlgoPerf's prepared FineWeb-Edu "
                                "folders; pass --data-dir.")
        else:
            stream = official_data.token_stream(data_dir, split)
        _SPLITS[key] = WindowSplit(stream, seq_len)
    return _SPLITS[key]


class FinewebeduLmWorkload(FamilyWorkload):
    """finewebedu_lm at ``dev`` or ``official`` scale; framework subclasses add the model."""

    name = "finewebedu_lm"
    dev_numbers = DEV_NUMBERS
    sizes = {"dev": DEV_SIZES, "official": OFFICIAL_SIZES}
    batch = BATCH
    loss = spec.LossType.SOFTMAX_CROSS_ENTROPY
    variants = config.VARIANTS

    @classmethod
    def numbers_for(cls, version: str) -> WorkloadNumbers:
        """One table for every version: the calibrated one at dev scale; at official scale
        the rules' numbers, those of the newest rules for a version that predates the
        workload (0.5, 0.6). Only the suites of rules that hold it (a100-2026) include it."""
        if cls.scale == "dev":
            return cls.dev_numbers[cls.name]
        if cls.name not in get_ruleset(version).workloads:
            version = resolve_version(LATEST)
        return cls.official_numbers(version)

    def _make_config(self) -> config.LmConfig:
        vocab = data.VOCAB_SIZE if self.scale == "dev" else None
        return config.make_config(self.scale, self.model_overrides, vocab)

    # ---- sizes and targets ----------------------------------------------------------------
    def _size(self, split: str) -> int:
        if split == "test":
            raise NotImplementedError  # no test split: the runner evaluates none
        if self.scale == "dev" and split == "train":
            return self._split("train", None).num_windows
        return self.sizes[self.scale][split]

    def has_reached_test_target(self, eval_result: dict[str, float]) -> bool:
        """Always: the rules set no test target, as upstream."""
        return True

    # ---- batches --------------------------------------------------------------------------
    def _split(self, split: str, data_dir: str | None) -> WindowSplit:
        return load_split(self.scale, split, data_dir, self.model_config.seq_len)

    def _numpy_train_batches(self, data_rng: Any, data_dir: str | None,
                             global_batch_size: int) -> TrainWindows:
        return TrainWindows(self._split("train", data_dir),
                            self.effective_batch_size(global_batch_size), data_seed(data_rng))

    def _eval_batches(self, split: str, num_examples: int, batch_size: int,
                      data_dir: str | None) -> Iterator[dict[str, np.ndarray]]:
        return eval_windows(self._split(split, data_dir), batch_size, num_examples)

    # ---- metrics --------------------------------------------------------------------------
    def _finalize_metrics(self, totals: dict[str, float], num_examples: int) -> dict[str, float]:
        """Loss per real token and its exponential, the perplexity (AlgoPerf's eval)."""
        del num_examples
        loss = totals["loss"] / max(totals["num_examples"], 1.0)
        return {"loss": loss, "ppl": math.exp(min(loss, 700.0))}
