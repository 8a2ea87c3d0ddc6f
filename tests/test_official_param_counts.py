"""Official-scale models have AlgoPerf's parameter counts, as `paceline workloads` reports them.

    nice -n 15 .venv/bin/python -m pytest -q tests/test_official_param_counts.py

``ALGOPERF_PARAMETERS`` is the one table: a family that gains an official scale (or a new
framework at it) appends its rows, one per ``(workload, framework)``, with the count AlgoPerf's
own model has (trainable parameters: ``sum(p.numel())`` over ``model.parameters()`` in PyTorch,
the leaves of ``params`` in JAX, as AlgoPerf's ``tests/test_num_params.py`` counts them). A
registered official class without a row fails ``test_every_official_workload_has_a_row``.
"""

from __future__ import annotations

import json
import math

import pytest

from sdk.cli.main import main
from sdk.param_count import count_row, workload_rows
from sdk.registry import workloads

# (workload, framework) -> AlgoPerf's parameter count of the official model.
ALGOPERF_PARAMETERS: dict[tuple[str, str], int] = {
    # MLP 784-128-10: algoperf/workloads/mnist/mnist_pytorch/workload.py (and mnist_jax)
    ("mnist", "pytorch"): 101_770,
    ("mnist", "jax"): 101_770,
    # Conformer, 4 layers of width 512:
    # algoperf/workloads/librispeech_conformer/librispeech_pytorch/models.py
    ("librispeech_conformer", "pytorch"): 32_321_792,
    ("librispeech_conformer_attention_temperature", "pytorch"): 32_321_792,
    ("librispeech_conformer_gelu", "pytorch"): 32_321_792,
    ("librispeech_conformer_layernorm", "pytorch"): 32_317_696,
    # algoperf/workloads/librispeech_conformer/librispeech_jax/models.py
    ("librispeech_conformer", "jax"): 32_321_792,
    ("librispeech_conformer_attention_temperature", "jax"): 32_321_792,
    ("librispeech_conformer_gelu", "jax"): 32_321_792,
    ("librispeech_conformer_layernorm", "jax"): 32_317_696,
    # DeepSpeech: algoperf/workloads/librispeech_deepspeech/librispeech_pytorch/models.py
    ("librispeech_deepspeech", "pytorch"): 18_393_600,
    ("librispeech_deepspeech_no_resnet", "pytorch"): 18_393_600,
    ("librispeech_deepspeech_tanh", "pytorch"): 18_393_600,
    ("librispeech_deepspeech_norm_and_spec_aug", "pytorch"): 18_392_576,
    # algoperf/workloads/librispeech_deepspeech/librispeech_jax/models.py: its LSTM cell has
    # one bias per gate (PyTorch's two), 6 layers x 2 directions x 4 gates x 256 fewer
    ("librispeech_deepspeech", "jax"): 18_381_312,
    ("librispeech_deepspeech_no_resnet", "jax"): 18_381_312,
    ("librispeech_deepspeech_tanh", "jax"): 18_381_312,
    ("librispeech_deepspeech_norm_and_spec_aug", "jax"): 18_380_288,
    # decoder-only LM, 12 layers of width 1024, tied GPT-2 embedding:
    # algoperf/workloads/finewebedu_lm/finewebedu_lm_pytorch/models.py (and _jax/models.py)
    ("finewebedu_lm", "pytorch"): 252_815_372,
    ("finewebedu_lm", "jax"): 252_815_372,
    # U-Net: algoperf/workloads/fastmri/fastmri_pytorch/models.py (and fastmri_jax/models.py)
    ("fastmri", "pytorch"): 7_756_097,
    ("fastmri", "jax"): 7_756_097,
    ("fastmri_model_size", "pytorch"): 7_692_929,
    ("fastmri_model_size", "jax"): 7_692_929,
    ("fastmri_tanh", "pytorch"): 7_756_097,
    ("fastmri_tanh", "jax"): 7_756_097,
    ("fastmri_layernorm", "pytorch"): 7_761_985,
    ("fastmri_layernorm", "jax"): 7_761_985,
    # DLRM-small and DLRMResNet: algoperf/workloads/criteo1tb/criteo1tb_pytorch/models.py
    # (and criteo1tb_jax/models.py)
    ("criteo1tb", "pytorch"): 539_267_457,
    ("criteo1tb", "jax"): 539_267_457,
    ("criteo1tb_layernorm", "pytorch"): 539_275_137,
    ("criteo1tb_layernorm", "jax"): 539_275_137,
    ("criteo1tb_resnet", "pytorch"): 538_121_473,
    ("criteo1tb_resnet", "jax"): 538_121_473,
    ("criteo1tb_embed_init", "pytorch"): 539_267_457,
    ("criteo1tb_embed_init", "jax"): 539_267_457,
    # ResNet-50 v1.5: algoperf/workloads/imagenet_resnet/imagenet_pytorch/models.py (and _jax)
    ("imagenet_resnet", "pytorch"): 25_557_032,
    ("imagenet_resnet", "jax"): 25_557_032,
    ("imagenet_resnet_silu", "pytorch"): 25_557_032,
    ("imagenet_resnet_silu", "jax"): 25_557_032,
    ("imagenet_resnet_gelu", "pytorch"): 25_557_032,
    ("imagenet_resnet_gelu", "jax"): 25_557_032,
    ("imagenet_resnet_large_bn_init", "pytorch"): 25_557_032,
    ("imagenet_resnet_large_bn_init", "jax"): 25_557_032,
    # ViT-S/16: algoperf/workloads/imagenet_vit/imagenet_pytorch/models.py (and _jax)
    ("imagenet_vit", "pytorch"): 22_122_472,
    ("imagenet_vit", "jax"): 22_122_472,
    ("imagenet_vit_glu", "pytorch"): 50_452_456,
    ("imagenet_vit_glu", "jax"): 50_452_456,
    ("imagenet_vit_post_ln", "pytorch"): 22_121_704,
    ("imagenet_vit_post_ln", "jax"): 22_121_704,
    ("imagenet_vit_map", "pytorch"): 23_896_552,
    ("imagenet_vit_map", "jax"): 23_896_552,
    # GNN: algoperf/workloads/ogbg/ogbg_pytorch/models.py (and ogbg_jax/models.py)
    ("ogbg", "pytorch"): 3_554_176,
    ("ogbg", "jax"): 3_554_176,
    ("ogbg_gelu", "pytorch"): 3_554_176,
    ("ogbg_gelu", "jax"): 3_554_176,
    ("ogbg_silu", "pytorch"): 3_554_176,
    ("ogbg_silu", "jax"): 3_554_176,
    ("ogbg_model_size", "pytorch"): 2_571_648,
    ("ogbg_model_size", "jax"): 2_571_648,
    # Transformer 6+6: algoperf/workloads/wmt/wmt_pytorch/models.py (and wmt_jax/models.py)
    ("wmt", "pytorch"): 133_521_408,
    ("wmt", "jax"): 133_521_408,
    ("wmt_attention_temp", "pytorch"): 133_521_408,
    ("wmt_attention_temp", "jax"): 133_521_408,
    ("wmt_post_ln", "pytorch"): 133_517_312,
    ("wmt_post_ln", "jax"): 133_517_312,
    ("wmt_glu_tanh", "pytorch"): 146_116_608,
    ("wmt_glu_tanh", "jax"): 146_116_608,
}

OFFICIAL = [(name, fw) for name in workloads().names()
            for fw in workloads().entry(name).frameworks("official")
            if workloads().entry(name).classes["official"][fw].startswith("workloads.")]


@pytest.mark.parametrize("name, framework", sorted(ALGOPERF_PARAMETERS))
def test_official_count_matches_algoperf(name: str, framework: str) -> None:
    if name not in workloads() or framework not in workloads().entry(name).frameworks("official"):
        pytest.skip(f"{name} has no official {framework} class registered yet")
    row = count_row(name, "official", framework)
    assert row.note == ""
    assert row.parameters == ALGOPERF_PARAMETERS[(name, framework)]


@pytest.mark.parametrize("name, framework", OFFICIAL)
def test_every_official_workload_has_a_row(name: str, framework: str) -> None:
    assert (name, framework) in ALGOPERF_PARAMETERS, (
        f"add AlgoPerf's parameter count of {name} ({framework}) to ALGOPERF_PARAMETERS")


def test_counting_allocates_no_parameter_memory() -> None:
    """A PyTorch model counted on the meta device holds no storage (the count is of shapes)."""
    import numpy as np
    import torch

    w = workloads().create("librispeech_conformer", "official", "pytorch")
    with torch.device("meta"):
        model, _ = w.init_model_fn(np.zeros(2, np.uint32))
    assert {p.device.type for p in model.parameters()} == {"meta"}


def test_a_failing_count_is_a_note_in_its_row(monkeypatch: pytest.MonkeyPatch) -> None:
    import sdk.param_count as pc

    def broken(workload: object) -> int:
        raise RuntimeError("needs data at init\nsecond line")

    monkeypatch.setitem(pc.COUNTERS, "pytorch", broken)
    row = count_row("mnist", "official", "pytorch")
    assert row.parameters is None
    assert row.note == "cannot be counted without allocating: RuntimeError: needs data at init"


def test_cli_lists_and_writes_json(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "counts.json"
    assert main(["workloads", "--scale", "official", "--framework", "pytorch",
                 "--json", str(out)]) == 0
    table = capsys.readouterr().out
    assert "MnistPyTorchOfficial" in table and "32,321,792" in table
    rows = json.loads(out.read_text())["workloads"]
    assert {r["scale"] for r in rows} == {"official"}
    assert {r["framework"] for r in rows} == {"pytorch"}
    mnist = next(r for r in rows if r["name"] == "mnist")
    assert mnist["parameters"] == 101_770 and mnist["base"] is None
    variant = next(r for r in rows if r["name"] == "librispeech_deepspeech_tanh")
    assert variant["base"] == "librispeech_deepspeech"


def test_dev_rows_cover_both_frameworks() -> None:
    rows = workload_rows(scale="dev", framework=None)
    mnist = {r.framework: r.parameters for r in rows if r.name == "mnist"}
    assert mnist == {"pytorch": 101_770, "jax": 101_770}
    assert all(r.parameters is None or (r.parameters > 0 and math.isfinite(r.parameters))
               for r in rows)


def test_cli_refuses_an_unwritable_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["workloads", "--scale", "dev", "--json", "/no/such/folder/x.json"]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Traceback" not in err
