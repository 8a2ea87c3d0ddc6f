"""finewebedu_lm: the model in both frameworks, the dev corpus, the workloads, the official reader.

    nice -n 15 .venv/bin/python -m pytest -q tests/test_workload_finewebedu_lm.py
"""

from __future__ import annotations

import math
from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from sdk.errors import PacelineError
from workloads.finewebedu_lm import config, model_jax, model_pytorch

# AlgoPerf's model counted from its code (algoperf/workloads/finewebedu_lm/
# finewebedu_lm_pytorch/models.py): per layer w_qkv 1024 x 3072, w_out 1024 x 1024,
# attn_scale 1, fc1 1024 x 8192 (GLU doubles 4096), fc2 4096 x 1024, two RMSNorm scales of
# 1024; twelve layers, the embedding 50,257 x 1024 (tied: lm_head is the same tensor), the
# final RMSNorm 1024.
ALGOPERF_PARAMETERS = 12 * (3 * 1024**2 + 1024**2 + 1 + 1024 * 8192 + 4096 * 1024 + 2 * 1024) \
    + 50_257 * 1024 + 1024


def torch_count(cfg: config.LmConfig) -> int:
    with torch.device("meta"):
        model = model_pytorch.DecoderLM(cfg)
    return sum(p.numel() for p in model.parameters())  # a tied tensor is listed once


def jax_count(cfg: config.LmConfig) -> int:
    shapes = jax.eval_shape(model_jax.DecoderLM(cfg).init, jax.random.PRNGKey(0),
                            jnp.zeros((1, 8), jnp.int32))
    return sum(math.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(shapes))


def test_official_parameter_count_is_algoperfs_in_both_frameworks() -> None:
    assert ALGOPERF_PARAMETERS == 252_815_372
    assert config.parameter_count(config.OFFICIAL) == ALGOPERF_PARAMETERS
    assert torch_count(config.OFFICIAL) == ALGOPERF_PARAMETERS
    assert jax_count(config.OFFICIAL) == ALGOPERF_PARAMETERS


@pytest.mark.parametrize("change", [{"glu": False}, {"pre_ln": False}, {"qk_norm": False},
                                    {"tie_embeddings": False}, {"num_layers": 3}])
def test_counts_agree_across_frameworks_for_every_knob(change: dict) -> None:
    cfg = replace(config.DEV, **change).check()
    assert torch_count(cfg) == jax_count(cfg) == config.parameter_count(cfg)


def torch_weights_into_flax(model: model_pytorch.DecoderLM) -> dict:
    """The PyTorch model's weights laid out as the Flax module's parameters."""
    def t(x: torch.Tensor) -> np.ndarray:
        return x.detach().numpy()

    params = {"embed": {"embedding": t(model.embed.weight)},
              "ln_out": {"scale": t(model.ln_out.weight)}}
    for i, layer in enumerate(model.layers):
        q, k, v = (t(w).T for w in layer.attention.in_proj.weight.chunk(3, dim=0))
        params[f"layer_{i}"] = {
            "ln_attn": {"scale": t(layer.ln_attn.weight)},
            "ln_mlp": {"scale": t(layer.ln_mlp.weight)},
            "attention": {"query": {"kernel": q}, "key": {"kernel": k}, "value": {"kernel": v},
                     "out": {"kernel": t(layer.attention.out.weight).T},
                     "attn_scale": t(layer.attention.attn_scale)},
            "mlp": {"fc1": {"kernel": t(layer.mlp.fc1.weight).T},
                    "fc2": {"kernel": t(layer.mlp.fc2.weight).T}},
        }
    return params


def test_the_two_frameworks_compute_the_same_function() -> None:
    cfg = replace(config.DEV, seq_len=16, init_std=0.2)
    torch.manual_seed(0)
    model = model_pytorch.DecoderLM(cfg)
    tokens = np.random.default_rng(0).integers(0, cfg.vocab_size, (2, 16))
    with torch.no_grad():
        expected = model(torch.from_numpy(tokens)).numpy()
    got = model_jax.DecoderLM(cfg).apply({"params": torch_weights_into_flax(model)},
                                         jnp.asarray(tokens, jnp.int32))
    np.testing.assert_allclose(np.asarray(got), expected, atol=2e-4, rtol=2e-3)


def test_the_model_is_causal() -> None:
    torch.manual_seed(0)
    model = model_pytorch.DecoderLM(replace(config.DEV, seq_len=16))
    tokens = torch.randint(0, 1024, (1, 16))
    changed = tokens.clone()
    changed[0, 10:] = (changed[0, 10:] + 1) % 1024
    with torch.no_grad():
        a, b = model(tokens), model(changed)
    torch.testing.assert_close(a[:, :10], b[:, :10])
    assert not torch.allclose(a[:, 10:], b[:, 10:])


def test_bad_overrides_are_one_sentence() -> None:
    with pytest.raises(PacelineError, match="Unknown finewebedu_lm model override"):
        config.make_config("dev", {"width": 3})
    with pytest.raises(PacelineError, match="num_heads"):
        config.make_config("dev", {"num_heads": 3})
