"""The official-scale LibriSpeech pipeline on small generated files: AlgoPerf's on-disk layout,
the 320,000-sample / 256-token padding, SentencePiece detokenisation, and a training step of
an official-scale workload (shrunk through model_overrides so it runs on a CPU)."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from sdk.errors import PacelineError
from sdk.registry import workloads
from sdk.rulesets import get_ruleset
from sdk.runner import RunOptions, train_once
from sdk.search_space import make_hyperparameters
from sdk.submission import load_submission
from workloads.common.speech import official

pytestmark = pytest.mark.usefixtures("torch_one_thread")

PIECES = [("<unk>", 2), ("<s>", 3), ("</s>", 3), ("\u2581the", 1), ("\u2581cat", 1),
          ("s", 1), ("\u2581sat", 1), ("\u2581on", 1)]
UTTERANCES = {  # subset -> [(id, seconds, token ids incl. EOS)]
    "train-clean-100": [("19-198-0000", 0.5, [3, 4, 2]), ("19-198-0001", 0.7, [4, 5, 6, 2])],
    "train-clean-360": [("100-121-0000", 0.4, [3, 6, 2])],
    "train-other-500": [("20-205-0000", 0.6, [7, 3, 4, 2])],
    "dev-clean": [("84-121-0000", 0.5, [3, 4, 6, 2])],
    "dev-other": [("116-288-0000", 0.3, [6, 2])],
    "test-clean": [("61-70968-0000", 0.6, [4, 5, 7, 3, 2])],
}


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(number: int, payload: bytes | int) -> bytes:
    if isinstance(payload, int):
        return _varint(number << 3) + _varint(payload)
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def spm_model(pieces) -> bytes:
    """A serialised SentencePiece ModelProto: ``pieces`` (piece, score as a fixed32 float,
    type) followed by a trainer-spec message, as sentencepiece writes them."""
    score = _varint(2 << 3 | 5) + np.float32(-1.0).tobytes()
    body = b"".join(_field(1, _field(1, p.encode()) + score + _field(3, t)) for p, t in pieces)
    return body + _field(2, _field(1, b"corpus.txt"))


@pytest.fixture(scope="module")
def librispeech_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("librispeech")
    rng = np.random.default_rng(0)
    for subset, items in UTTERANCES.items():
        (root / subset).mkdir()
        with open(root / f"{subset}.csv", "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["", "id", "length"])
            for k, (uid, seconds, ids) in enumerate(items):
                n = int(seconds * 16_000)
                writer.writerow([k, uid, n])
                np.save(root / subset / f"{uid}_audio.npy",
                        (rng.standard_normal(n) * 2000).astype(np.int64))
                np.save(root / subset / f"{uid}_targets.npy", np.array(ids, np.int32))
    (root / official.VOCAB_FILE).write_bytes(spm_model(PIECES))
    return root


def test_vocab_file_is_parsed_and_detokenises(librispeech_dir):
    vocab = official.load_vocab(librispeech_dir)
    assert vocab.pieces[:3] == ["<unk>", "<s>", "</s>"]
    assert vocab.detokenize([3, 4, 5, 6, 7, 3, 4, 2]) == "the cats sat on the cat"
    assert vocab.detokenize([1, 4, 2, 2]) == "cat"
    assert vocab.detokenize([0, 4]).split() == ["\u2047", "cat"]


def test_splits_read_algoperfs_layout_and_pad_to_official_shapes(librispeech_dir):
    train = official.OfficialSplit(librispeech_dir, official.SPLITS["train"])
    assert len(train) == 4 and train.ids[2] == "train-clean-360/100-121-0000"
    batch = train.batch(np.array([1, 3]))
    (audio, audio_pad), (ids, ids_pad) = batch["inputs"], batch["targets"]
    assert audio.shape == audio_pad.shape == (2, 320_000)
    assert ids.shape == ids_pad.shape == (2, 256)
    assert audio.dtype == ids.dtype == np.float32
    assert audio_pad[0].sum() == 320_000 - 11_200 and audio_pad[1].sum() == 320_000 - 9_600
    np.testing.assert_array_equal(ids[0, :5], [4, 5, 6, 2, 0])
    np.testing.assert_array_equal(ids_pad[1, :5], [0, 0, 0, 0, 1])
    assert len(official.OfficialSplit(librispeech_dir, official.SPLITS["validation"])) == 2


def test_missing_files_say_what_is_expected(tmp_path):
    with pytest.raises(PacelineError, match="train-clean-100.csv is missing"):
        official.OfficialSplit(tmp_path, official.SPLITS["train"])
    with pytest.raises(PacelineError, match="spm_model.vocab is missing"):
        official.load_vocab(tmp_path)
    (tmp_path / "spm_model.vocab").write_bytes(b"\xff\xff\xff")
    with pytest.raises(PacelineError, match="not a SentencePiece model"):
        official.load_vocab(tmp_path)
    w = workloads().create("librispeech_conformer", "official", "pytorch")
    with pytest.raises(PacelineError, match="--data-dir"):
        w._build_input_queue(np.array([0, 1], np.uint32), "train", None, 2)


@pytest.mark.parametrize("name, small", [
    ("librispeech_conformer", {"encoder_dim": 16, "num_attention_heads": 2,
                               "num_encoder_layers": 1, "subsample_channels": 2}),
    ("librispeech_deepspeech_norm_and_spec_aug", {"encoder_dim": 16, "num_lstm_layers": 1,
                                                  "num_ffn_layers": 1,
                                                  "subsample_channels": 2}),
])
def test_official_scale_trains_and_scores_wer_on_the_official_layout(name, small,
                                                                     librispeech_dir):
    w = workloads().create(name, "official", "pytorch", model_overrides=small)
    assert w.validation_target_value == get_ruleset("0.5").workloads[name].validation_target_value
    assert w.model_config.vocab_size == 1024 and w.effective_batch_size(256) == 256
    sub = load_submission("nadamw", "pytorch", "external")
    hp = make_hyperparameters({"dropout_rate": 0.0, "label_smoothing": 0.0,
                               "learning_rate": 1e-3, "one_minus_beta1": 0.1, "beta2": 0.999,
                               "weight_decay": 0.0, "warmup_factor": 0.0})
    sub.batch_size = lambda workload_name: 2
    result = train_once(w, sub, hp, 0, get_ruleset("0.5"),
                        RunOptions(data_dir=str(librispeech_dir), max_global_steps=1,
                                   tensorboard=False), trial_dir=None)
    assert result.global_step == 1 and result.num_evals == 1
    assert math.isfinite(result.best_validation_metric)
    # the official front end normalises with AlgoPerf's LibriSpeech vectors
    mean, std = w._frontend_stats()
    assert mean[0] == pytest.approx(-7.6048, abs=1e-4) and std[0] == pytest.approx(3.4353,
                                                                                   abs=1e-4)
