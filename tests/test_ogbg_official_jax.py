"""The official ogbg workloads in JAX/Flax: AlgoPerf's parameter counts (counted with
``jax.eval_shape``, nothing allocated) and a three-step `paceline run --scale official
--framework jax` on tiny TFDS ogbg_molpcba files, the same reader path as PyTorch.

    nice -n 15 .venv/bin/python -m pytest -q tests/test_ogbg_official_jax.py
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from sdk.registry import workloads
from sdk.rulesets import get_ruleset
from tests.test_ogbg_official import (
    OFFICIAL_PARAMS,
    check_algoperf_logs,
    official_run,
    write_molpcba,
)


@pytest.mark.parametrize("name", sorted(OFFICIAL_PARAMS))
def test_official_flax_models_have_algoperfs_parameter_counts(name):
    import jax

    w = workloads().create(name, "official", "jax")
    module = w._build_model()
    shapes = jax.eval_shape(lambda: module.init(jax.random.PRNGKey(0), w._sample_input()))
    count = sum(math.prod(x.shape) for x in jax.tree_util.tree_leaves(shapes["params"]))
    assert count == OFFICIAL_PARAMS[name]
    assert w.eval_batch_size == 32_768 and w.effective_batch_size(512) == 512
    official = get_ruleset("0.5").workloads[name]
    assert w.validation_target_value == official.validation_target_value
    assert w.is_output_params("decoder") and not w.is_output_params("node_embedder")


def test_jax_batches_come_from_the_same_official_reader(tmp_path):
    write_molpcba(tmp_path)
    jax_w = workloads().create("ogbg", "official", "jax")
    torch_w = workloads().create("ogbg", "official", "pytorch")
    rng = np.array([0, 5], np.uint32)
    a = next(jax_w._numpy_train_batches(rng, str(tmp_path), 3))
    b = next(torch_w._numpy_train_batches(rng, str(tmp_path), 3))
    for x, y in zip(a["inputs"], b["inputs"], strict=True):
        assert (x is None and y is None) or np.array_equal(x, y)
    assert a["inputs"].nodes.shape == (26 * 3 + 1, 9)


@pytest.mark.slow  # about 1 CPU-minute, mostly XLA compilation (the PyTorch test covers
@pytest.mark.parametrize("name", ["ogbg"])  # ogbg_model_size's run)
def test_paceline_run_official_jax_trains_evaluates_and_logs(tmp_path, name):
    write_molpcba(tmp_path / "data")
    trial = official_run(tmp_path, tmp_path / "data" / "ogbg", name, "jax")
    check_algoperf_logs(trial, name)
