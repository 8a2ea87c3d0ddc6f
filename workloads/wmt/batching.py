"""wmt batches: packed rows for training, padded rows for evaluation.

Training (as the official pipeline): an endless stream of shuffled sentence pairs is packed
greedily into rows of ``row_len`` tokens: a pair joins the current row if both its source and
its target still fit, otherwise the row is closed and the pair starts the next one; a batch is
``rows`` rows. Each row carries ``*_segmentation`` (1, 2, ... per packed pair, 0 on padding)
and ``*_position`` (restarting at 0 per pair) for sources and targets, and
``weights = targets > 0``. ``skip`` replays the packing without building arrays, so a resumed
run sees the same batches.

Evaluation: one pair per row, padded with 0 to the longest sequence of the batch (the
official pipeline pads to 256; the model is the same either way), ``weights = targets > 0``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np


class PairSplit:
    """One split's token sequences with per-pair offsets."""

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.inputs = arrays["inputs"].astype(np.int64)
        self.targets = arrays["targets"].astype(np.int64)
        self.in_len = arrays["inputs_length"].astype(np.int64)
        self.out_len = arrays["targets_length"].astype(np.int64)
        self.in_start = np.concatenate([[0], np.cumsum(self.in_len)[:-1]])
        self.out_start = np.concatenate([[0], np.cumsum(self.out_len)[:-1]])
        self.num_pairs = len(self.in_len)

    def source(self, i: int) -> np.ndarray:
        return self.inputs[self.in_start[i] : self.in_start[i] + self.in_len[i]]

    def target(self, i: int) -> np.ndarray:
        return self.targets[self.out_start[i] : self.out_start[i] + self.out_len[i]]


class TrainPackedBatches:
    """Endless packed train batches of ``rows`` x ``row_len`` tokens."""

    def __init__(self, split: PairSplit, rows: int, row_len: int, seed: int,
                 transform: Any = None) -> None:
        self.split = split
        self.rows = max(1, int(rows))
        self.row_len = int(row_len)
        self.seed = int(seed)
        self.transform = transform
        self.position = 0
        self._cache: dict[int, np.ndarray] = {}

    def _pair(self, position: int) -> int:
        epoch, offset = divmod(position, self.split.num_pairs)
        if epoch not in self._cache:
            self._cache = {epoch: np.random.default_rng([self.seed, epoch]).permutation(
                self.split.num_pairs)}
        return int(self._cache[epoch][offset])

    def next_rows(self) -> list[list[int]]:
        """Pair indices of each row of the next batch (advances the stream)."""
        rows: list[list[int]] = [[]]
        used_in = used_out = 0
        while True:
            pair = self._pair(self.position)
            n_in, n_out = self.split.in_len[pair], self.split.out_len[pair]
            if used_in + n_in > self.row_len or used_out + n_out > self.row_len:
                if len(rows) == self.rows:
                    return rows
                rows.append([])
                used_in = used_out = 0
            rows[-1].append(pair)
            used_in += n_in
            used_out += n_out
            self.position += 1

    def skip(self, num_batches: int) -> None:
        for _ in range(int(num_batches)):
            self.next_rows()

    def pack(self, rows: list[list[int]]) -> dict[str, np.ndarray]:
        shape = (self.rows, self.row_len)
        out = {k: np.zeros(shape, np.int64) for k in (
            "inputs", "inputs_position", "inputs_segmentation",
            "targets", "targets_position", "targets_segmentation")}
        for r, pairs in enumerate(rows):
            for side, get in (("inputs", self.split.source), ("targets", self.split.target)):
                col = 0
                for segment, pair in enumerate(pairs, start=1):
                    tokens = get(pair)
                    end = col + len(tokens)
                    out[side][r, col:end] = tokens
                    out[f"{side}_position"][r, col:end] = np.arange(len(tokens))
                    out[f"{side}_segmentation"][r, col:end] = segment
                    col = end
        out["weights"] = (out["targets"] > 0).astype(np.float32)
        return out

    def __iter__(self) -> TrainPackedBatches:
        return self

    def __next__(self) -> dict[str, Any]:
        batch = self.pack(self.next_rows())
        return self.transform(batch) if self.transform is not None else batch


def pad_rows(sequences: list[np.ndarray], length: int | None = None) -> np.ndarray:
    """[len(sequences), length] int64, left-aligned, zero-padded."""
    length = length or max((len(s) for s in sequences), default=1)
    out = np.zeros((len(sequences), length), np.int64)
    for i, s in enumerate(sequences):
        out[i, : len(s)] = s
    return out


def eval_pair_batches(split: PairSplit, batch_size: int,
                      num_examples: int | None = None) -> Iterator[dict[str, np.ndarray]]:
    """One ordered pass over the first ``num_examples`` pairs, padded per batch."""
    n = split.num_pairs if num_examples is None else min(split.num_pairs, num_examples)
    for start in range(0, n, batch_size):
        ids = range(start, min(start + batch_size, n))
        targets = pad_rows([split.target(i) for i in ids])
        yield {"inputs": pad_rows([split.source(i) for i in ids]), "targets": targets,
               "weights": (targets > 0).astype(np.float32)}
