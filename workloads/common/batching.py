"""Batch iterators over in-memory numpy arrays, the same for every framework.

``TrainBatches`` is AlgoPerf's shuffle -> repeat -> batch: an endless stream of epoch
permutations cut into batches (a batch may straddle two epochs, and a batch larger than the
dataset simply spans several). It can jump ahead (``skip``) so a resumed run sees the same
batches it would have seen. ``eval_batches`` makes one padded pass over a split, marking
padding with ``weights == 0``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np


class TrainBatches:
    """Endless shuffled batches of ``arrays`` (all with the same first dimension)."""

    def __init__(self, arrays: dict[str, np.ndarray], batch_size: int, seed: int,
                 transform: Any = None) -> None:
        self.arrays = arrays
        self.n = len(next(iter(arrays.values())))
        self.batch_size = int(batch_size)
        self.seed = int(seed)
        self.transform = transform
        self.position = 0  # in the stream of shuffled example indices
        self._epoch = -1
        self._perm: np.ndarray | None = None

    def _permutation(self, epoch: int) -> np.ndarray:
        if epoch != self._epoch:
            self._perm = np.random.default_rng([self.seed, epoch]).permutation(self.n)
            self._epoch = epoch
        return self._perm

    def indices(self) -> np.ndarray:
        """The example indices of the next batch (advances the stream)."""
        start, stop = self.position, self.position + self.batch_size
        self.position = stop
        first_epoch, last_epoch = start // self.n, (stop - 1) // self.n
        if first_epoch == last_epoch:
            offset = start - first_epoch * self.n
            return self._permutation(first_epoch)[offset : offset + self.batch_size]
        parts = []
        for epoch in range(first_epoch, last_epoch + 1):
            lo = max(start, epoch * self.n) - epoch * self.n
            hi = min(stop, (epoch + 1) * self.n) - epoch * self.n
            parts.append(self._permutation(epoch)[lo:hi])
        return np.concatenate(parts)

    def skip(self, num_batches: int) -> None:
        self.position += int(num_batches) * self.batch_size

    def __iter__(self) -> TrainBatches:
        return self

    def __next__(self) -> dict[str, Any]:
        idx = self.indices()
        batch = {k: v[idx] for k, v in self.arrays.items()}
        return self.transform(batch) if self.transform is not None else batch


def eval_batches(arrays: dict[str, np.ndarray], batch_size: int,
                 num_examples: int | None = None,
                 pad: bool = False) -> Iterator[dict[str, np.ndarray]]:
    """One pass over the first ``num_examples`` rows with a ``weights`` entry.

    With ``pad=True`` the last batch is padded to ``batch_size`` rows of weight 0 (fixed shapes
    for compiled JAX functions); otherwise it is just shorter.
    """
    n = len(next(iter(arrays.values())))
    n = n if num_examples is None else min(n, num_examples)
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        batch = {k: v[start:stop] for k, v in arrays.items()}
        weights = batch.pop("weights", None)
        if weights is None:
            weights = np.ones(stop - start, dtype=np.float32)
        if pad and stop - start < batch_size:
            pad = batch_size - (stop - start)
            batch = {k: np.concatenate([v, np.zeros((pad, *v.shape[1:]), v.dtype)])
                     for k, v in batch.items()}
            weights = np.concatenate([weights, np.zeros((pad, *weights.shape[1:]),
                                                        weights.dtype)])
        batch["weights"] = weights
        yield batch


def round_up(n: int, multiple: int) -> int:
    """``n`` rounded up to a multiple of ``multiple`` (an eval split padded to whole batches)."""
    return math.ceil(n / multiple) * multiple


def data_seed(data_rng: Any) -> int:
    """The non-negative 31-bit seed a workload's numpy pipeline draws from (the first word of
    AlgoPerf's data key)."""
    return int(np.asarray(data_rng).reshape(-1)[0]) & 0x7FFFFFFF


def dev_batch_size(requested: int, official_reference: int, dev_reference: int) -> int:
    """The batch size a dev workload uses when a submission asks for ``requested``.

    Dev data sets are small, so dev workloads scale a requested batch size by the ratio of
    their reference batch size to the official one (the NAdamW baseline's): asking for the
    baseline's official size gives the dev reference size, asking for half gives half.
    """
    scaled = round(int(requested) * dev_reference / official_reference)
    return max(1, int(scaled))


ALL_EXAMPLES = 10**9  # an eval queue's size meaning "the whole split"


def eval_forward_rows(workload: Any, global_batch_size: int) -> int:
    """How many rows one forward pass of an evaluation takes: the eval batch size, or at dev
    scale at most the workload's ``dev_eval_forward_rows`` (``None``: no limit).

    On a CPU core a whole dev eval batch's activations overflow the caches; the same rows in
    smaller passes give the same sums (up to float rounding) in less time. Padded (JAX) passes
    pad only the last one, with rows of weight 0.
    """
    rows = getattr(workload, "dev_eval_forward_rows", None)
    if rows and getattr(workload, "scale", None) == "dev":
        return max(1, min(int(global_batch_size), int(rows)))
    return int(global_batch_size)


def device_input_queue(workload: Any, data_rng: Any, split: str, data_dir: str | None,
                       global_batch_size: int, to_device: Any,
                       eval_examples: Any = None) -> Any:
    """A workload's ``_build_input_queue``, for any framework: ``to_device`` moves a batch.

    Training: the workload's endless ``_numpy_train_batches`` stream, with ``to_device``
    appended to whatever transform the stream already has. Any other split: one pass over
    ``eval_examples(split)`` examples of it (default: all) through ``_eval_batches``.
    """
    if split != "train":
        n = eval_examples(split) if eval_examples is not None else ALL_EXAMPLES
        return (to_device(b) for b in workload._eval_batches(
            split, n, global_batch_size, data_dir))
    batches = workload._numpy_train_batches(data_rng, data_dir, global_batch_size)
    numpy_transform = batches.transform or (lambda b: b)
    batches.transform = lambda b: to_device(numpy_transform(b))
    return batches
