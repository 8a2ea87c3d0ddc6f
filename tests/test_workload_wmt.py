"""wmt at dev scale: the generated language pair, BPE, BLEU, packing, the Transformer, runs.

A small corpus (2,000 training pairs) is built once per session into a temporary folder; the
runs read it through ``--data-dir``.
"""

from __future__ import annotations

import math
from collections import namedtuple
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch

from sdk import spec
from sdk.errors import PacelineError
from sdk.registry import workloads
from sdk.rulesets import get_ruleset
from sdk.runner import RunOptions, train_once
from sdk.submission import load_submission
from workloads.common import data_cache
from workloads.wmt import config, data, language
from workloads.wmt.batching import PairSplit, TrainPackedBatches, eval_pair_batches
from workloads.wmt.bleu import corpus_bleu
from workloads.wmt.bpe import EOS, PAD, UNK, BpeTokenizer
from workloads.wmt.language import NP, Clause, Generator, Sentence
from workloads.wmt.model_pytorch import Transformer, count_parameters, greedy_decode

NAMES = ("wmt", "wmt_post_ln", "wmt_attention_temp", "wmt_glu_tanh")
OFFICIAL_PARAMS = {"wmt": 133_521_408, "wmt_post_ln": 133_517_312,
                   "wmt_attention_temp": 133_521_408, "wmt_glu_tanh": 146_116_608}
SMALL = {"train": 2000, "validation": 100, "test": 100}
HP = namedtuple("HP", ["learning_rate", "one_minus_beta1", "beta2", "weight_decay",
                       "warmup_factor", "label_smoothing", "dropout_rate"])(
    1e-3, 0.1, 0.999, 0.0, 0.05, 0.1, 0.0)


@pytest.fixture(scope="session")
def small_dir(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("wmt") / "corpus"
    build = partial(data.build_dev, sizes=SMALL, progress=False)
    return str(data_cache.prepare("wmt", build, str(folder)))


@pytest.fixture(scope="session")
def small(small_dir) -> tuple[dict[str, PairSplit], BpeTokenizer]:
    arrays, tokenizer = data.load(small_dir)
    return {k: PairSplit(v) for k, v in arrays.items()}, tokenizer


def _workload(name: str = "wmt", **kwargs):
    return workloads().create(name, "dev", "pytorch", **kwargs)


def _tiny_model(**overrides) -> Transformer:
    torch.manual_seed(0)
    cfg = config.make_config("dev", {"d_model": 32, "mlp_dim": 32, "num_heads": 4,
                                     "vocab_size": 60, **overrides})
    return Transformer(cfg).eval()


# ---- the language pair ------------------------------------------------------------------------
def test_generation_is_deterministic_by_seed():
    assert Generator(5).pairs(50) == Generator(5).pairs(50)
    assert Generator(5).pairs(50) != Generator(6).pairs(50)


def _np(word: str, **kw) -> NP:
    return NP("noun", word, **kw)


def test_english_order_agreement_articles_and_do_support():
    g = Generator(0)
    clause = Clause(_np("dog", adjectives=["old"]), "see",
                    obj=_np("apple", determiner="indefinite"),
                    place=("in", _np("garden")))
    assert g.render_english(Sentence(clause)) == "The old dog sees an apple in the garden."
    clause.subject = _np("child", number="pl")
    clause.negated = True
    assert g.render_english(Sentence(clause)) == \
        "The children do not see an apple in the garden."
    clause.tense = "past"
    assert g.render_english(Sentence(clause)).startswith("The children did not see")
    clause.tense, clause.negated = "future", False
    assert g.render_english(Sentence(clause)).startswith("The children will see")


def test_velan_is_verb_final_with_case_and_agreement():
    g = Generator(0)
    dog, gender = g.velan["noun"]["dog"]
    apple, apple_gender = g.velan["noun"]["apple"]
    old = g.velan["adjective"]["old"][0]
    see = g.velan["verb"]["see"][0]
    clause = Clause(_np("dog", adjectives=["old"]), "see", tense="past",
                    obj=_np("apple", number="pl"))
    words = g.render_velan(Sentence(clause)).rstrip(".").split(" ")
    assert words == [
        language.DEFINITE[gender, "sg"][0].capitalize(),
        dog + language.NOUN_ENDINGS[gender, "sg"][0],       # nominative, noun first
        old + language.ADJECTIVE_ENDINGS[gender, "sg"],      # adjective after the noun
        language.DEFINITE_PLURAL[1],                        # accusative plural article
        apple + language.NOUN_ENDINGS[apple_gender, "pl"][1],
        see + language.TENSE_MARKERS["past"] + language.AGREEMENT[3, "sg"],  # verb last
    ]


def test_dropped_subject_pronoun_keeps_the_person_on_the_verb():
    g = Generator(0)
    clause = Clause(NP("pronoun", person=1, number="pl"), "sleep", drop_subject=True)
    velan = g.render_velan(Sentence(clause))
    assert velan == (g.velan["verb"]["sleep"][0] + language.AGREEMENT[1, "pl"]).capitalize() + "."
    assert g.render_english(Sentence(clause)) == "We sleep."


def test_lexicon_stems_are_distinct_and_fixed():
    lex = language.velan_lexicon()
    stems = [s for group in lex.values() for s, _ in group.values()]
    assert len(stems) == len(set(stems))
    assert lex == language.velan_lexicon()


# ---- tokenizer and BLEU -----------------------------------------------------------------------
def test_bpe_round_trip_specials_and_determinism():
    texts = [t for pair in Generator(1).pairs(300) for t in pair]
    tok = BpeTokenizer.train(texts, 200)
    assert tok.vocab_size == 200 and tok.pieces[:3] == ["<pad>", "<unk>", "</s>"]
    assert all(tok.decode(tok.encode(t)) == t for t in texts)
    assert BpeTokenizer.train(texts, 200).merges == tok.merges
    ids = tok.encode(texts[0])
    assert PAD not in ids and EOS not in ids
    assert tok.decode([*ids, EOS, 7, 8]) == texts[0]  # decoding stops at EOS
    assert UNK in tok.encode("Zebra\u00e9")  # unseen characters


def test_bpe_merges_most_frequent_pair_first(tmp_path):
    tok = BpeTokenizer.train(["aaab aab ab"], vocab_size=8)
    # "aa", "ab" and "▁a" all occur 3 times: the tie goes to the first in text order
    assert tok.merges[0] == ("a", "a")
    tok.save(tmp_path / "v.json")
    again = BpeTokenizer.load(tmp_path / "v.json")
    assert again.pieces == tok.pieces and again.encode("aab") == tok.encode("aab")


def test_bleu_known_cases():
    hyp, ref = "the cat sat on the mat today", "the cat sat on the mat"
    assert corpus_bleu([ref, hyp], [ref, hyp]) == pytest.approx(100.0)
    # 1- to 4-gram precisions 6/7, 5/6, 4/5, 3/4, no brevity penalty
    assert corpus_bleu([hyp], [ref]) == pytest.approx(100 * (3 / 7) ** 0.25, abs=1e-6)
    # brevity penalty exp(1 - r/c) with r = 7, c = 6
    assert corpus_bleu([ref], [hyp]) == pytest.approx(100 * math.exp(1 - 7 / 6), abs=1e-6)
    assert corpus_bleu(["completely different words here"], [ref]) < 1.0
    with pytest.raises(ValueError):
        corpus_bleu(["a"], [])


# ---- data -------------------------------------------------------------------------------------
def test_preparation_is_deterministic(small_dir, tmp_path):
    other = data_cache.prepare("wmt", partial(data.build_dev, sizes=SMALL, progress=False),
                               str(tmp_path / "again"))
    for name in ("train.npz", "validation.npz", "test.npz", "vocab.json"):
        assert (Path(small_dir) / name).read_bytes() == (other / name).read_bytes()


def test_splits_sizes_lengths_and_eos(small):
    splits, tokenizer = small
    for name, split in splits.items():
        assert split.num_pairs == SMALL[name]
        assert split.in_len.max() <= data.MAX_LEN and split.out_len.max() <= data.MAX_LEN
        assert all(split.source(i)[-1] == EOS and split.target(i)[-1] == EOS
                   for i in range(split.num_pairs))
    train = {tokenizer.decode(splits["train"].source(i)) for i in range(2000)}
    held = [tokenizer.decode(splits["validation"].source(i)) for i in range(100)]
    assert not train & set(held)


def test_a_users_data_dir_is_kept_and_the_corpus_built_inside_it(tmp_path, monkeypatch):
    (tmp_path / "notes.txt").write_text("mine")
    monkeypatch.setattr(data, "build_dev", lambda folder: {})
    assert data.prepare(str(tmp_path)) == tmp_path / "wmt"
    assert (tmp_path / "notes.txt").read_text() == "mine"


# ---- packing and batches ----------------------------------------------------------------------
def test_packed_rows_hold_whole_pairs_with_segments_and_positions(small):
    split = small[0]["train"]
    stream = TrainPackedBatches(split, rows=8, row_len=data.MAX_LEN, seed=0)
    rows = stream.next_rows()
    batch = stream.pack(rows)
    assert len(rows) == 8 and all(rows)
    for r, pairs in enumerate(rows):
        for side, get in (("inputs", split.source), ("targets", split.target)):
            seg = batch[f"{side}_segmentation"][r]
            for k, pair in enumerate(pairs, start=1):
                tokens = batch[side][r][seg == k]
                assert np.array_equal(tokens, get(pair))
                assert np.array_equal(batch[f"{side}_position"][r][seg == k],
                                      np.arange(len(tokens)))
            assert np.all(batch[side][r][seg == 0] == 0)
    assert np.array_equal(batch["weights"], (batch["targets"] > 0).astype(np.float32))


def test_stream_covers_each_pair_once_per_epoch_and_skip_replays(small):
    split = small[0]["train"]
    stream = TrainPackedBatches(split, rows=16, row_len=data.MAX_LEN, seed=2)
    seen: list[int] = []
    while len(seen) < split.num_pairs:
        seen.extend(p for row in stream.next_rows() for p in row)
    assert sorted(seen[: split.num_pairs]) == list(range(split.num_pairs))
    a = TrainPackedBatches(split, rows=16, row_len=data.MAX_LEN, seed=2)
    b = TrainPackedBatches(split, rows=16, row_len=data.MAX_LEN, seed=2)
    for _ in range(3):
        next(a)
    b.skip(3)
    assert np.array_equal(next(a)["inputs"], next(b)["inputs"])


def test_eval_batches_are_padded_pairs(small):
    split = small[0]["validation"]
    batches = list(eval_pair_batches(split, 32, num_examples=70))
    assert [len(b["inputs"]) for b in batches] == [32, 32, 6]
    first = batches[0]
    assert np.array_equal(first["inputs"][3][: split.in_len[3]], split.source(3))
    assert first["targets"].dtype == np.int64 and first["weights"].dtype == np.float32


def test_dev_batch_size_scales_the_official_request():
    assert _workload().effective_batch_size(128) == 32


# ---- model ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_official_size_parameter_counts(name):
    cfg = config.make_config("official", config.VARIANTS.get(name, {}))
    assert count_parameters(cfg) == OFFICIAL_PARAMS[name]


def test_packed_pairs_get_the_logits_they_get_alone():
    model = _tiny_model()
    a_in, a_out = torch.tensor([5, 6, 7, 2]), torch.tensor([8, 9, 2])
    b_in, b_out = torch.tensor([10, 11, 2]), torch.tensor([12, 13, 14, 2])
    packed = {
        "inputs": torch.cat([a_in, b_in, torch.zeros(3, dtype=torch.long)])[None],
        "inputs_segmentation": torch.tensor([[1] * 4 + [2] * 3 + [0] * 3]),
        "inputs_position": torch.tensor([[0, 1, 2, 3, 0, 1, 2, 0, 0, 0]]),
        "targets": torch.cat([a_out, b_out, torch.zeros(3, dtype=torch.long)])[None],
        "targets_segmentation": torch.tensor([[1] * 3 + [2] * 4 + [0] * 3]),
        "targets_position": torch.tensor([[0, 1, 2, 0, 1, 2, 3, 0, 0, 0]]),
    }
    together = model(packed, 0.0)[0]
    alone_a = model({"inputs": a_in[None], "targets": a_out[None]}, 0.0)[0]
    alone_b = model({"inputs": b_in[None], "targets": b_out[None]}, 0.0)[0]
    assert torch.allclose(together[:3], alone_a, atol=1e-5)
    assert torch.allclose(together[3:7], alone_b, atol=1e-5)


@pytest.mark.parametrize("overrides", [{}, *config.VARIANTS.values()])
def test_cached_greedy_decoding_matches_full_recomputation(overrides):
    model = _tiny_model(**overrides)
    inputs = torch.randint(3, 60, (4, 9))
    inputs[1, 5:], inputs[3, 2:] = 0, 0
    fast = greedy_decode(model, inputs, 64, EOS)
    memory = model.encode(inputs)
    prefix = torch.zeros(4, 0, dtype=torch.long)
    for _ in range(fast.shape[1]):
        probe = torch.cat([prefix, torch.ones(4, 1, dtype=torch.long)], 1)
        logits = model.decode(memory, inputs, probe)[:, -1]
        logits[:, 0] = -1e10
        prefix = torch.cat([prefix, logits.argmax(-1, keepdim=True)], 1)
    for row in range(4):
        ended = (prefix[row] == EOS).nonzero()
        stop = int(ended[0]) + 1 if len(ended) else prefix.shape[1]
        assert torch.equal(fast[row, :stop], prefix[row, :stop])


def test_loss_is_label_smoothed_token_cross_entropy():
    w = _workload()
    logits = torch.randn(2, 3, 5)
    labels = torch.tensor([[1, 2, 0], [3, 4, 4]])
    out = w.loss_fn(labels, logits, (labels > 0).float(), label_smoothing=0.1)
    target = torch.nn.functional.one_hot(labels, 5).float() * 0.9 + 0.1 / 5
    manual = -(target * logits.log_softmax(-1)).sum(-1) * (labels > 0)
    assert torch.allclose(out["per_example"], manual, atol=1e-6)
    assert out["n_valid_examples"] == 5


@pytest.mark.parametrize("knob", sorted(config.PERTURBATION_SPACE))
def test_every_perturbation_knob_builds_and_runs(knob, small):
    space = config.PERTURBATION_SPACE[knob]
    batch = {k: torch.from_numpy(v) for k, v in
             TrainPackedBatches(small[0]["train"], 2, data.MAX_LEN, 0).__next__().items()}
    for value in space.get("choices") or space["range"]:
        w = _workload(model_overrides={knob: value})
        model, _ = w.init_model_fn(np.array([0, 1], np.uint32))
        logits, _ = w.model_fn(model, batch, None, spec.ForwardPassMode.TRAIN, None, True)
        assert logits.shape == (2, data.MAX_LEN, data.VOCAB_SIZE)
        assert torch.isfinite(logits).all()


def test_unknown_or_bad_overrides_raise_one_sentence():
    with pytest.raises(PacelineError, match="Unknown wmt model override"):
        _ = _workload(model_overrides={"depth": 3}).model_config
    with pytest.raises(PacelineError, match="multiple of num_heads"):
        _ = _workload(model_overrides={"d_model": 100, "num_heads": 8}).model_config


def test_v05_dropout_rate_given_at_init_is_used(small):
    w = _workload()
    batch = {k: torch.from_numpy(v) for k, v in
             TrainPackedBatches(small[0]["train"], 2, data.MAX_LEN, 0).__next__().items()}
    model, _ = w.init_model_fn(np.array([2, 2], np.uint32), dropout_rate=0.5)
    assert w.resolve_dropout(None, 0.1) == 0.5
    train = [w.model_fn(model, batch, None, spec.ForwardPassMode.TRAIN, None, True)[0]
             for _ in range(2)]
    assert not torch.equal(train[0], train[1])
    ev = [w.model_fn(model, batch, None, spec.ForwardPassMode.EVAL, None, False)[0]
          for _ in range(2)]
    assert torch.equal(ev[0], ev[1])


# ---- numbers and runs -------------------------------------------------------------------------
def test_numbers_tables_for_both_ruleset_versions():
    for name in NAMES:
        w05, w06 = _workload(name), _workload(name, ruleset_version="0.6")
        assert w05.target_metric_name == "bleu" and not w05.metric_minimized
        assert w06.max_allowed_runtime_sec == pytest.approx(
            w05.max_allowed_runtime_sec * 120_000 / 133_333 * _share(w06), abs=0.01)
        assert w06.step_hint == int(w05.step_hint * (120_000 / 133_333))
        assert 0 < w05.test_target_value <= 100 and 0 < w05.validation_target_value <= 100

def _share(workload) -> float:  # noqa: ANN001
    """The step share the v0.6 budget bought in the workload's framework (sdk/rulesets.py)."""
    from sdk.rulesets import get_ruleset

    return get_ruleset("0.6").baseline_step_share(workload.name, workload.framework)



def _quick_eval(workload):
    """The same workload evaluating 40 examples per split (runner tests stay fast)."""
    cls = type(workload)
    small = type(cls.__name__, (cls,), {"num_eval_train_examples": 40,
                                        "num_validation_examples": 40,
                                        "num_test_examples": 40})
    return small()


@pytest.fixture
def restore_threads():
    """The runner tests use one thread (cheap on a busy machine); put the count back after."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("name", NAMES)
def test_a_few_steps_through_the_runner(name, small_dir, tmp_path, restore_threads):
    workload = _quick_eval(_workload(name))
    result = train_once(workload, load_submission("nadamw", "pytorch", "external"), HP,
                        1, get_ruleset("0.5"),
                        RunOptions(data_dir=small_dir, max_global_steps=3, tensorboard=False,
                                   threads=1),
                        tmp_path / "trial")
    assert result.status == "max_global_steps" and result.global_step == 3
    assert 0 <= result.best_validation_metric < 5  # an untrained model's BLEU
