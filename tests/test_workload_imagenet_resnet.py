"""The ResNet family: official-size structure and counts, dev model, variants, batch norm.

    .venv/bin/python -m pytest tests/test_workload_imagenet_resnet.py -q
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from sdk import spec
from sdk.registry import workloads
from workloads.common.vision_torch import build_on_meta, count_parameters
from workloads.imagenet_resnet import config
from workloads.imagenet_resnet.model_pytorch import ResNet

RNG = np.array([0, 5], dtype=np.uint32)


def _model(name: str, **overrides) -> tuple[object, nn.Module]:  # noqa: ANN003
    w = workloads().create(name, "dev", "pytorch", model_overrides=overrides or None)
    model, _ = w.init_model_fn(RNG)
    return w, model


@pytest.mark.parametrize("variant", [None, *config.VARIANTS])
def test_official_resnet50_parameter_count(variant: str | None) -> None:
    cfg = replace(config.OFFICIAL, **config.VARIANTS.get(variant, {}))
    model = build_on_meta(lambda: ResNet(cfg))
    assert count_parameters(model) == 25_557_032
    running = sum(b.numel() for n, b in model.named_buffers() if "running" in n)
    assert running == 53_120
    assert count_parameters(model.fc) == 2_049_000


def test_official_structure_v15() -> None:
    model = build_on_meta(lambda: ResNet(config.OFFICIAL))
    assert [len(getattr(model, f"layer{k}")) for k in range(1, 5)] == [3, 4, 6, 3]
    first = model.layer2[0]
    assert first.conv1.stride == (1, 1) and first.conv2.stride == (2, 2)  # v1.5: stride in 3x3
    assert model.layer1[0].downsample is not None and model.layer1[1].downsample is None
    assert model.conv1.kernel_size == (7, 7) and isinstance(model.maxpool, nn.MaxPool2d)


def test_dev_model_and_residual_scale_init() -> None:
    _, base = _model("imagenet_resnet")
    _, large = _model("imagenet_resnet_large_bn_init")
    for model, scale in ((base, 0.0), (large, 8.0)):
        blocks = [m for m in model.modules() if type(m).__name__ == "Bottleneck"]
        assert len(blocks) == 4
        assert all(torch.all(b.bn3.weight == scale) for b in blocks)
        assert all(torch.all(b.bn1.weight == 1.0) for b in blocks)
    assert float(base.fc.weight.detach().std()) == pytest.approx(0.01, rel=0.2)
    assert torch.all(base.fc.bias == 0)


@pytest.mark.parametrize("name,kind", [("imagenet_resnet", nn.ReLU),
                                       ("imagenet_resnet_silu", nn.SiLU),
                                       ("imagenet_resnet_gelu", nn.GELU)])
def test_variant_activations(name: str, kind: type) -> None:
    _, model = _model(name)
    acts = [m for m in model.modules() if isinstance(m, nn.ReLU | nn.SiLU | nn.GELU)]
    assert acts and all(isinstance(m, kind) for m in acts)
    if kind is nn.GELU:
        assert all(m.approximate == "tanh" for m in acts)


def test_output_params_and_types() -> None:
    w, model = _model("imagenet_resnet")
    outputs = [k for k in w.param_shapes if w.is_output_params(k)]
    assert outputs == ["fc.weight", "fc.bias"]
    types = w.model_params_types
    assert types["conv1.weight"] == spec.ParameterType.CONV_WEIGHT
    assert types["layer1.0.bn3.weight"] == spec.ParameterType.BATCH_NORM_SCALE
    assert types["layer1.0.downsample.bn.bias"] == spec.ParameterType.BATCH_NORM_BIAS
    assert set(w.param_shapes) == {n for n, _ in model.named_parameters()}


def test_batch_norm_statistics_follow_update_flag() -> None:
    w, model = _model("imagenet_resnet")
    batch = {"inputs": torch.randn(16, 1, 28, 28) * 3 + 1}
    before = model.bn1.running_mean.clone()
    w.model_fn(model, batch, None, spec.ForwardPassMode.TRAIN, None, update_batch_norm=False)
    torch.testing.assert_close(model.bn1.running_mean, before)
    w.model_fn(model, batch, None, spec.ForwardPassMode.TRAIN, None, update_batch_norm=True)
    assert not torch.allclose(model.bn1.running_mean, before)
    with pytest.raises(ValueError, match="cannot be updated during evaluation"):
        w.model_fn(model, batch, None, spec.ForwardPassMode.EVAL, None, update_batch_norm=True)
    a, _ = w.model_fn(model, batch, None, spec.ForwardPassMode.EVAL, None, False)
    b, _ = w.model_fn(model, batch, None, spec.ForwardPassMode.EVAL, None, False)
    torch.testing.assert_close(a, b)
    assert not a.requires_grad


def test_width_and_depth_knobs_change_the_model() -> None:
    _, small = _model("imagenet_resnet", width_multiplier=0.5)
    _, deep = _model("imagenet_resnet", stage_depths=[2, 2, 2, 2])
    _, base = _model("imagenet_resnet")
    assert count_parameters(small) < count_parameters(base) < count_parameters(deep)
    assert len(deep.layer3) == 2
