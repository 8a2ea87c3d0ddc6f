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


# ---- the dev corpus ------------------------------------------------------------------------
@pytest.mark.slow  # parses every standard-library source file
def test_the_corpus_is_the_python_documentation_split_by_document_name() -> None:
    from workloads.finewebedu_lm import data

    topics = dict(data.topic_documents())
    assert "topic:for" in topics and "for" in topics["topic:for"]
    names = [name for name, _ in data.module_documents()]
    assert "module:json" in names and not any(".test." in n or "idlelib" in n for n in names)
    assert data.split_of("module:json") == data.split_of("module:json")
    splits = {data.split_of(n) for n in names}
    assert splits == {"train", "validation"}


def test_the_bpe_is_byte_level_and_documents_end_in_eos() -> None:
    from workloads.finewebedu_lm import data

    texts = ["Return the sum of two numbers.", "A list is a mutable sequence. Ünïcode too."]
    tokenizer = data.train_tokenizer(texts * 20, vocab_size=300)
    tokens = data.encode(tokenizer, texts)
    eos = tokenizer.token_to_id(data.EOS_TEXT)
    assert tokens.dtype == np.uint16 and list(tokens).count(eos) == 2 and tokens[-1] == eos
    first = list(tokens).index(eos)
    assert tokenizer.decode([int(t) for t in tokens[:first]]) == texts[0]


# ---- windows and batches -------------------------------------------------------------------
def test_windows_cross_pieces_and_targets_are_the_next_tokens() -> None:
    from workloads.finewebedu_lm.windows import TokenStream, WindowSplit

    stream = TokenStream([np.arange(0, 7), np.arange(7, 8), np.arange(8, 23)])
    split = WindowSplit(stream, seq_len=4)
    assert len(stream) == 23 and split.num_windows == 4  # 23 // 5; the partial last dropped
    rows = split.rows([1, 3])
    np.testing.assert_array_equal(rows["inputs"], [[5, 6, 7, 8], [15, 16, 17, 18]])
    np.testing.assert_array_equal(rows["targets"], [[6, 7, 8, 9], [16, 17, 18, 19]])


def test_eval_batches_pad_the_last_batch_with_zero_weights() -> None:
    from workloads.finewebedu_lm.windows import TokenStream, WindowSplit, eval_windows

    split = WindowSplit(TokenStream([np.arange(50)]), seq_len=4)  # 10 windows
    batches = list(eval_windows(split, batch_size=4, num_examples=7))
    assert [b["inputs"].shape for b in batches] == [(4, 4), (4, 4)]
    assert batches[1]["weights"].sum() == 3 * 4 and batches[1]["weights"][3].sum() == 0


def test_training_batches_are_a_seeded_shuffle_of_whole_windows() -> None:
    from workloads.finewebedu_lm.windows import TokenStream, TrainWindows, WindowSplit

    split = WindowSplit(TokenStream([np.arange(100)]), seq_len=4)
    a, b = TrainWindows(split, 3, seed=7), TrainWindows(split, 3, seed=7)
    first = [next(a)["inputs"] for _ in range(7)]
    np.testing.assert_array_equal(np.concatenate(first), np.concatenate(
        [next(b)["inputs"] for _ in range(7)]))
    starts = sorted(int(row[0]) for row in np.concatenate(first)[:20])
    assert starts == list(range(0, 100, 5))  # each window once per epoch
    assert "weights" not in next(a)


# ---- the official data: AlgoPerf's save_to_disk folders --------------------------------------
def write_shards(folder, rows_per_shard: list[list[list[int]]], listed: bool = True) -> None:
    """A Hugging Face ``save_to_disk`` folder: Arrow IPC stream shards with ``input_ids``."""
    import json

    import pyarrow as pa

    folder.mkdir(parents=True)
    names = []
    for i, rows in enumerate(rows_per_shard):
        name = f"data-{i:05d}-of-{len(rows_per_shard):05d}.arrow"
        table = pa.table({"input_ids": pa.array(rows, pa.list_(pa.int32()))})
        with pa.OSFile(str(folder / name), "wb") as sink, \
                pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table, max_chunksize=2)
        names.append({"filename": name})
    if listed:
        (folder / "state.json").write_text(json.dumps({"_data_files": names}))
    (folder / "dataset_info.json").write_text("{}")


def official_tokens(start: int, lengths: list[int]) -> list[list[int]]:
    out = []
    for n in lengths:
        out.append(list(range(start, start + n)))
        start += n
    return out


@pytest.fixture()
def official_dir(tmp_path):
    """train: 3 shards, 2,100 tokens; val: 1 shard, 3,075 tokens (3 windows of 1,025)."""
    write_shards(tmp_path / "train", [official_tokens(0, [700, 300]),
                                      official_tokens(1000, [600]),
                                      official_tokens(1600, [250, 250])])
    write_shards(tmp_path / "val", [official_tokens(0, [1000, 2075])], listed=False)
    return tmp_path


def test_official_reader_streams_the_shards_in_order(official_dir) -> None:
    from workloads.finewebedu_lm import official_data

    stream = official_data.token_stream(official_dir, "train")
    assert len(stream) == 2100
    np.testing.assert_array_equal(stream.take(990, 20), np.arange(990, 1010))
    assert official_data.check(official_dir) == []
    assert official_data.token_stream(official_dir, "validation").take(3000, 3).tolist() == [
        3000, 3001, 3002]


def test_official_check_names_what_is_missing(tmp_path) -> None:
    from workloads.finewebedu_lm import official_data

    write_shards(tmp_path / "finewebedu" / "train", [official_tokens(0, [10])])
    (tmp_path / "finewebedu" / "train" / "data-00000-of-00001.arrow").unlink()
    missing = official_data.check(tmp_path)
    assert len(missing) == 2 and "data-00000-of-00001.arrow" in missing[0]
    assert "val" in missing[1]
    with pytest.raises(PacelineError, match="No finewebedu_lm validation shards"):
        official_data.token_stream(tmp_path, "validation")


@pytest.mark.parametrize("framework", ["pytorch", "jax"])
def test_official_workload_reads_test_written_shards(official_dir, framework: str) -> None:
    from sdk.registry import workloads

    w = workloads().create("finewebedu_lm", "official", framework, ruleset_version="latest")
    assert (w.eval_batch_size, w.num_eval_train_examples, w.num_validation_examples) == (
        256, 10_000, 100_000)
    assert (w.target_metric_name, w.validation_target_value) == ("ppl", 22.2995)
    batches = list(w._eval_batches("validation", 100_000, 4, str(official_dir)))
    assert len(batches) == 1 and batches[0]["inputs"].shape == (4, 1024)
    assert batches[0]["weights"].sum() == 3 * 1024
    np.testing.assert_array_equal(batches[0]["targets"][2, :3], [2051, 2052, 2053])
    train = w._numpy_train_batches(np.array([0, 1], np.uint32), str(official_dir), 2)
    assert next(train)["inputs"].shape == (2, 1024)


def test_official_numbers_are_the_2026_rules() -> None:
    from sdk.registry import workloads

    cls = workloads().workload_class("finewebedu_lm", "official", "pytorch")
    assert cls.numbers_for("a100-2026").step_hint == 72_000
    assert cls.numbers_for("0.5") == cls.numbers_for("a100-2026")  # older rules lack it


@pytest.mark.parametrize("version, included", [("0.5", False), ("0.6", False),
                                               ("a100-2026", True), ("latest", True)])
def test_the_dev_suite_of_the_2026_rules_only_includes_it(version: str, included: bool) -> None:
    from sdk.rulesets import get_ruleset, resolve_version
    from sdk.run_context import resolve_workloads

    rules = get_ruleset(resolve_version(version))
    suite = resolve_workloads(["suite"], "dev", rules.base_workloads)
    assert ("finewebedu_lm" in suite) is included


# ---- loss and perplexity -------------------------------------------------------------------
def test_loss_is_per_token_cross_entropy_the_same_in_both_frameworks() -> None:
    from sdk.registry import workloads

    rng = np.random.default_rng(0)
    logits = rng.normal(size=(2, 5, 11)).astype(np.float32)
    labels = rng.integers(0, 11, (2, 5))
    weights = np.ones((2, 5), np.float32)
    weights[1, 3:] = 0.0
    pt = workloads().create("finewebedu_lm", "dev", "pytorch")
    jx = workloads().create("finewebedu_lm", "dev", "jax")
    a = pt.loss_fn(torch.from_numpy(labels), torch.from_numpy(logits), torch.from_numpy(weights),
                   label_smoothing=0.1)
    b = jx.loss_fn(jnp.asarray(labels), jnp.asarray(logits), jnp.asarray(weights), 0.1)
    assert float(a["n_valid_examples"]) == float(b["n_valid_examples"]) == 8
    np.testing.assert_allclose(float(a["summed"]), float(b["summed"]), rtol=1e-5)
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    plain = -np.take_along_axis(log_p, labels[..., None], -1)[..., 0]
    plain_loss = pt.loss_fn(torch.from_numpy(labels), torch.from_numpy(logits))["summed"]
    np.testing.assert_allclose(float(plain_loss), plain.sum(), rtol=1e-5)
    metrics = pt._finalize_metrics({"loss": 2.0 * 8, "num_examples": 8.0}, 2)
    assert metrics == {"loss": 2.0, "ppl": pytest.approx(math.exp(2.0))}


def test_the_dev_budget_holds_many_times_nadamws_momentum_horizon() -> None:
    """The dev batch (4 windows of 128 tokens) keeps a step short enough that the calibrated
    budget holds over a thousand steps: with 367 steps (16 windows) NAdamW's first point,
    beta1 ~ 0.973 (a ~37-step average), missed the target its budget was set by."""
    import json
    from pathlib import Path

    from sdk.registry import workloads
    from workloads.finewebedu_lm.numbers import FINEWEBEDU_LM

    w = workloads().create("finewebedu_lm", "dev", "pytorch")
    assert w.effective_batch_size(64) * w.model_config.seq_len == 512
    space = Path(__file__).parents[1] / "baselines" / "nadamw" / "tuning_search_space.json"
    horizon = 1.0 / json.loads(space.read_text())[0]["one_minus_beta1"]
    assert FINEWEBEDU_LM.step_hint >= 1000 and FINEWEBEDU_LM.step_hint >= 25 * horizon
