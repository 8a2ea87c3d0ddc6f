"""The official wmt workloads: AlgoPerf's parameter counts, the reader of AlgoPerf's on-disk WMT
data (TFDS shards + SentencePiece model, written here in that exact format), beam search, and
official-scale runs.

    nice -n 15 .venv/bin/python -m pytest -q tests/test_wmt_official.py
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from sdk.cli.main import main
from sdk.errors import PacelineError
from sdk.registry import workloads
from sdk.rulesets import get_ruleset
from sdk.runner import RunOptions, train_once
from sdk.search_space import make_hyperparameters
from sdk.submission import load_submission
from workloads.common import tfrecord
from workloads.wmt import beam_search as bs
from workloads.wmt import config, official_data
from workloads.wmt.model_pytorch import Transformer, count_parameters

pytestmark = pytest.mark.usefixtures("torch_one_thread")

NAMES = ("wmt", "wmt_post_ln", "wmt_attention_temp", "wmt_glu_tanh")
# Trainable parameters of AlgoPerf's models (measured through its workload classes).
ALGOPERF_PARAMS = {"wmt": 133_521_408, "wmt_post_ln": 133_517_312,
                   "wmt_attention_temp": 133_521_408, "wmt_glu_tanh": 146_116_608}
GERMAN = ("der hund", "die katze", "das haus", "ein kind", "sieht", "liebt", "baut", "heute",
          "gross", "klein", "und", "nicht", "im garten", "am see", "schnell")
ENGLISH = ("the dog", "the cat", "the house", "a child", "sees", "loves", "builds", "today",
           "big", "small", "and", "not", "in the garden", "at the lake", "quickly")
SIZES = {"train": (7, 5), "validation": (3,), "test": (2,)}  # pairs per shard
TINY = {"d_model": 32, "num_heads": 2, "mlp_dim": 32, "num_encoder_layers": 1,
        "num_decoder_layers": 1, "vocab_size": 60}  # the test SentencePiece model's 60 pieces


def sentence_pairs(rng: np.random.Generator, count: int) -> list[tuple[str, str]]:
    """Word-aligned toy German/English pairs (each a few phrases of the two lists above)."""
    pairs = []
    for _ in range(count):
        picks = rng.integers(len(GERMAN), size=int(rng.integers(2, 7)))
        pairs.append((" ".join(GERMAN[i] for i in picks).capitalize() + ".",
                      " ".join(ENGLISH[i] for i in picks).capitalize() + "."))
    return pairs


def write_tfds_split(root: Path, dataset: str, split: str,
                     shard_pairs: list[list[tuple[str, str]]]) -> None:
    """Shards ``<dataset>-<split>.tfrecord-NNNNN-of-MMMMM`` of tf.train.Example records with
    ``de``/``en`` bytes features, plus the split's entry in dataset_info.json, as TFDS."""
    folder = official_data.version_dir(root, dataset)
    folder.mkdir(parents=True, exist_ok=True)
    for k, pairs in enumerate(shard_pairs):
        path = folder / f"{dataset}-{split}.tfrecord-{k:05d}-of-{len(shard_pairs):05d}"
        tfrecord.write_records(path, (tfrecord.encode_example({"de": [de], "en": [en]})
                                      for de, en in pairs))
    info_path = folder / "dataset_info.json"
    info = json.loads(info_path.read_text()) if info_path.exists() else {
        "name": dataset, "version": official_data.VERSION, "splits": [],
        "supervisedKeys": {"tuple": {"items": [{"featureKey": "de"}, {"featureKey": "en"}]}}}
    info["splits"].append({"name": split, "shardLengths": [str(len(p)) for p in shard_pairs]})
    info_path.write_text(json.dumps(info))


def write_official_dir(root: Path, long_pair: bool = True,
                       sizes: dict[str, tuple[int, ...]] = SIZES) -> Path:
    """A --data-dir as AlgoPerf's dataset_setup.py --wmt leaves it, with toy sentences and a
    SentencePiece model trained on them (``sizes``: pairs per shard of each split)."""
    import sentencepiece

    rng = np.random.default_rng(0)
    train = [sentence_pairs(rng, n) for n in sizes["train"]]
    if long_pair:  # over 256 tokens on the German side: the pipeline drops it
        train[0].insert(3, (" ".join(["schnell"] * 300), "quickly."))
    write_tfds_split(root, "wmt17_translate", "train", train)
    for split in ("validation", "test"):
        write_tfds_split(root, "wmt14_translate", split,
                         [sentence_pairs(rng, n) for n in sizes[split]])
    corpus = root / "corpus.txt"
    corpus.write_text("\n".join(s for pair in sentence_pairs(rng, 400) for s in pair))
    sentencepiece.SentencePieceTrainer.Train(
        input=str(corpus), model_prefix=str(root / "spm"), vocab_size=60,
        model_type="unigram", character_coverage=1.0, minloglevel=2)
    (root / "spm.model").rename(root / official_data.VOCAB_FILE)
    for leftover in (corpus, root / "spm.vocab"):
        leftover.unlink()
    return root


@pytest.fixture(scope="module")
def official_dir(tmp_path_factory) -> Path:
    return write_official_dir(tmp_path_factory.mktemp("wmt"))


# ---- the models -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_parameter_counts_equal_algoperfs(name):
    overrides = config.VARIANTS.get(name, {})
    assert count_parameters(config.make_config("official", overrides)) == ALGOPERF_PARAMS[name]
    w = workloads().create(name, "official", "pytorch")
    assert w.model_config == config.make_config("official", overrides)
    assert w.eval_batch_size == 128 and w.num_eval_train_examples == 3072
    official = get_ruleset("0.5").workloads[name]
    assert (w.validation_target_value, w.test_target_value) == (
        official.validation_target_value, official.test_target_value)


def test_decoder_inputs_shift_the_whole_packed_row_as_upstream():
    """A segment's first decoder input is the previous segment's last token (not 0)."""
    torch.manual_seed(0)
    model = Transformer(config.make_config("official", TINY)).eval()
    row = {"inputs": torch.tensor([[5, 2, 6, 2]]), "targets": torch.tensor([[7, 8, 9, 2]]),
           "inputs_segmentation": torch.tensor([[1, 1, 2, 2]]),
           "targets_segmentation": torch.tensor([[1, 1, 2, 2]]),
           "inputs_position": torch.tensor([[0, 1, 0, 1]]),
           "targets_position": torch.tensor([[0, 1, 0, 1]])}
    other = {**row, "targets": torch.tensor([[7, 11, 9, 2]])}
    first_of_second = model(row, 0.0)[0, 2], model(other, 0.0)[0, 2]
    assert not torch.allclose(*first_of_second)
    dev_style = Transformer(config.make_config("official", {**TINY, "shift_per_segment": True}))
    dev_style.load_state_dict(model.state_dict())
    torch.testing.assert_close(dev_style.eval()(row, 0.0)[0, 2], dev_style(other, 0.0)[0, 2])


# ---- the reader -------------------------------------------------------------------------------
def test_reader_follows_algoperfs_layout_and_tokenisation(official_dir):
    data = official_data.OfficialWmt(official_dir)
    texts = list(official_data.text_pairs(official_dir, "train"))
    assert len(texts) == 13 and texts[3][0].startswith("schnell schnell")
    ids = data.tokenizer.encode(texts[0][1])
    assert ids[-1] == official_data.EOS and 0 not in ids
    assert data.tokenizer.decode(np.concatenate([ids, [5, 6, 0]])) == texts[0][1]
    # upstream decodes a row without EOS as its first token only
    assert data.tokenizer.decode(ids[:-1]) == data.tokenizer.processor.DecodeIds([int(ids[0])])
    # validation and test are WMT14's, in file order; the 300-word pair is gone from train
    validation = data.eval_pairs("validation", 100, 0)
    assert len(validation) == 3 and len(data.eval_pairs("test", 100, 0)) == 2
    first = next(official_data.text_pairs(official_dir, "validation"))
    np.testing.assert_array_equal(validation[0][1], data.tokenizer.encode(first[1]))
    assert len(data.eval_pairs("eval_train", 100, 0)) == 12
    batch = official_data.pad_batch(validation[:2])
    assert batch["inputs"].shape == batch["targets"].shape == (2, 256)
    np.testing.assert_array_equal(batch["weights"], batch["targets"] > 0)


def test_train_rows_are_packed_per_run_of_pairs(official_dir):
    stream = official_data.TrainStream(official_data.OfficialWmt(official_dir), rows=3, seed=1)
    batch = next(stream)
    assert {k: v.shape for k, v in batch.items()} == {
        **{k: (3, 256) for k in official_data.PACKED_KEYS}, "weights": (3, 256)}
    for side in ("inputs", "targets"):
        tokens, seg, pos = (batch[side], batch[f"{side}_segmentation"],
                            batch[f"{side}_position"])
        np.testing.assert_array_equal(seg > 0, tokens > 0)
        ends = (tokens == official_data.EOS).sum(axis=1)
        np.testing.assert_array_equal(seg.max(axis=1), ends)  # one segment per pair
        assert (pos[seg > 0][np.diff(seg[seg > 0], prepend=0) != 0] == 0).all()
    # 12 usable pairs fit one row of 256 tokens, so each epoch's 12 pairs fill one row; a
    # run of 256 pairs spans epochs and rows, closing its last row at the run's end
    pairs = [np.array([7] * 100 + [2]), np.array([8] * 50 + [2])]
    rows = official_data.pack_run([(pairs[0], pairs[1])] * 3)
    assert len(rows) == 2 and rows[0]["inputs_segmentation"].max() == 2


def test_check_names_what_is_missing(official_dir, tmp_path):
    assert official_data.check(official_dir) == []
    problems = official_data.check(tmp_path)
    assert len(problems) == 4 and "wmt_sentencepiece_model is missing" in problems[0]
    assert "wmt17_translate-train.tfrecord" in problems[1]
    partial = write_official_dir(tmp_path / "partial")
    next(official_data.version_dir(partial, "wmt14_translate").glob("*test*")).unlink()
    (partial / official_data.VOCAB_FILE).write_bytes(b"not a model")
    problems = official_data.check(partial)
    assert len(problems) == 2 and problems[0].endswith("is not a SentencePiece model.")
    assert "no wmt14_translate-test.tfrecord" in problems[1]


# ---- beam search ------------------------------------------------------------------------------
def test_a_step_keeps_the_best_live_and_finished_beams():
    beams = bs.Beams.start(1, 2, 4, torch.device("cpu"))
    log_probs = torch.log(torch.tensor([[[0.1, 0.2, 0.6, 0.1], [0.25] * 4]]))
    beams, parents = bs.advance(beams, log_probs, 0, eos=2, alpha=0.6)
    # EOS (id 2) is the best token: it finishes; tokens 1 and 0/3 stay live
    assert beams.live_seqs[0, :, 1].tolist()[0] == 1 and parents.tolist() == [[0, 0]]
    assert beams.done_flags[0].tolist() == [True, False]
    assert beams.done_scores[0, 0].item() == pytest.approx(math.log(0.6) / bs.length_penalty(
        0.6, 1))
    assert beams.done_seqs[0, 0, :2].tolist() == [0, 2]
    assert not bs.terminated(beams, 0.6, 4)


def test_cached_decoding_matches_the_full_forward_pass():
    torch.manual_seed(0)
    model = Transformer(config.make_config("official", TINY)).eval()
    inputs = torch.tensor([[5, 6, 7, 2, 0], [9, 2, 0, 0, 0]])
    best = bs.beam_search(model, inputs, beam_size=3, max_len=8)
    assert best.shape == (2, 7)
    targets = torch.cat([best[:, :6]], dim=1)
    full = model.decode(model.encode(inputs), inputs, torch.where(targets == 0, 1, targets))
    caches = bs._start_caches(model, model.encode(inputs), 8)
    cross = torch.where(inputs > 0, 0.0, -1e10)[:, None, None, :]
    tokens = torch.zeros(2, dtype=torch.long)
    for step in range(6):
        logits = bs._step_logits(model, tokens, step, caches, cross)
        torch.testing.assert_close(logits, full[:, step], rtol=1e-4, atol=1e-4)
        tokens = torch.where(targets[:, step] == 0, 1, targets[:, step])


# ---- official-scale runs ----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["wmt", "wmt_glu_tanh"])
def test_official_scale_trains_and_scores_bleu(name, official_dir):
    w = workloads().create(name, "official", "pytorch", model_overrides=TINY)
    sub = load_submission("nadamw", "pytorch", "external")
    sub.batch_size = lambda workload_name: 2
    hp = make_hyperparameters({"dropout_rate": 0.1, "label_smoothing": 0.1,
                               "learning_rate": 1e-3, "one_minus_beta1": 0.1, "beta2": 0.999,
                               "weight_decay": 0.0, "warmup_factor": 0.0})
    result = train_once(w, sub, hp, 0, get_ruleset("0.5"),
                        RunOptions(data_dir=str(official_dir), max_global_steps=2,
                                   tensorboard=False), trial_dir=None)
    assert result.global_step == 2 and result.num_evals >= 1
    assert 0.0 <= result.best_validation_metric <= 100.0


def test_official_run_without_data_is_one_sentence(tmp_path):
    w = workloads().create("wmt", "official", "pytorch")
    with pytest.raises(PacelineError, match="need --data-dir"):
        w._build_input_queue(np.array([0, 1], np.uint32), "train", None, 2)
    with pytest.raises(PacelineError, match="wmt_sentencepiece_model is missing"):
        w._build_input_queue(np.array([0, 1], np.uint32), "train", str(tmp_path), 2)


ADAM = Path(__file__).parent / "submissions" / "adam_pytorch" / "submission.py"  # 1 row a step
ALGOPERF_COLUMNS = {"global_step", "accumulated_submission_time", "train/bleu", "train/loss",
                    "train/accuracy", "validation/bleu", "validation/loss",
                    "validation/accuracy", "validation/num_examples", "test/bleu",
                    "test/loss", "test/num_examples", "total_duration"}


SMALL = {"train": (4,), "validation": (2,), "test": (1,)}  # beam search on 7 sentences


@pytest.mark.slow
def test_paceline_run_official_full_model(tmp_path):
    """The 133.5M-parameter model, 3 steps of one packed row, then beam-search BLEU."""
    official_dir = write_official_dir(tmp_path / "wmt", long_pair=False, sizes=SMALL)
    assert main(["run", "--scale", "official", "--workload", "wmt", "--submission",
                 str(ADAM), "--ruleset", "self", "--data-dir", str(official_dir),
                 "--max-global-steps", "3", "--seed", "1", "--no-progress", "--threads", "1",
                 "--no-tensorboard", "--no-checkpoints", "--experiment-dir",
                 str(tmp_path / "exp")]) == 0
    trials = list((tmp_path / "exp").rglob("wmt_pytorch/trial_1"))
    assert len(trials) == 1, trials
    with open(trials[0] / "eval_measurements.csv") as f:
        rows = list(csv.DictReader(f))
    assert ALGOPERF_COLUMNS <= set(rows[-1]) and rows[-1]["global_step"] == "3"
    # upstream's split sizes are constants (newstest2013 / newstest2014), logged as such
    assert rows[-1]["validation/num_examples"] == "3000"
    assert rows[-1]["test/num_examples"] == "3003"
    assert 0.0 <= float(rows[-1]["validation/bleu"]) <= 100.0
    meta = json.loads((trials[0] / "meta_data_0.json").read_text())
    assert meta["paceline.scale"] == "official"
    assert meta["workload.validation_target_value"] == pytest.approx(30.8491)
