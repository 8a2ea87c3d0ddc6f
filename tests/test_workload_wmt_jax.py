"""wmt at dev scale in JAX: the PyTorch dev model's twin (counts, logits, loss, decoding),
attention-probability dropout, a few steps through the runner and the dev-clock probe.

    nice -n 19 .venv/bin/python -m pytest -q tests/test_workload_wmt_jax.py
"""

from __future__ import annotations

from collections import namedtuple
from functools import partial
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

from sdk import spec
from sdk.registry import workloads
from sdk.rulesets import get_ruleset
from sdk.runner import RunOptions, train_once
from sdk.submission import load_submission
from workloads.common import data_cache
from workloads.wmt import data
from workloads.wmt.batching import PairSplit, TrainPackedBatches, eval_pair_batches
from workloads.wmt.bpe import EOS
from workloads.wmt.greedy_jax import greedy_decode as jax_greedy
from workloads.wmt.model_jax import _attention_with_dropout
from workloads.wmt.model_pytorch import Transformer, count_parameters
from workloads.wmt.model_pytorch import greedy_decode as torch_greedy

NAMES = ("wmt", "wmt_post_ln", "wmt_attention_temp", "wmt_glu_tanh")
SMALL = {"train": 600, "validation": 40, "test": 40}
HP = namedtuple("HP", ["learning_rate", "one_minus_beta1", "beta2", "weight_decay",
                       "warmup_factor", "label_smoothing", "dropout_rate"])(
    1e-3, 0.1, 0.999, 0.0, 0.05, 0.1, 0.1)


@pytest.fixture(scope="module")
def small_dir(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("wmt_jax") / "corpus"
    build = partial(data.build_dev, sizes=SMALL, progress=False)
    return str(data_cache.prepare("wmt", build, str(folder)))


@pytest.fixture(scope="module")
def splits(small_dir) -> dict[str, PairSplit]:
    return {k: PairSplit(v) for k, v in data.load(small_dir)[0].items()}


def _pair(name: str) -> tuple:
    return (workloads().create(name, "dev", "pytorch"), workloads().create(name, "dev", "jax"))


def _packed_batch(split: PairSplit, rows: int = 4) -> dict[str, np.ndarray]:
    return next(iter(TrainPackedBatches(split, rows, data.MAX_LEN, seed=0)))


# ---- PyTorch weights in the Flax tree ---------------------------------------------------------
def _heads(weight: np.ndarray, heads: int) -> np.ndarray:
    """A PyTorch [out, in] projection as a Flax [in, heads, head_dim] kernel."""
    return weight.T.reshape(weight.shape[1], heads, -1)


def _attention(state: dict, prefix: str, heads: int) -> dict:
    if f"{prefix}.in_proj.weight" in state:
        q, k, v = np.split(state[f"{prefix}.in_proj.weight"], 3)
    else:
        q = state[f"{prefix}.q_proj.weight"]
        k, v = np.split(state[f"{prefix}.kv_proj.weight"], 2)
    out = state[f"{prefix}.out_proj.weight"]
    return {"query": {"kernel": _heads(q, heads)}, "key": {"kernel": _heads(k, heads)},
            "value": {"kernel": _heads(v, heads)},
            "out": {"kernel": out.T.reshape(heads, -1, out.shape[0])}}


def _block(state: dict, prefix: str, attentions: tuple[str, ...], heads: int) -> dict:
    def dense(name: str) -> dict:
        return {"kernel": state[f"{prefix}.mlp.{name}.weight"].T,
                "bias": state[f"{prefix}.mlp.{name}.bias"]}

    linears = [n for n in ("linear1", "linear_glu", "linear2")
               if f"{prefix}.mlp.{n}.weight" in state]
    block = {f"MultiHeadDotProductAttention_{i}": _attention(state, f"{prefix}.{a}", heads)
             for i, a in enumerate(attentions)}
    block["MlpBlock_0"] = {f"Dense_{i}": dense(n) for i, n in enumerate(linears)}
    for i in range(len(attentions) + 1):
        block[f"LayerNorm_{i}"] = {"scale": state[f"{prefix}.norm{i + 1}.weight"],
                                   "bias": state[f"{prefix}.norm{i + 1}.bias"]}
    return block


def flax_params_from_torch(model: Transformer) -> dict:
    """The PyTorch dev model's weights in the Flax model's parameter tree."""
    state = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    cfg, params = model.config, {"shared_embedding": {
        "embedding": state["shared_embedding.weight"]}}
    for i in range(cfg.num_encoder_layers):
        params[f"encoder_blocks_{i}"] = _block(state, f"encoder_layers.{i}", ("self_attn",),
                                               cfg.num_heads)
    for i in range(cfg.num_decoder_layers):
        params[f"decoder_blocks_{i}"] = _block(state, f"decoder_layers.{i}",
                                               ("self_attn", "multihead_attn"), cfg.num_heads)
    for norm in ("encoder_norm", "decoder_norm"):
        if f"{norm}.weight" in state:
            params[norm] = {"scale": state[f"{norm}.weight"], "bias": state[f"{norm}.bias"]}
    return params


# ---- the same model ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_parameters_are_the_pytorch_dev_models(name):
    torch_w, jax_w = _pair(name)
    params, state = jax_w.init_model_fn(jax.random.PRNGKey(0))
    model, _ = torch_w.init_model_fn(np.array([1, 0], np.uint32))
    assert state is None
    assert jax_w.model_config == torch_w.model_config
    assert sum(x.size for x in jax.tree_util.tree_leaves(params)) == count_parameters(
        torch_w.model_config)
    theirs = jax.tree_util.tree_map(np.shape, flax_params_from_torch(model))
    assert jax.tree_util.tree_map(np.shape, params) == theirs


@pytest.mark.parametrize("name", NAMES)
def test_pytorch_weights_give_the_same_logits_and_loss(name, splits):
    torch_w, jax_w = _pair(name)
    model, _ = torch_w.init_model_fn(np.array([2, 0], np.uint32))
    batch = _packed_batch(splits["train"])
    theirs, _ = torch_w.model_fn(model, {k: torch.from_numpy(v) for k, v in batch.items()},
                                 None, spec.ForwardPassMode.EVAL, None, False)
    ours, _ = jax_w.model_fn(flax_params_from_torch(model),
                             {k: jnp.asarray(v) for k, v in batch.items()}, None,
                             spec.ForwardPassMode.EVAL, None, False)
    assert np.allclose(np.asarray(ours), theirs.detach().numpy(), atol=2e-4)
    weights = batch["weights"]
    torch_loss = torch_w.loss_fn(torch.from_numpy(batch["targets"]), theirs,
                                 torch.from_numpy(weights), 0.1)["summed"]
    jax_loss = jax_w.loss_fn(jnp.asarray(batch["targets"]), ours, jnp.asarray(weights),
                             0.1)["summed"]
    assert float(jax_loss) == pytest.approx(float(torch_loss), rel=1e-5)


def test_greedy_translations_are_the_pytorch_ones(splits):
    torch_w, jax_w = _pair("wmt")
    model, _ = torch_w.init_model_fn(np.array([4, 0], np.uint32))
    batch = next(eval_pair_batches(splits["validation"], 16, 16))
    theirs = torch_greedy(model, torch.from_numpy(batch["inputs"]), 64, EOS).numpy()
    ours = jax_greedy(flax_params_from_torch(model), jax_w.model_config, batch["inputs"], EOS)
    assert ours.shape == theirs.shape and (ours == theirs).all()


def _initial_losses(workload, batch: dict, seeds: range) -> list[float]:
    """Per-token loss (label smoothing 0.1) of a fresh model from each of ``seeds``."""
    def loss(params: Any, inputs: dict) -> Any:
        logits, _ = workload.model_fn(params, inputs, None, spec.ForwardPassMode.EVAL, None,
                                      False)
        out = workload.loss_fn(inputs["targets"], logits, inputs["weights"], 0.1)
        return out["summed"] / out["n_valid_examples"]

    if workload.framework == "jax":
        inputs = {k: jnp.asarray(v) for k, v in batch.items()}
        init, loss = jax.jit(workload._init_variables), jax.jit(loss)
        return [float(loss(init(jax.random.PRNGKey(seed))[0], inputs)) for seed in seeds]
    inputs = {k: torch.from_numpy(v) for k, v in batch.items()}
    with torch.no_grad():
        return [float(loss(workload.init_model_fn(np.array([seed, 0], np.uint32))[0], inputs))
                for seed in seeds]


def test_initial_loss_is_the_pytorch_models(splits):
    """Each framework's own initialisation (same distributions up to the attention
    projections' xavier fans) starts from the same loss on a fixed batch: about 7.55 nats,
    one seed's loss varying by about 0.07 in either framework, the means of six by 0.03."""
    torch_w, jax_w = _pair("wmt")
    batch = _packed_batch(splits["train"], rows=16)
    seeds = range(1, 7)
    torch_losses, jax_losses = (_initial_losses(w, batch, seeds) for w in (torch_w, jax_w))
    assert np.mean(jax_losses) == pytest.approx(np.mean(torch_losses), rel=0.02)


# ---- dropout ----------------------------------------------------------------------------------
def test_attention_probabilities_are_dropped_at_dev_scale_only():
    rate = 0.5
    query = jax.random.normal(jax.random.PRNGKey(1), (2, 8, 4, 6))
    key = jax.random.normal(jax.random.PRNGKey(2), (2, 8, 4, 6))
    # one-hot values: the output is the attention probabilities themselves
    value = jnp.broadcast_to(jnp.eye(8)[None, :, None, :], (2, 8, 4, 8))
    dropped = _attention_with_dropout(rate, jax.random.PRNGKey(3))(query, key, value)
    plain = jnp.einsum("bhqk->bqhk", nn.dot_product_attention_weights(query, key))
    zero = np.asarray(dropped) == 0
    assert 0.35 < zero.mean() < 0.65
    assert np.allclose(np.asarray(dropped)[~zero], np.asarray(plain)[~zero] / (1 - rate))
    assert workloads().create("wmt", "dev", "jax").model_config.attention_dropout
    assert not workloads().create("wmt", "official", "jax").model_config.attention_dropout


def test_training_mode_draws_dropout_from_the_rng(splits):
    _, jax_w = _pair("wmt")
    params, _ = jax_w.init_model_fn(jax.random.PRNGKey(0))
    batch = {k: jnp.asarray(v) for k, v in _packed_batch(splits["train"]).items()}

    def logits(rng: jax.Array, rate: float) -> np.ndarray:
        return np.asarray(jax_w.model_fn(params, batch, None, spec.ForwardPassMode.TRAIN, rng,
                                         False, rate)[0])

    assert np.array_equal(logits(jax.random.PRNGKey(5), 0.1), logits(jax.random.PRNGKey(5), 0.1))
    assert not np.allclose(logits(jax.random.PRNGKey(5), 0.1), logits(jax.random.PRNGKey(6), 0.1))
    evaluated = jax_w.model_fn(params, batch, None, spec.ForwardPassMode.EVAL, None, False)[0]
    assert np.allclose(logits(jax.random.PRNGKey(5), 0.0), np.asarray(evaluated), atol=1e-5)


# ---- the runner and the dev clock -------------------------------------------------------------
def _quick_eval(workload, **kwargs):
    """The same workload evaluating 40 examples per split (runner tests stay fast)."""
    cls = type(workload)
    return type(cls.__name__, (cls,), {"num_eval_train_examples": 40,
                                       "num_validation_examples": 40,
                                       "num_test_examples": 40})(**kwargs)


@pytest.mark.slow
def test_a_few_steps_through_the_runner(small_dir, tmp_path):
    # the budget is scaled up: compiling counts as submission time and this is a smoke test
    workload = _quick_eval(workloads().create("wmt", "dev", "jax"), time_scale=50)
    result = train_once(workload, load_submission("nadamw", "jax", "external"), HP, 1,
                        get_ruleset("0.5"),
                        RunOptions(data_dir=small_dir, max_global_steps=3, tensorboard=False),
                        tmp_path / "trial")
    assert result.status == "max_global_steps" and result.global_step == 3
    assert 0 <= result.best_validation_metric < 5  # an untrained model's BLEU


@pytest.mark.slow
def test_the_dev_clock_probes_nadamw_on_wmt_in_jax(small_dir, tmp_path, monkeypatch):
    from workloads import dev_clock

    monkeypatch.setenv("PACELINE_CACHE_DIR", str(tmp_path / "cache"))
    base, recorded = dev_clock.reference_step("wmt_glu_tanh")
    assert base == "wmt"
    entry = dev_clock.probe(base, "jax", recorded, small_dir, seconds=0.5)
    assert entry["scale"] > 0 and entry["steps"] >= 1
