"""Batch helpers (AlgoPerf's ``data_utils``): padding eval batches with zero weights."""

from __future__ import annotations

from typing import Any

import numpy as np


def pad_batch(batch: dict[str, Any], batch_size: int) -> dict[str, Any]:
    """Pad every array in ``batch`` along axis 0 to ``batch_size`` rows.

    Padded rows get ``weights == 0`` so metrics and losses ignore them; a batch without a
    ``weights`` entry gets one (ones for real rows).
    """
    n = len(next(iter(batch.values())))
    out = {}
    for key, value in batch.items():
        arr = np.asarray(value)
        pad = [(0, batch_size - n)] + [(0, 0)] * (arr.ndim - 1)
        out[key] = np.pad(arr, pad)
    if "weights" not in batch:
        weights = np.zeros(batch_size, dtype=np.float32)
        weights[:n] = 1.0
        out["weights"] = weights
    return out
