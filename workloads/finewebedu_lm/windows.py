"""Token streams cut into fixed windows, and the batches a language-model workload reads.

AlgoPerf's pipeline (AlgoPerf algoperf/workloads/finewebedu_lm/input_pipeline.py) flattens a
split's documents into one token stream, cuts it into consecutive windows of
``seq_len + 1`` tokens (a partial last one is dropped) and trains on ``inputs = w[:-1]``,
``targets = w[1:]``. Training batches carry no weights; evaluation batches carry per-token
``weights`` (0 on the rows that pad the last batch).

Here the stream may be one array (dev) or many memory-mapped pieces (the official Arrow
shards); a window that straddles two pieces is joined. The training order is a fresh
permutation of all windows per epoch (``workloads.common.batching.TrainBatches``); upstream
shuffles through a 1,000-window tf.data buffer, whose order numpy cannot reproduce.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from workloads.common.batching import TrainBatches


class TokenStream:
    """Several 1-D token arrays read as one stream."""

    def __init__(self, pieces: Sequence[np.ndarray]) -> None:
        self.pieces = [p for p in pieces if len(p)]
        self.starts = np.cumsum([0] + [len(p) for p in self.pieces])

    def __len__(self) -> int:
        return int(self.starts[-1])

    def take(self, start: int, count: int) -> np.ndarray:
        """Tokens ``start .. start + count`` of the stream."""
        out, stop = [], start + count
        piece = int(np.searchsorted(self.starts, start, side="right")) - 1
        while start < stop:
            offset = start - self.starts[piece]
            chunk = self.pieces[piece][offset : offset + (stop - start)]
            out.append(np.asarray(chunk))
            start += len(chunk)
            piece += 1
        return np.concatenate(out) if len(out) > 1 else out[0]


class WindowSplit:
    """A split as ``seq_len + 1``-token windows of its token stream."""

    def __init__(self, stream: TokenStream, seq_len: int) -> None:
        self.stream = stream
        self.seq_len = int(seq_len)
        self.num_windows = len(stream) // (self.seq_len + 1)

    def rows(self, indices: Sequence[int]) -> dict[str, np.ndarray]:
        """``inputs`` (int32) and ``targets`` (int64) of the given windows."""
        width = self.seq_len + 1
        rows = np.stack([self.stream.take(int(i) * width, width) for i in indices])
        return {"inputs": rows[:, :-1].astype(np.int32), "targets": rows[:, 1:].astype(np.int64)}


class TrainWindows(TrainBatches):
    """Endless shuffled training batches of whole windows (no weights, as upstream)."""

    def __init__(self, split: WindowSplit, batch_size: int, seed: int,
                 transform: Any = None) -> None:
        super().__init__({"window": np.arange(split.num_windows)}, batch_size, seed, transform)
        self.split = split

    def __next__(self) -> dict[str, Any]:
        batch = self.split.rows(self.indices())
        return self.transform(batch) if self.transform is not None else batch


def eval_windows(split: WindowSplit, batch_size: int,
                 num_examples: int) -> Iterator[dict[str, np.ndarray]]:
    """One pass over the first ``num_examples`` windows in order, the last batch padded to
    ``batch_size`` rows of token 0 with weight 0."""
    n = min(num_examples, split.num_windows)
    for start in range(0, n, batch_size):
        count = min(batch_size, n - start)
        batch = split.rows(range(start, start + count))
        weights = np.ones((batch_size, split.seq_len), np.float32)
        weights[count:] = 0.0
        pad = batch_size - count
        batch = {k: np.concatenate([v, np.zeros((pad, split.seq_len), v.dtype)])
                 for k, v in batch.items()}
        batch["weights"] = weights
        yield batch
