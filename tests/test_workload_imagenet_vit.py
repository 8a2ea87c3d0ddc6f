"""The ViT family: official-size counts per variant, position embedding, heads, dropout.

    .venv/bin/python -m pytest tests/test_workload_imagenet_vit.py -q
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from sdk import spec
from sdk.registry import workloads
from workloads.common.vision_torch import build_on_meta, count_parameters
from workloads.imagenet_vit import config
from workloads.imagenet_vit.model_pytorch import ViT, posemb_sincos_2d

RNG = np.array([0, 9], dtype=np.uint32)
OFFICIAL_COUNTS = {None: 22_122_472, "imagenet_vit_glu": 50_452_456,
                   "imagenet_vit_post_ln": 22_121_704, "imagenet_vit_map": 23_896_552}


def _workload(name: str = "imagenet_vit", **overrides):  # noqa: ANN003, ANN202
    return workloads().create(name, "dev", "pytorch", model_overrides=overrides or None)


@pytest.mark.parametrize("variant", list(OFFICIAL_COUNTS))
def test_official_parameter_counts(variant: str | None) -> None:
    cfg = replace(config.OFFICIAL, **config.VARIANTS.get(variant, {}))
    assert count_parameters(build_on_meta(lambda: ViT(cfg))) == OFFICIAL_COUNTS[variant]


def test_official_part_sizes() -> None:
    model = build_on_meta(lambda: ViT(config.OFFICIAL))
    assert count_parameters(model.conv_patch_extract) == 295_296
    assert count_parameters(model.encoder.net[0]) == 1_774_464
    assert count_parameters(model.head) == 385_000
    map_model = build_on_meta(lambda: ViT(replace(config.OFFICIAL, pooling="map")))
    assert count_parameters(map_model.map) == 1_774_080


def test_posemb_sincos_layout() -> None:
    pe = posemb_sincos_2d(3, 4, 16)
    assert pe.shape == (1, 12, 16)
    torch.testing.assert_close(pe[0, 0], torch.tensor([0.0] * 4 + [1.0] * 4 + [0.0] * 4
                                                      + [1.0] * 4))
    # token 5 = row 1, column 1: x and y parts equal; first frequency is 1
    assert float(pe[0, 5, 0]) == pytest.approx(np.sin(1.0))
    torch.testing.assert_close(pe[0, 5, :8], pe[0, 5, 8:])
    assert float(pe[0, 1, 8]) == 0.0  # token 1 is row 0: y-sines vanish


def test_zero_init_head_gives_uniform_predictions() -> None:
    w = _workload()
    model, _ = w.init_model_fn(RNG)
    logits, _ = w.model_fn(model, {"inputs": torch.randn(3, 1, 28, 28)}, None,
                           spec.ForwardPassMode.EVAL, None, False)
    assert torch.all(logits == 0)
    assert [k for k in w.param_shapes if w.is_output_params(k)] == ["head.weight", "head.bias"]


def test_variant_structures() -> None:
    glu, _ = _workload("imagenet_vit_glu").init_model_fn(RNG)
    post, _ = _workload("imagenet_vit_post_ln").init_model_fn(RNG)
    pooled, _ = _workload("imagenet_vit_map").init_model_fn(RNG)
    base, _ = _workload().init_model_fn(RNG)
    assert base.encoder.encoder_norm is not None and post.encoder.encoder_norm is None
    assert all(b.mlp3.glu_linear is not None for b in glu.encoder.net)
    assert all(b.mlp3.glu_linear is None for b in base.encoder.net)
    assert pooled.map is not None and base.map is None
    types = _workload("imagenet_vit_map")
    types.init_model_fn(RNG)
    assert types.model_params_types["encoder.net.0.self_attention1.query.weight"] == \
        spec.ParameterType.ATTENTION_Q
    assert types.model_params_types["encoder.encoder_norm.weight"] == \
        spec.ParameterType.LAYER_NORM_SCALE


def _two_train_passes(w, model, dropout_rate):  # noqa: ANN001, ANN202
    x = {"inputs": torch.randn(4, 1, 28, 28)}
    torch.manual_seed(0)
    a, _ = w.model_fn(model, x, None, spec.ForwardPassMode.TRAIN, None, True, dropout_rate)
    b, _ = w.model_fn(model, x, None, spec.ForwardPassMode.TRAIN, None, True, dropout_rate)
    return a, b


def test_dropout_explicit_and_v05_init_rate() -> None:
    w = _workload(head_zeroinit=False)
    model, _ = w.init_model_fn(RNG)
    a, b = _two_train_passes(w, model, None)  # default rate 0.0
    torch.testing.assert_close(a, b)
    a, b = _two_train_passes(w, model, 0.3)
    assert not torch.allclose(a, b)
    v05 = _workload(head_zeroinit=False)
    v05.set_init_dropout(0.3, None)  # what the runner does for a v0.5 submission
    model, _ = v05.init_model_fn(RNG)
    a, b = _two_train_passes(v05, model, None)
    assert not torch.allclose(a, b)
    direct = _workload(head_zeroinit=False)
    model, _ = direct.init_model_fn(RNG, dropout_rate=0.3)
    assert direct.resolve_dropout(None, 0.0) == 0.3
    x = {"inputs": torch.randn(4, 1, 28, 28)}
    e1, _ = direct.model_fn(model, x, None, spec.ForwardPassMode.EVAL, None, False, 0.5)
    e2, _ = direct.model_fn(model, x, None, spec.ForwardPassMode.EVAL, None, False, 0.5)
    torch.testing.assert_close(e1, e2)


def test_attention_temperature_changes_the_function() -> None:
    x = torch.randn(2, 1, 28, 28)
    outs = []
    for temperature in (1.0, 2.0):
        torch.manual_seed(0)
        model = ViT(replace(config.DEV, head_zeroinit=False,
                            attention_temperature=temperature)).eval()
        outs.append(model(x))
    assert not torch.allclose(outs[0], outs[1])


def test_width_multiplier_keeps_heads_divisible() -> None:
    for mult in (0.5, 1.5):
        cfg = replace(config.DEV, width_multiplier=mult)
        width, mlp = cfg.sizes()
        assert width % (4 * cfg.num_heads) == 0 and mlp == round(cfg.mlp_dim * mult)
        assert ViT(cfg)(torch.randn(1, 1, 28, 28)).shape == (1, 10)
