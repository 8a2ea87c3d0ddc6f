"""The framework-neutral half both LibriSpeech families share: splits, sizes, batches.

A family subclass sets ``name``, its numbers (``dev_numbers``), its config module and its
``variants``; a framework subclass adds the model, loss and evaluation.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, ClassVar

import numpy as np

from sdk import spec
from sdk.errors import PacelineError
from workloads.common.batching import TrainBatches, data_seed
from workloads.common.family import FamilyWorkload
from workloads.common.speech import data, official, text

# Dev sizes (the data recipe fixes train/validation/test; eval_train is a fixed train subset).
DEV_SIZES = {"train": data.RECIPE.train, "eval_train": 128,
             "validation": data.RECIPE.validation, "test": data.RECIPE.test}
# Official sizes (AlgoPerf's algoperf/workloads/librispeech_conformer/workload.py); eval_train = validation rounded up to the eval batch.
OFFICIAL_SIZES = {"train": 263_840, "eval_train": 5_376, "validation": 5_348, "test": 2_472}
# Batch sizes: the NAdamW baseline's official LibriSpeech batch (AlgoPerf's algorithms/baselines/external_tuning/pytorch_nadamw_full_budget.py) and
# the dev size it maps to; other requests scale proportionally (workloads.common.batching).
BATCH = {"official_reference": 256, "dev_reference": 8, "dev_eval": 32,
         "official_eval": 256}
# Dev training batches are padded to their longest utterance rounded up to this many samples
# (0.1 s), not to the data set's longest: a few batch shapes, a quarter less padding.
PAD_MULTIPLE = 1600
EVAL_TRAIN_SEED = 7  # picks the fixed train subset evaluated as ``eval_train``


class SpeechWorkload(FamilyWorkload):
    """LibriSpeech: CTC over characters of espeak-ng speech (dev) or over SentencePiece
    pieces of AlgoPerf's preprocessed LibriSpeech (official)."""

    sizes = {"dev": DEV_SIZES, "official": OFFICIAL_SIZES}
    batch = BATCH
    loss = spec.LossType.CTC_LOSS
    # the family's config module: DEV and OFFICIAL configs, make_config(base, overrides)
    config_module: ClassVar[ModuleType]
    # norm_and_spec_aug halves the eval batch (officially 256 -> 128; dev 32 -> 16)
    eval_batch_divisor: ClassVar[int] = 1
    # Dev batches are padded to their longest utterance rounded up to these many samples
    # (JAX rounds further: every new shape is a new compilation).
    train_pad_multiple: ClassVar[int] = PAD_MULTIPLE
    eval_pad_multiple: ClassVar[int] = 1

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model_config  # noqa: B018 - bad model overrides fail here, with one sentence

    def _make_config(self) -> Any:
        base = self.config_module.DEV if self.scale == "dev" else self.config_module.OFFICIAL
        return self.config_module.make_config(base, self.model_overrides)

    @property
    def eval_batch_size(self) -> int:
        return self.batch[f"{self.scale}_eval"] // self.eval_batch_divisor

    # ---- data ---------------------------------------------------------------------------------
    def _speech_data(self, data_dir: str | None) -> data.SpeechData:
        self._last_data_dir = data_dir
        return data.load_dev(data_dir)

    def _official_dir(self, data_dir: str | None) -> Path:
        if not data_dir:
            raise PacelineError("The official LibriSpeech workloads need --data-dir with "
                                "AlgoPerf's preprocessed LibriSpeech (see "
                                "docs/workloads/librispeech_conformer.md).")
        self._last_data_dir = data_dir
        return Path(data_dir).expanduser()

    def _official_split(self, split: str, data_dir: str | None) -> official.OfficialSplit:
        folder = self._official_dir(data_dir)
        name = "train" if split == "eval_train" else split
        key = (str(folder), name)
        cache = self.__dict__.setdefault("_official_splits", {})
        if key not in cache:
            cache[key] = official.OfficialSplit(folder, official.SPLITS[name])
        return cache[key]

    def _frontend_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Front-end normalisation: AlgoPerf's LibriSpeech vectors at official scale, the
        dev data's own statistics at dev scale."""
        if self.scale != "dev":
            return np.array(official.LOGMEL_MEAN), np.array(official.LOGMEL_STD)
        d = self._speech_data(getattr(self, "_last_data_dir", None))
        return d.mean, d.std

    def detokenize(self, ids: Any) -> str:
        """Token ids -> text: characters at dev scale, SentencePiece pieces officially."""
        if self.scale == "dev":
            return text.decode(ids)
        if "_vocab" not in self.__dict__:
            self._vocab = official.load_vocab(self._official_dir(self._last_data_dir))
        return self._vocab.detokenize(ids)

    def _numpy_train_batches(self, data_rng: Any, data_dir: str | None,
                             global_batch_size: int) -> TrainBatches:
        seed = data_seed(data_rng)
        size = self.effective_batch_size(global_batch_size)
        if self.scale != "dev":
            source = self._official_split("train", data_dir)
            return TrainBatches({"index": np.arange(len(source))}, size, seed,
                                transform=lambda b: source.batch(b["index"]))
        d = self._speech_data(data_dir)
        train = d.splits["train"]

        def cut(b: dict[str, np.ndarray]) -> dict[str, Any]:
            rows = b["index"]
            return train.batch(rows, train.max_samples_of(rows, self.train_pad_multiple),
                               d.num_targets)

        return TrainBatches({"index": np.arange(len(train))}, size, seed, transform=cut)

    @staticmethod
    def _eval_indices(split: str, num_examples: int, size: int) -> np.ndarray:
        """The examples an eval covers: a fixed random subset for eval_train."""
        if split == "eval_train":
            return np.random.default_rng(EVAL_TRAIN_SEED).permutation(size)[:num_examples]
        return np.arange(min(num_examples, size))

    def _eval_batches(self, split: str, num_examples: int, batch_size: int,
                      data_dir: str | None) -> Iterator[dict[str, Any]]:
        """One pass over ``split``. Dev: utterances sorted by length, each batch padded only to
        its longest (eval cost follows the real audio); official: in order, fully padded."""
        if self.scale != "dev":
            source = self._official_split(split, data_dir)
            indices = self._eval_indices(split, num_examples, len(source))
            for start in range(0, len(indices), batch_size):
                yield source.batch(indices[start : start + batch_size])
            return
        d = self._speech_data(data_dir)
        split_data = d.splits["train" if split == "eval_train" else split]
        indices = self._eval_indices(split, num_examples, len(split_data))
        lengths = np.diff(split_data.audio_offsets)[indices]
        indices = indices[np.argsort(-lengths, kind="stable")]
        for start in range(0, len(indices), batch_size):
            rows = indices[start : start + batch_size]
            yield split_data.batch(rows, split_data.max_samples_of(rows, self.eval_pad_multiple),
                                   d.num_targets)
