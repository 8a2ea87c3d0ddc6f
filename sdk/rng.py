"""Random keys the way AlgoPerf hands them out, for both frameworks.

AlgoPerf proxies ``PRNGKey``/``split``/``fold_in`` to ``jax.random`` for JAX runs and to a
numpy emulation for PyTorch runs, where a key is an ``int32`` array of shape ``(2,)`` with
values in ``[0, 2**31 - 1)``. Paceline keeps those types and the order of splits
(AlgoPerf's ``algoperf/random_utils.py``), but its numpy emulation is a counter-based hash (SplitMix64)
instead of a fresh ``numpy.random.RandomState`` per call: the values differ from AlgoPerf's,
they are just as deterministic, and deriving a step's keys costs well under a microsecond
instead of about 100 µs, which keeps the runner's per-step overhead negligible.

    >>> from sdk import rng
    >>> key = rng.PRNGKey(0, framework="pytorch")
    >>> rng.split(key, 4).shape
    (4, 2)
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

import numpy as np

_MASK64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_INT31 = 2**31 - 1

_framework = "pytorch"


def set_framework(framework: str) -> None:
    """Choose which backend the module-level functions use (the runner sets this)."""
    global _framework
    if framework not in ("pytorch", "jax"):
        raise ValueError(f"framework must be 'pytorch' or 'jax', got {framework!r}")
    _framework = framework


def get_framework() -> str:
    return _framework


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on a uint64 array (wrapping arithmetic)."""
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def _to_u64(key: Any) -> np.ndarray:
    arr = np.asarray(key, dtype=np.int64).reshape(-1, 2)
    return (arr[:, 0].astype(np.uint64) << np.uint64(32)) | arr[:, 1].astype(np.uint64)


def _from_u64(words: np.ndarray) -> np.ndarray:
    """Two 31-bit values per word: a numpy 'key' of shape (n, 2), int32 in [0, 2**31-1)."""
    hi = ((words >> np.uint64(33)) % np.uint64(_INT31)).astype(np.int32)
    lo = ((words & np.uint64(0xFFFFFFFF)) % np.uint64(_INT31)).astype(np.int32)
    return np.stack([hi, lo], axis=-1)


def _np_prng_key(seed: int) -> np.ndarray:
    word = np.array([int(seed) & _MASK64], dtype=np.uint64)
    with np.errstate(over="ignore"):
        return _from_u64(_mix(word + np.uint64(_GOLDEN)))[0]


def _np_split(key: Any, num: int = 2) -> np.ndarray:
    base = _to_u64(key)[0]
    counters = np.arange(1, num + 1, dtype=np.uint64) * np.uint64(_GOLDEN)
    with np.errstate(over="ignore"):
        return _from_u64(_mix(base ^ _mix(counters)))


def _np_fold_in(key: Any, data: int) -> np.ndarray:
    base = _to_u64(key)[0]
    word = np.array([int(data) & _MASK64], dtype=np.uint64)
    with np.errstate(over="ignore"):
        return _from_u64(_mix(base + _mix(word ^ np.uint64(0xD1B54A32D192ED03))))[0]


def PRNGKey(seed: int, framework: str | None = None) -> Any:  # noqa: N802 (AlgoPerf's name)
    """A root key from an integer seed."""
    if (framework or _framework) == "jax":
        import jax

        return jax.random.PRNGKey(int(seed) % (2**32))
    return _np_prng_key(seed)


def split(key: Any, num: int = 2, framework: str | None = None) -> Any:
    """``num`` independent keys derived from ``key`` (an array of shape ``(num, 2)``)."""
    if (framework or _framework) == "jax":
        import jax

        return jax.random.split(key, num)
    return _np_split(key, num)


def fold_in(key: Any, data: int, framework: str | None = None) -> Any:
    """A key derived from ``key`` and an integer (AlgoPerf folds in the step number)."""
    if (framework or _framework) == "jax":
        import jax

        return jax.random.fold_in(key, int(data))
    return _np_fold_in(key, data)


def derive_seed(*parts: int | str) -> int:
    """A stable 31-bit seed from ints and strings (no Python hash salt involved)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") % _INT31


@functools.cache
def _jax_block_keys(num: int) -> Any:
    """``split(fold_in(rng, s), num)`` for a vector of steps ``s``, jitted once per process."""
    import jax

    def keys_for(rng: Any, step: Any) -> Any:
        return jax.random.split(jax.random.fold_in(rng, step), num)

    return jax.jit(jax.vmap(keys_for, in_axes=(None, 0)))


class StepKeys:
    """The per-step keys of a training loop, derived in blocks.

    For step ``t`` this returns ``split(fold_in(rng, t), num)`` exactly as the loop would
    compute it, but ``block`` steps at a time with vectorised numpy (PyTorch) or one
    ``jax.vmap`` call (JAX), so a step pays only an index lookup. A timed loop calls it once
    for its first step before its clock starts, so the first block is not charged to a step.
    Each step's tuple of key arrays is built with the block, in one pass of C-level
    iteration: built one step at a time, between a submission's steps, the same views cost
    several times more (cold caches).
    """

    def __init__(self, rng: Any, num: int, framework: str, block: int = 4096) -> None:
        self._rng = rng
        self._num = num
        self._framework = framework
        self._block = block
        self._start = -1
        self._rows: list[tuple[Any, ...]] = []

    def __call__(self, step: int) -> tuple[Any, ...]:
        offset = step - self._start
        if not self._rows or offset < 0 or offset >= self._block:
            self._fill(step)
            offset = 0
        return self._rows[offset]

    def _fill(self, step: int) -> None:
        steps = np.arange(step, step + self._block, dtype=np.uint64)
        if self._framework == "jax":
            keys = np.asarray(_jax_block_keys(self._num)(self._rng, steps.astype(np.uint32)))
        else:
            base = _to_u64(self._rng)[0]
            with np.errstate(over="ignore"):
                folded = _to_u64(
                    _from_u64(_mix(base + _mix(steps ^ np.uint64(0xD1B54A32D192ED03))))
                )
                counters = np.arange(1, self._num + 1, dtype=np.uint64) * np.uint64(_GOLDEN)
                words = _mix(folded[:, None] ^ _mix(counters)[None, :])
            keys = _from_u64(words)
        views = iter(list(keys.reshape(-1, keys.shape[-1])))
        self._rows = list(zip(*[views] * self._num, strict=True))
        self._start = step
