"""The JAX (Flax) side of the dev ImageNet workloads: same models as PyTorch, loss, batch
norm state, traced dropout rates, a few steps through the runner.

    .venv/bin/python -m pytest tests/test_workload_imagenet_jax.py -q
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from sdk import spec
from sdk.registry import workloads
from sdk.rulesets import get_ruleset
from sdk.runner import RunOptions, train_once
from sdk.search_space import make_hyperparameters
from sdk.submission import load_submission
from tests.test_workload_imagenet_common import ALL, NADAMW_FIRST_POINT
from workloads.common import vision
from workloads.imagenet_resnet import config as resnet_config
from workloads.imagenet_resnet import workload as base_workload
from workloads.imagenet_resnet.model_jax import ResNet
from workloads.imagenet_vit import config as vit_config
from workloads.imagenet_vit.model_jax import ViT

KEY = jax.random.PRNGKey(0)


def _count(tree) -> int:  # noqa: ANN001
    return sum(int(np.prod(x.shape)) for x in jax.tree_util.tree_leaves(tree))


def _shapes(module, size: int, channels: int):  # noqa: ANN001, ANN202
    x = jnp.zeros((1, size, size, channels))
    return jax.eval_shape(lambda: module.init(KEY, x, train=False))


def test_official_resnet_counts() -> None:
    variables = _shapes(ResNet(resnet_config.OFFICIAL), 224, 3)
    assert _count(variables["params"]) == 25_557_032
    assert _count(variables["batch_stats"]) == 53_120


@pytest.mark.parametrize("variant,expected", [(None, 22_122_472),
                                              ("imagenet_vit_glu", 50_452_456),
                                              ("imagenet_vit_post_ln", 22_121_704),
                                              ("imagenet_vit_map", 23_896_552)])
def test_official_vit_counts(variant: str | None, expected: int) -> None:
    cfg = replace(vit_config.OFFICIAL, **vit_config.VARIANTS.get(variant, {}))
    assert _count(_shapes(ViT(cfg), 224, 3)["params"]) == expected


@pytest.mark.parametrize("name", ALL)
def test_dev_models_match_pytorch_in_size(name: str) -> None:
    jw = workloads().create(name, "dev", "jax")
    tw = workloads().create(name, "dev", "pytorch")
    jax_count = _count(_shapes(jw._build_model(), 28, 1)["params"])
    assert jax_count == sum(p.numel() for p in tw._build_model().parameters())


def test_init_registers_params_and_output_layer() -> None:
    w = workloads().create("imagenet_vit_map", "dev", "jax")
    params, state = w.init_model_fn(KEY)
    assert state is None
    flat = jax.tree_util.tree_flatten_with_path(w.param_shapes)[0]
    names = ["/".join(str(getattr(k, "key", k)) for k in path) for path, _ in flat]
    outputs = [n for n in names if w.is_output_params(n)]
    assert outputs == ["head/bias", "head/kernel"]
    assert any(n.startswith("MAPHead_0/") for n in names)


def test_loss_matches_pytorch() -> None:
    jw = workloads().create("imagenet_vit", "dev", "jax")
    tw = workloads().create("imagenet_vit", "dev", "pytorch")
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 10)).astype(np.float32)
    labels = rng.integers(0, 10, size=6)
    mask = np.array([1, 1, 1, 1, 0, 1], dtype=np.float32)
    soft = rng.dirichlet(np.ones(10), size=6).astype(np.float32)
    for target in (labels, soft):
        j = jw.loss_fn(jnp.asarray(target), jnp.asarray(logits), jnp.asarray(mask), 0.1)
        t = tw.loss_fn(torch.as_tensor(target), torch.as_tensor(logits), torch.as_tensor(mask),
                       0.1)
        np.testing.assert_allclose(np.asarray(j["per_example"]), t["per_example"].numpy(),
                                   rtol=1e-5, atol=1e-6)
        assert float(j["n_valid_examples"]) == 5.0


def test_batch_norm_state_follows_update_flag() -> None:
    w = workloads().create("imagenet_resnet", "dev", "jax",
                           model_overrides={"stage_depths": (1, 1), "stage_widths": (4, 8)})
    params, state = w.init_model_fn(KEY)
    batch = {"inputs": jax.random.normal(KEY, (8, 28, 28, 1)) * 2 + 1}
    _, same = w.model_fn(params, batch, state, spec.ForwardPassMode.TRAIN, KEY, False)
    _, new = w.model_fn(params, batch, state, spec.ForwardPassMode.TRAIN, KEY, True)
    leaves = zip(jax.tree_util.tree_leaves(state), jax.tree_util.tree_leaves(same),
                 jax.tree_util.tree_leaves(new), strict=True)
    assert all(np.array_equal(a, b) for a, b, _ in leaves)
    assert any(not np.allclose(a, c) for a, _, c in zip(jax.tree_util.tree_leaves(state),
                                                        jax.tree_util.tree_leaves(same),
                                                        jax.tree_util.tree_leaves(new),
                                                        strict=True))
    with pytest.raises(ValueError, match="cannot be updated during evaluation"):
        w.model_fn(params, batch, state, spec.ForwardPassMode.EVAL, KEY, True)


def test_dropout_rate_may_be_traced() -> None:
    w = workloads().create("imagenet_vit", "dev", "jax", model_overrides={"head_zeroinit": False})
    params, state = w.init_model_fn(KEY)
    batch = {"inputs": jax.random.normal(KEY, (4, 28, 28, 1))}

    @jax.jit
    def forward(rate, rng):  # noqa: ANN001, ANN202
        return w.model_fn(params, batch, state, spec.ForwardPassMode.TRAIN, rng, True, rate)[0]

    a, b = forward(0.3, jax.random.PRNGKey(1)), forward(0.3, jax.random.PRNGKey(2))
    assert not np.allclose(a, b)
    np.testing.assert_allclose(forward(0.0, jax.random.PRNGKey(1)),
                               forward(0.0, jax.random.PRNGKey(2)), rtol=1e-6)


@pytest.mark.slow  # jit compilation of two models: about a minute on 2 cores
@pytest.mark.skipif(not vision.has_raw_files(vision.SOURCE_DIR),
                    reason="Debian package dataset-fashion-mnist not installed")
@pytest.mark.parametrize("name", ["imagenet_resnet_large_bn_init", "imagenet_vit_post_ln"])
def test_few_steps_through_the_runner(name: str, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for split in ("eval_train", "validation", "test"):
        monkeypatch.setitem(base_workload.DEV_SIZES, split, 300)
    w = workloads().create(name, "dev", "jax")
    submission = load_submission("nadamw", "jax", "external")
    result = train_once(w, submission, make_hyperparameters(NADAMW_FIRST_POINT), 3,
                        get_ruleset("0.5"), RunOptions(max_global_steps=2, tensorboard=False),
                        tmp_path / "trial")
    assert result.status == "max_global_steps" and result.global_step == 2
    assert 0.0 <= result.best_validation_metric <= 1.0
