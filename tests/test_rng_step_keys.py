"""Per-step keys derived in blocks equal the keys a loop would derive one step at a time."""

from __future__ import annotations

import numpy as np
import pytest

from sdk import rng as prng


@pytest.mark.parametrize("framework", ["pytorch", "jax"])
@pytest.mark.parametrize("num", [3, 4])
def test_block_keys_equal_fold_in_then_split(framework: str, num: int) -> None:
    prng.set_framework(framework)
    key = prng.split(prng.PRNGKey(7, framework), 2, framework)[1]
    keys = prng.StepKeys(key, num, framework, block=64)
    # within the first block, across block boundaries, after a jump back (a resumed run)
    for step in (0, 1, 63, 64, 65, 200, 5, 1000):
        expected = prng.split(prng.fold_in(key, step, framework), num, framework)
        got = keys(step)
        assert len(got) == num
        for a, b in zip(got, expected, strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_default_block_is_consistent_too() -> None:
    prng.set_framework("jax")
    key = prng.PRNGKey(3, "jax")
    keys = prng.StepKeys(key, 4, "jax")
    for step in (0, 4095, 4096, 9000):
        expected = prng.split(prng.fold_in(key, step, "jax"), 4, "jax")
        np.testing.assert_array_equal(np.stack([np.asarray(k) for k in keys(step)]),
                                      np.asarray(expected))
