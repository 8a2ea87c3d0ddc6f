"""The LibriSpeech families in JAX: dev workloads train through the runner, the Flax models
compute what the PyTorch ones compute (weights copied across), and parameter counts match.

    nice -n 19 .venv/bin/python -m pytest -q tests/test_workload_librispeech_jax.py
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from sdk import spec
from sdk.registry import workloads
from sdk.rulesets import get_ruleset
from sdk.runner import RunOptions, train_once
from sdk.search_space import make_hyperparameters
from sdk.submission import load_submission
from workloads.common.speech import data

jax = pytest.importorskip("jax")

pytestmark = pytest.mark.usefixtures("torch_one_thread")

CONFORMERS = ["librispeech_conformer", "librispeech_conformer_attention_temperature",
              "librispeech_conformer_layernorm", "librispeech_conformer_gelu"]
HP = {"dropout_rate": 0.1, "label_smoothing": 0.0, "learning_rate": 1e-3,
      "one_minus_beta1": 0.1, "beta2": 0.999, "weight_decay": 0.0, "warmup_factor": 0.0}


def _numpy_batch(speech_tiny_dir, rows=2):
    d = data.load_dev(speech_tiny_dir)
    return d.splits["train"].batch(np.arange(rows), d.num_samples, d.num_targets)


@pytest.mark.slow  # about a minute each on a busy 2-core CPU (compiling the update step)
@pytest.mark.parametrize("name", CONFORMERS)
def test_dev_jax_trains_through_the_runner(name, speech_tiny_dir):
    w = workloads().create(name, "dev", "jax")
    result = train_once(w, load_submission("nadamw", "jax", "external"),
                        make_hyperparameters(HP), 0, get_ruleset("0.6"),
                        RunOptions(data_dir=speech_tiny_dir, max_global_steps=2, tensorboard=False,
                                   clock="dev", clock_scale=1.0),
                        trial_dir=None)
    assert result.global_step == 2 and result.status == "max_global_steps"
    assert result.num_evals >= 1 and result.target_metric == "wer"
    assert math.isfinite(result.best_validation_metric)
    assert result.best_validation_metric >= 0.0


@pytest.mark.parametrize("name", CONFORMERS)
def test_dev_jax_count_equals_pytorch(name, speech_tiny_dir):
    from sdk.param_count import count_row

    data.load_dev(speech_tiny_dir)
    jax_w = workloads().create(name, "dev", "jax")
    jax_w._speech_data(speech_tiny_dir)
    params = jax.eval_shape(lambda: jax_w._init_variables(jax.random.PRNGKey(0))[0])
    torch_w = workloads().create(name, "dev", "pytorch")
    torch_w._speech_data(speech_tiny_dir)
    model, _ = torch_w.init_model_fn(np.zeros(2, np.uint32))
    assert sum(x.size for x in jax.tree_util.tree_leaves(params)) == sum(
        p.numel() for p in model.parameters())
    assert count_row(name, "official", "jax").parameters == count_row(
        name, "official", "pytorch").parameters


def _conformer_params_from_torch(model):
    """The Flax Conformer's variables holding the PyTorch Conformer's weights."""
    sd = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    c = model.config
    heads, depth = c.num_attention_heads, c.encoder_dim // c.num_attention_heads

    def linear(prefix):
        return {"kernel": sd[f"{prefix}.weight"].T, "bias": sd[f"{prefix}.bias"]}

    def ln(prefix):
        return {"scale": sd[f"{prefix}.scale"], "bias": sd[f"{prefix}.bias"]}

    def conv2d(prefix):
        return {"kernel": sd[f"{prefix}.kernel"].transpose(2, 3, 1, 0),
                "bias": sd[f"{prefix}.bias"]}

    params = {"subsample": {"conv1": conv2d("subsample.conv1"),
                            "conv2": conv2d("subsample.conv2"),
                            "linear": linear("subsample.linear")},
              "ln": ln("ln"), "lin": linear("lin")}
    stats = {}
    for i in range(c.num_encoder_layers):
        p = f"conformers.{i}"
        w_in, b_in = sd[f"{p}.mhsa.self_attention.in_proj.weight"], sd[
            f"{p}.mhsa.self_attention.in_proj.bias"]
        attn = {name: {"kernel": w_in[j * c.encoder_dim:(j + 1) * c.encoder_dim].T.reshape(
                           c.encoder_dim, heads, depth),
                       "bias": b_in[j * c.encoder_dim:(j + 1) * c.encoder_dim].reshape(heads,
                                                                                      depth)}
                for j, name in enumerate(("query", "key", "value"))}
        attn["out"] = {"kernel": sd[f"{p}.mhsa.self_attention.out_proj.weight"].T.reshape(
                           heads, depth, c.encoder_dim),
                       "bias": sd[f"{p}.mhsa.self_attention.out_proj.bias"]}
        attn["qs_scale"] = sd[f"{p}.mhsa.self_attention.qs.scale"]
        block = {f"ff{k}": {"ln": ln(f"{p}.ff{k}.ln"), "linear1": linear(f"{p}.ff{k}.linear1"),
                            "linear2": linear(f"{p}.ff{k}.linear2")} for k in (1, 2)}
        block["mhsa"] = {"ln": ln(f"{p}.mhsa.ln"), "self_attention": attn}
        block["conv"] = {"ln": ln(f"{p}.conv.ln"), "lin1": linear(f"{p}.conv.lin1"),
                         "lin2": linear(f"{p}.conv.lin2"), "lin3": linear(f"{p}.conv.lin3"),
                         "conv1": {"kernel": sd[f"{p}.conv.conv1.weight"].transpose(2, 1, 0)},
                         "bn": {"scale": sd[f"{p}.conv.bn.scale"], "bias": sd[f"{p}.conv.bn.bias"]}}
        if c.use_post_layer_norm:
            block["ln"] = ln(f"{p}.ln")
        params[f"conformers_{i}"] = block
        stats[f"conformers_{i}"] = {"conv": {"bn": {
            "mean": sd[f"{p}.conv.bn.running_mean"], "var": sd[f"{p}.conv.bn.running_var"]}}}
    return params, stats


@pytest.mark.parametrize("name", CONFORMERS)
def test_conformer_jax_computes_what_pytorch_computes(name, speech_tiny_dir):
    """Eval mode (no dropout, no SpecAugment, running BN statistics), weights copied over."""
    torch_w = workloads().create(name, "dev", "pytorch")
    torch_w._speech_data(speech_tiny_dir)
    torch.manual_seed(0)
    model, _ = torch_w.init_model_fn(np.zeros(2, np.uint32))
    with torch.no_grad():  # non-trivial norms and statistics
        for n, t in model.named_parameters():
            if n.endswith(("scale", "bias")):
                t.uniform_(-0.3, 0.3)
        for n, t in model.named_buffers():
            if "running" in n:
                t.uniform_(0.5, 1.5)
    batch = _numpy_batch(speech_tiny_dir)
    (expected, pads), _ = torch_w.model_fn(
        model, {"inputs": tuple(torch.from_numpy(x) for x in batch["inputs"])}, None,
        spec.ForwardPassMode.EVAL, None, False)
    jax_w = workloads().create(name, "dev", "jax")
    jax_w._speech_data(speech_tiny_dir)
    params, stats = _conformer_params_from_torch(model)
    reference = jax_w._init_variables(jax.random.PRNGKey(0))
    assert jax.tree_util.tree_structure(params) == jax.tree_util.tree_structure(reference[0])
    (logits, jax_pads), _ = jax_w.model_fn(
        params, {"inputs": batch["inputs"]}, stats, spec.ForwardPassMode.EVAL, None, False)
    np.testing.assert_array_equal(np.asarray(jax_pads), pads.numpy())
    valid = pads.numpy() == 0
    np.testing.assert_allclose(np.asarray(logits)[valid], expected.numpy()[valid],
                               rtol=2e-3, atol=2e-3)


def test_ctc_loss_matches_pytorch(speech_tiny_dir):
    jax_w = workloads().create("librispeech_conformer", "dev", "jax")
    torch_w = workloads().create("librispeech_conformer", "dev", "pytorch")
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 30, 29)).astype(np.float32)
    pads = np.zeros((2, 30), np.float32)
    pads[1, 22:] = 1
    ids = rng.integers(1, 29, size=(2, 6)).astype(np.float32)
    id_pads = np.zeros((2, 6), np.float32)
    id_pads[0, 4:] = 1
    ours = jax_w.loss_fn((ids, id_pads), (logits, pads))
    ref = torch_w.loss_fn((torch.from_numpy(ids), torch.from_numpy(id_pads)),
                          (torch.from_numpy(logits), torch.from_numpy(pads)))
    np.testing.assert_allclose(np.asarray(ours["per_example"]), ref["per_example"].numpy(),
                               rtol=1e-4)
    assert float(ours["n_valid_examples"]) == float(ref["n_valid_examples"]) == 10


def test_train_mode_updates_batch_norm_only_when_asked(speech_tiny_dir):
    w = workloads().create("librispeech_conformer", "dev", "jax")
    w._speech_data(speech_tiny_dir)
    params, state = w.init_model_fn(jax.random.PRNGKey(0))
    batch = {"inputs": _numpy_batch(speech_tiny_dir)["inputs"]}
    key = jax.random.PRNGKey(1)
    _, same = w.model_fn(params, batch, state, spec.ForwardPassMode.TRAIN, key, False)
    assert same is state
    _, moved = w.model_fn(params, batch, state, spec.ForwardPassMode.TRAIN, key, True)
    before = state["conformers_0"]["conv"]["bn"]["mean"]
    assert not np.allclose(moved["conformers_0"]["conv"]["bn"]["mean"], before)
    (a, _), _ = w.model_fn(params, batch, state, spec.ForwardPassMode.EVAL, None, False)
    (b, _), _ = w.model_fn(params, batch, state, spec.ForwardPassMode.EVAL, None, False)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert w.is_output_params("lin") and not w.is_output_params("ln")
    types = w.model_params_types
    assert types["conformers_0"]["conv"]["bn"]["scale"] == spec.ParameterType.BATCH_NORM_SCALE
    assert types["conformers_0"]["mhsa"]["self_attention"]["query"]["kernel"] == \
        spec.ParameterType.ATTENTION_Q


# ---- DeepSpeech ------------------------------------------------------------------------------
DEEPSPEECHES = ["librispeech_deepspeech", "librispeech_deepspeech_tanh",
                "librispeech_deepspeech_no_resnet", "librispeech_deepspeech_norm_and_spec_aug"]


@pytest.mark.slow  # about a minute each on a busy 2-core CPU (compiling the update step)
@pytest.mark.parametrize("name", DEEPSPEECHES)
def test_dev_deepspeech_jax_trains_through_the_runner(name, speech_tiny_dir):
    test_dev_jax_trains_through_the_runner(name, speech_tiny_dir)


@pytest.mark.parametrize("name", DEEPSPEECHES)
def test_dev_deepspeech_count_is_pytorch_less_one_lstm_bias(name, speech_tiny_dir):
    """Flax's LSTMCell has one bias per gate, PyTorch's LSTM two (as upstream's JAX model)."""
    from sdk.param_count import count_row

    jax_w = workloads().create(name, "dev", "jax")
    jax_w._speech_data(speech_tiny_dir)
    params = jax.eval_shape(lambda: jax_w._init_variables(jax.random.PRNGKey(0))[0])
    torch_w = workloads().create(name, "dev", "pytorch")
    torch_w._speech_data(speech_tiny_dir)
    model, _ = torch_w.init_model_fn(np.zeros(2, np.uint32))
    c = torch_w.model_config
    one_bias = c.num_lstm_layers * 2 * 4 * (c.encoder_dim // 2)
    assert one_bias == 1_024  # 2 layers x 2 directions x 4 gates x 64
    assert sum(x.size for x in jax.tree_util.tree_leaves(params)) == sum(
        p.numel() for p in model.parameters()) - one_bias
    assert count_row(name, "official", "pytorch").parameters - count_row(
        name, "official", "jax").parameters == 6 * 2 * 4 * 256


def _deepspeech_params_from_torch(model):
    """The Flax DeepSpeech's variables holding the PyTorch model's weights (LSTM biases
    b_ih + b_hh folded into the cell's one bias per gate)."""
    sd = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    c = model.config

    def linear(prefix):
        return {"kernel": sd[f"{prefix}.weight"].T, "bias": sd[f"{prefix}.bias"]}

    def norm(prefix):
        if c.layernorm_everywhere:
            p = f"{prefix}.normalization_layer"
            return {"layernorm": {"scale": sd[f"{p}.scale"], "bias": sd[f"{p}.bias"]}}, {}
        p = f"{prefix}.bn_normalization_layer"
        return ({"bn_normalization_layer": {"weight": sd[f"{p}.weight"], "bias": sd[f"{p}.bias"]}},
                {"bn_normalization_layer": {"mean": sd[f"{p}.running_mean"],
                                            "var": sd[f"{p}.running_var"]}})

    def cell(prefix, suffix):
        w_ih, w_hh = sd[f"{prefix}.weight_ih_l0{suffix}"], sd[f"{prefix}.weight_hh_l0{suffix}"]
        bias = sd[f"{prefix}.bias_ih_l0{suffix}"] + sd[f"{prefix}.bias_hh_l0{suffix}"]
        out = {}
        for g, (w_in, w_h, b) in zip("ifgo", zip(np.split(w_ih, 4), np.split(w_hh, 4),
                                                 np.split(bias, 4), strict=True), strict=True):
            out[f"i{g}"] = {"kernel": w_in.T}
            out[f"h{g}"] = {"kernel": w_h.T, "bias": b}
        return out

    conv = {k: {"kernel": sd[f"subsample.{k}.kernel"].transpose(2, 3, 1, 0),
                "bias": sd[f"subsample.{k}.bias"]} for k in ("conv1", "conv2")}
    params = {"subsample": {**conv, "lin": linear("subsample.lin")}, "lin": linear("lin")}
    stats = {}
    if c.enable_decoder_layer_norm:
        params["ln"] = {"scale": sd["ln.scale"], "bias": sd["ln.bias"]}
    for i in range(c.num_lstm_layers):
        p, s = norm(f"lstms.{i}")
        params[f"lstms_{i}"] = {**p, "forward": cell(f"lstms.{i}.lstm", ""),
                                "backward": cell(f"lstms.{i}.lstm", "_reverse")}
        stats[f"lstms_{i}"] = s
    for i in range(c.num_ffn_layers):
        p, s = norm(f"ffns.{i}")
        params[f"ffns_{i}"] = {**p, "lin": linear(f"ffns.{i}.lin")}
        stats[f"ffns_{i}"] = s
    return params, stats


@pytest.mark.parametrize("name", DEEPSPEECHES)
def test_deepspeech_jax_computes_what_pytorch_computes(name, speech_tiny_dir):
    """Eval mode, weights copied over; utterances of different lengths (the backward LSTM
    must reverse only each utterance's valid frames)."""
    torch_w = workloads().create(name, "dev", "pytorch")
    torch_w._speech_data(speech_tiny_dir)
    torch.manual_seed(0)
    model, _ = torch_w.init_model_fn(np.zeros(2, np.uint32))
    with torch.no_grad():
        for n, t in model.named_parameters():
            if n.endswith(("scale", "bias")) and "lstm" not in n:
                t.uniform_(-0.3, 0.3)
        for n, t in model.named_buffers():
            if "running" in n:
                t.uniform_(0.5, 1.5)
    batch = _numpy_batch(speech_tiny_dir, rows=3)
    assert len({int((p == 0).sum()) for p in batch["inputs"][1]}) > 1
    (expected, pads), _ = torch_w.model_fn(
        model, {"inputs": tuple(torch.from_numpy(x) for x in batch["inputs"])}, None,
        spec.ForwardPassMode.EVAL, None, False)
    jax_w = workloads().create(name, "dev", "jax")
    jax_w._speech_data(speech_tiny_dir)
    params, stats = _deepspeech_params_from_torch(model)
    reference = jax_w._init_variables(jax.random.PRNGKey(0))
    assert jax.tree_util.tree_structure(params) == jax.tree_util.tree_structure(reference[0])
    (logits, jax_pads), _ = jax_w.model_fn(
        params, {"inputs": batch["inputs"]}, stats or None, spec.ForwardPassMode.EVAL, None,
        False)
    np.testing.assert_array_equal(np.asarray(jax_pads), pads.numpy())
    valid = pads.numpy() == 0
    np.testing.assert_allclose(np.asarray(logits)[valid], expected.numpy()[valid],
                               rtol=2e-3, atol=2e-3)


def test_a_model_without_batch_norm_trains_with_no_state(speech_tiny_dir):
    """norm_and_spec_aug has LayerNorms only: its model state is None, in and out."""
    w = workloads().create("librispeech_deepspeech_norm_and_spec_aug", "dev", "jax")
    w._speech_data(speech_tiny_dir)
    params, state = w.init_model_fn(jax.random.PRNGKey(0))
    assert state is None
    batch = {"inputs": _numpy_batch(speech_tiny_dir)["inputs"]}
    (logits, _), new_state = w.model_fn(params, batch, state, spec.ForwardPassMode.TRAIN,
                                        jax.random.PRNGKey(1), True)
    assert new_state is None and np.isfinite(np.asarray(logits)).all()
