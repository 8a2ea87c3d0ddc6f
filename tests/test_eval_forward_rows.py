"""Dev evaluations in cache-sized forward passes compute the numbers whole batches do.

    nice -n 19 .venv/bin/python -m pytest tests/test_eval_forward_rows.py -q

imagenet_resnet (both frameworks) and criteo1tb (JAX) split each dev eval batch into passes
of ``dev_eval_forward_rows`` rows (:func:`workloads.common.batching.eval_forward_rows`); the
tests set it on criteo1tb in PyTorch too. Each test evaluates one untrained model twice, once in whole eval batches (the old way) and once
in passes of an odd size (so the last pass is short, and padded in JAX), and checks that the
metrics agree to float rounding and that the passes really were smaller.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from sdk.registry import workloads
from workloads.common import data_cache, vision
from workloads.common.batching import eval_forward_rows
from workloads.criteo1tb import data as criteo_data

FRAMEWORKS = ("pytorch", "jax")
TINY_CRITEO = {"examples_per_day": 64, "day23_examples": 600}


def _rng(framework: str) -> Any:
    if framework == "jax":
        import jax

        return jax.random.PRNGKey(0)
    return np.array([0, 0], dtype=np.uint32)


def _passes(workload: Any) -> list[int]:
    """Record the rows of every forward pass ``workload`` evaluates from now on."""
    rows: list[int] = []
    inner = workload._eval_batch_sums

    def counted(params: Any, batch: dict[str, Any], model_state: Any, rng: Any) -> Any:
        rows.append(int(batch["weights"].shape[0]))
        return inner(params, batch, model_state, rng)

    workload._eval_batch_sums = counted
    return rows


def _old_and_new(workload: Any, framework: str, rows: int,
                 data_dir: str | None) -> tuple[dict, dict, list[int], list[int]]:
    """Metrics and pass sizes: whole eval batches, then passes of ``rows`` rows."""
    rng = _rng(framework)
    params, state = workload.init_model_fn(rng)
    seen = _passes(workload)
    batch = workload.eval_batch_size
    workload.dev_eval_forward_rows = None
    old = workload.eval_model(batch, params, state, rng, data_dir, None, 0)
    whole, seen[:] = list(seen), []
    workload.dev_eval_forward_rows = rows
    new = workload.eval_model(batch, params, state, rng, data_dir, None, 0)
    return old, new, whole, seen


def _same_metrics(old: dict, new: dict) -> None:
    assert set(old) == set(new)
    for key, value in old.items():
        assert new[key] == pytest.approx(value, rel=2e-6, abs=1e-9), key


def test_forward_rows_apply_at_dev_scale_only() -> None:
    dev = SimpleNamespace(scale="dev", dev_eval_forward_rows=250)
    assert eval_forward_rows(dev, 1000) == 250
    assert eval_forward_rows(dev, 100) == 100  # never more than the eval batch
    assert eval_forward_rows(SimpleNamespace(scale="official", dev_eval_forward_rows=250),
                             1000) == 1000
    assert eval_forward_rows(SimpleNamespace(scale="dev"), 1000) == 1000


@pytest.mark.parametrize("name,framework", [("criteo1tb", "jax"), ("imagenet_resnet", "jax"),
                                            ("imagenet_resnet", "pytorch")])
def test_the_families_set_forward_rows_below_their_eval_batch(name: str, framework: str) -> None:
    w = workloads().create(name, "dev", framework)
    rows = eval_forward_rows(w, w.eval_batch_size)
    assert rows < w.eval_batch_size and w.eval_batch_size % rows == 0


@pytest.fixture(scope="module")
def tiny_criteo(tmp_path_factory: pytest.TempPathFactory) -> str:
    def build(folder: Path) -> dict:
        return criteo_data.build_dev(folder, **TINY_CRITEO)

    folder = tmp_path_factory.mktemp("criteo") / "log"
    return str(data_cache.prepare("criteo1tb", build, str(folder)))


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_criteo1tb_eval_in_passes_equals_whole_batches(framework: str, tiny_criteo: str) -> None:
    w = workloads().create("criteo1tb", "dev", framework)
    w._splits(tiny_criteo)  # as training would: the split sizes are then the folder's own
    old, new, whole, passes = _old_and_new(w, framework, 128, tiny_criteo)
    _same_metrics(old, new)
    assert max(passes) == 128 < max(whole) and len(passes) > len(whole)
    if framework == "jax":  # fixed shapes: the short last pass is padded to 128 rows
        assert set(passes) == {128}


def _fake_images(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    return {"images": rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
            "labels": rng.integers(0, vision.NUM_CLASSES, n).astype(np.int64)}


@pytest.mark.parametrize("framework", [  # JAX compiles the ResNet twice: about 10 s
    "pytorch", pytest.param("jax", marks=pytest.mark.slow)])
def test_imagenet_resnet_eval_in_passes_equals_whole_batches(framework: str) -> None:
    w = workloads().create("imagenet_resnet", "dev", framework)
    rng = np.random.default_rng(0)
    w.__dict__["_data_cache"] = {"": {  # random images in place of Fashion-MNIST
        "train": _fake_images(rng, 1200), "validation": _fake_images(rng, 1000),
        "test": _fake_images(rng, 1000)}}
    old, new, whole, passes = _old_and_new(w, framework, 300, None)
    _same_metrics(old, new)
    assert whole == [1000] * 3
    assert passes == ([300] * 12 if framework == "jax" else [300, 300, 300, 100] * 3)
