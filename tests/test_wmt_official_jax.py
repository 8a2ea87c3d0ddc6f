"""The official wmt workloads in JAX: AlgoPerf's parameter counts (jax.eval_shape), the same
reader path, cached decoding, beam search, and official-scale runs.

    nice -n 15 .venv/bin/python -m pytest -q tests/test_wmt_official_jax.py
"""

from __future__ import annotations

import csv
import math
from dataclasses import replace
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sdk.cli.main import main
from sdk.registry import workloads
from sdk.rulesets import get_ruleset
from sdk.runner import RunOptions, train_once
from sdk.search_space import make_hyperparameters
from sdk.submission import load_submission
from tests.test_wmt_official import ALGOPERF_PARAMS, NAMES, TINY, write_official_dir
from workloads.wmt import beam_search_jax as bs
from workloads.wmt import config
from workloads.wmt.model_jax import Transformer, count_parameters


@pytest.fixture(scope="module")
def official_dir(tmp_path_factory):
    return write_official_dir(tmp_path_factory.mktemp("wmt_jax"))


@pytest.mark.parametrize("name", NAMES)
def test_parameter_counts_equal_algoperfs(name):
    cfg = config.make_config("official", config.VARIANTS.get(name, {}))
    assert count_parameters(cfg) == ALGOPERF_PARAMS[name]
    w = workloads().create(name, "official", "jax")
    # upstream's JAX model never drops attention probabilities
    assert w.model_config == replace(cfg, attention_dropout=False)
    assert w.eval_batch_size == 128
    assert w.validation_target_value == get_ruleset("0.5").workloads[name].validation_target_value


def tiny_params(cfg):
    tokens = jnp.zeros((1, 8), jnp.int32)
    return Transformer(cfg).init(jax.random.key(0), tokens, tokens)["params"]


@pytest.mark.slow
def test_cached_decoding_matches_the_full_forward_pass():
    cfg = config.make_config("official", TINY)
    params = tiny_params(cfg)
    inputs = jnp.array([[5, 6, 7, 2, 0], [9, 2, 0, 0, 0]])
    targets = jnp.array([[11, 12, 13, 2], [14, 15, 2, 16]])
    full = Transformer(cfg).apply({"params": params}, inputs, targets)
    rows = inputs
    encoded, cache, _ = bs._start(params, cfg, rows, 2, 1, 8)
    decoder = Transformer(cfg, decode=True)
    fed = jnp.pad(targets, ((0, 0), (1, 0)))[:, :-1]
    for step in range(4):
        logits, variables = decoder.apply({"params": params, "cache": cache}, encoded, rows,
                                          fed[:, step : step + 1], mutable=["cache"],
                                          method=Transformer.decode_logits)
        cache = variables["cache"]
        np.testing.assert_allclose(logits[:, 0], full[:, step], rtol=1e-4, atol=1e-4)


def test_a_step_keeps_the_best_live_and_finished_beams():
    _, _, beams = bs._start(tiny_params(config.make_config("official", TINY)),
                            config.make_config("official", TINY), jnp.ones((2, 3), jnp.int32),
                            1, 2, 4)
    log_probs = jnp.log(jnp.array([[[0.1, 0.2, 0.6, 0.1], [0.25] * 4]]))
    beams, parents = bs.advance(beams, log_probs, jnp.asarray(0), eos=2, alpha=0.6)
    assert int(beams["live_seqs"][0, 0, 1]) == 1 and parents.tolist() == [[0, 0]]
    assert beams["done_flags"][0].tolist() == [True, False]
    assert float(beams["done_scores"][0, 0]) == pytest.approx(
        math.log(0.6) / bs.length_penalty(0.6, 1), rel=1e-5)
    assert not bool(bs.terminated(beams, 0.6, 4))


def test_beam_search_returns_one_translation_per_row():
    cfg = config.make_config("official", TINY)
    best = bs.beam_search(tiny_params(cfg), cfg, np.array([[5, 6, 2, 0], [7, 2, 0, 0]]),
                          max_len=6)
    assert best.shape == (2, 5) and best.dtype.kind == "i"


@pytest.mark.slow
def test_official_scale_trains_and_scores_bleu(official_dir):
    w = workloads().create("wmt_post_ln", "official", "jax", model_overrides=TINY)
    sub = load_submission("nadamw", "jax", "external")
    sub.batch_size = lambda workload_name: 2
    hp = make_hyperparameters({"dropout_rate": 0.1, "label_smoothing": 0.1,
                               "learning_rate": 1e-3, "one_minus_beta1": 0.1, "beta2": 0.999,
                               "weight_decay": 0.0, "warmup_factor": 0.0})
    result = train_once(w, sub, hp, 0, get_ruleset("0.5"),
                        RunOptions(data_dir=str(official_dir), max_global_steps=2,
                                   tensorboard=False), trial_dir=None)
    assert result.global_step == 2 and result.num_evals >= 1
    assert 0.0 <= result.best_validation_metric <= 100.0


ADAM = Path(__file__).parent / "submissions" / "adam_jax" / "submission.py"  # 1 row a step

# two sentences in every split: each eval batch has the same shape, so each jitted eval
# function compiles once (beam search over 255 steps of the full model is the cost)
EVEN = {"train": (2,), "validation": (2,), "test": (2,)}


@pytest.mark.slow
def test_paceline_run_official_full_model(tmp_path):
    """The 133.5M-parameter Flax model, 3 Adam steps of one packed row, then beam-search BLEU."""
    official_dir = write_official_dir(tmp_path / "wmt", long_pair=False, sizes=EVEN)
    assert main(["run", "--scale", "official", "--workload", "wmt", "--framework", "jax",
                 "--submission", str(ADAM), "--ruleset", "self", "--data-dir",
                 str(official_dir), "--max-global-steps", "3", "--seed", "1", "--no-progress",
                 "--no-tensorboard", "--no-checkpoints", "--experiment-dir",
                 str(tmp_path / "exp")]) == 0
    trials = list((tmp_path / "exp").rglob("wmt_jax/trial_1"))
    assert len(trials) == 1, trials
    with open(trials[0] / "eval_measurements.csv") as f:
        rows = list(csv.DictReader(f))
    assert rows[-1]["global_step"] == "3" and rows[-1]["validation/num_examples"] == "3000"
    assert 0.0 <= float(rows[-1]["validation/bleu"]) <= 100.0
