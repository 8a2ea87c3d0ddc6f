"""What both speech families share: text, synthesis determinism, front end, SpecAugment,
masked BatchNorm, CTC decoding, WER, the CTC loss and the batch format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from sdk import spec
from sdk.errors import PacelineError
from sdk.registry import workloads
from tests.fakes import SPEECH_TINY
from workloads.common.speech import data, features, metrics, text
from workloads.common.speech.layers import LogMelFrontend, MaskedBatchNorm, SpecAugment

pytestmark = pytest.mark.usefixtures("torch_one_thread")


# ---- text ------------------------------------------------------------------------------------
def test_characters_round_trip_and_blank_is_zero():
    ids = text.encode("Three  green birds SING")
    assert text.BLANK_ID == 0 and 0 not in ids
    assert text.decode(ids) == "three green birds sing"
    assert text.VOCAB_SIZE == 29


def test_sentences_are_unique_and_reproducible():
    a, b = text.unique_sentences(500, seed=3), text.unique_sentences(500, seed=3)
    assert a == b and len(set(a)) == 500
    assert text.unique_sentences(50, seed=4) != a[:50]
    vocab = set(text.vocabulary_words())
    assert all(w in vocab or w == "an" for s in a for w in s.split())


# ---- metrics -----------------------------------------------------------------------------------
def test_greedy_decoding_collapses_repeats_then_drops_blanks():
    frames = np.array([[3, 3, 0, 3, 5, 5, 0, 0, 7, 7],
                       [0, 4, 4, 4, 0, 0, 4, 9, 9, 9]])
    paddings = np.zeros_like(frames, dtype=np.float32)
    paddings[1, 7:] = 1.0  # the last three frames of row 2 are padding
    assert metrics.greedy_decode(frames, paddings) == [[3, 3, 5, 7], [4, 4]]


def test_padded_frames_decode_as_blank_before_collapsing():
    # a repeat split by a padded frame is two tokens (the official order of operations)
    frames = np.array([[6, 6, 6]])
    assert metrics.greedy_decode(frames, np.array([[0.0, 1.0, 0.0]])) == [[6, 6]]


@pytest.mark.parametrize("hyp, ref, errors", [
    ("the cat sat", "the cat sat", 0),
    ("the bat sat", "the cat sat", 1),
    ("the cat", "the cat sat", 1),
    ("the cat sat down", "the cat sat", 1),
    ("", "the cat sat", 3),
    ("sat the cat", "the cat sat", 2),
    ("a b c d", "", 4),
])
def test_word_edit_distance(hyp, ref, errors):
    assert metrics.word_errors(hyp, ref) == errors


def test_wer_sums_errors_over_words_not_per_utterance_rates():
    refs = [text.encode("the dog runs"), text.encode("two old cats sleep today")]
    hyps = [text.encode("the dog"), text.encode("two cats sleep today")]
    assert metrics.wer_counts(hyps, refs) == (2, 8)  # 2/8, not mean(1/3, 1/5)


# ---- front end -----------------------------------------------------------------------------
def test_frontend_matches_the_numpy_reference_and_official_frame_count():
    rng = np.random.default_rng(0)
    audio = (rng.standard_normal(16_000) * 3000).astype(np.float32)
    reference = features.logmel(audio)
    torch_out, frame_pad = LogMelFrontend()(torch.from_numpy(audio)[None],
                                            torch.zeros(1, 16_000))
    assert torch_out.shape == (1, features.num_frames(16_000), 80) == (1, 98, 80)
    np.testing.assert_allclose(torch_out[0].numpy(), reference, atol=2e-3)
    assert not frame_pad.any()
    assert features.num_frames(320_000) == 1998  # the official 20 s input


def test_mel_matrix_is_tensorflows_construction():
    m = features.mel_matrix()
    assert m.shape == (257, 80) and not m[0].any()  # DC bin zeroed
    assert np.all(m >= 0) and np.all(m.max(axis=0) <= 1.0)
    hz = np.linspace(0, 8000, 257)
    assert hz[np.flatnonzero(m[:, 0])[0]] > 125 and hz[np.flatnonzero(m[:, -1])[-1]] < 7600


def test_a_frame_is_padding_only_when_all_its_samples_are():
    audio = torch.randn(1, 4000) * 1000
    paddings = torch.zeros(1, 4000)
    paddings[0, 2000:] = 1.0
    _, frame_pad = LogMelFrontend()(audio, paddings)
    starts = np.arange(frame_pad.shape[1]) * 160
    expected = (starts >= 2000).astype(np.float32)  # any valid sample keeps the frame
    np.testing.assert_array_equal(frame_pad[0].numpy(), expected)


def test_padding_values_do_not_leak_into_valid_frames():
    audio = torch.randn(1, 6000) * 1000
    paddings = torch.zeros(1, 6000)
    paddings[0, 4000:] = 1.0
    noisy = audio.clone()
    noisy[0, 4000:] = 1e4
    a, pa = LogMelFrontend()(audio, paddings)
    b, _ = LogMelFrontend()(noisy, paddings)
    valid = pa[0] == 0
    torch.testing.assert_close(a[0, valid], b[0, valid])


# ---- SpecAugment, BatchNorm -------------------------------------------------------------------
def test_specaugment_masks_stay_within_their_limits():
    torch.manual_seed(0)
    x = torch.ones(64, 200, 80)
    paddings = torch.zeros(64, 200)
    paddings[:, 150:] = 1.0
    out = SpecAugment(freq_masks=2, freq_max_bins=27, time_masks=10, time_max_ratio=0.05)(
        x, paddings)
    masked_frames = (out == 0).all(dim=2)
    masked_bins = (out == 0).all(dim=1)
    assert masked_frames.any() and masked_bins.any()
    assert not masked_frames[:, 150:].any()  # time masks only cover valid frames
    assert masked_frames.sum(dim=1).max() <= 10 * int(0.05 * 150)
    assert masked_bins.sum(dim=1).max() <= 2 * 26


def test_masked_batch_norm_ignores_padded_frames():
    bn = MaskedBatchNorm(4, momentum=0.5, eps=1e-3).train()
    x = torch.randn(2, 6, 4)
    paddings = torch.zeros(2, 6)
    paddings[1, 3:] = 1.0
    changed = x.clone()
    changed[1, 3:] = 1e3
    a = bn(x, paddings)
    mean_after_a = bn.running_mean.clone()
    bn.running_mean.zero_()
    bn.running_var.fill_(1.0)
    b = bn(changed, paddings)
    torch.testing.assert_close(a, b)
    torch.testing.assert_close(mean_after_a, bn.running_mean)
    assert (a[1, 3:] == 0).all()
    valid = x[paddings == 0]
    torch.testing.assert_close(mean_after_a, 0.5 * valid.mean(dim=0))


# ---- data set -----------------------------------------------------------------------------
def test_preparation_is_deterministic(speech_tiny_dir, tmp_path):
    again = tmp_path / "again"
    again.mkdir()
    data.build_dev(again, data.Recipe(**SPEECH_TINY))
    for name in ("train.npz", "validation.npz", "test.npz", "frontend_stats.npz"):
        assert (Path(speech_tiny_dir) / name).read_bytes() == (again / name).read_bytes(), name


def test_splits_share_no_sentence_and_no_voice(speech_tiny_dir):
    d = data.load_dev(speech_tiny_dir)
    sentences = {s: set(d.splits[s].transcripts) for s in data.SPLITS}
    assert not sentences["train"] & sentences["validation"]
    assert not sentences["train"] & sentences["test"]
    assert not sentences["validation"] & sentences["test"]
    arrays = {s: np.load(Path(speech_tiny_dir) / f"{s}.npz") for s in data.SPLITS}
    variants = {s: {v.split("+")[1] for v in arrays[s]["voices"]} for s in data.SPLITS}
    assert not variants["train"] & (variants["validation"] | variants["test"])


def test_batches_follow_algoperf_format(speech_tiny_dir):
    d = data.load_dev(speech_tiny_dir)
    split = d.splits["train"]
    batch = split.batch(np.array([0, 1, 2]), d.num_samples, d.num_targets)
    (audio, audio_pad), (ids, ids_pad) = batch["inputs"], batch["targets"]
    assert audio.shape == audio_pad.shape == (3, d.num_samples)
    assert ids.shape == ids_pad.shape == (3, d.num_targets)
    assert {a.dtype for a in (audio, audio_pad, ids, ids_pad)} == {np.dtype(np.float32)}
    for row in range(3):
        n = split.audio_offsets[row + 1] - split.audio_offsets[row]
        assert (audio_pad[row, :n] == 0).all() and (audio_pad[row, n:] == 1).all()
        assert (audio[row, n:] == 0).all()
        valid = ids[row][ids_pad[row] == 0].astype(int)
        assert text.decode(valid) == split.transcripts[row]
        assert (ids[row][ids_pad[row] == 1] == 0).all()
    assert np.abs(audio).max() <= 32768


def test_mu_law_storage_keeps_38_db_and_int16_files_work_too():
    rng = np.random.default_rng(1)
    x = np.clip(rng.standard_normal(50_000) * 4000, -32768, 32767).astype(np.int16)
    codes = data.mu_law_encode(x)
    assert codes.dtype == np.uint8
    error = data.pcm(codes) - x
    snr = 10 * np.log10(np.mean(x.astype(float) ** 2) / np.mean(error**2))
    assert snr > 35
    split = data.SpeechSplit.from_arrays({
        "audio": x[:1000], "audio_lengths": np.array([600, 400], np.int32),
        "targets": np.array([3, 4, 5], np.int16), "target_lengths": np.array([2, 1], np.int32)})
    batch = split.batch(np.array([1, 0]), 700, 4)
    np.testing.assert_array_equal(batch["inputs"][0][0, :400], x[600:1000])
    np.testing.assert_array_equal(batch["inputs"][1][0], np.r_[np.zeros(400), np.ones(300)])
    np.testing.assert_array_equal(batch["targets"][0][1], [3, 4, 0, 0])
    with pytest.raises(PacelineError, match="do not add up"):
        data.SpeechSplit.from_arrays({
            "audio": x[:10], "audio_lengths": np.array([5], np.int32),
            "targets": np.array([3], np.int16), "target_lengths": np.array([1], np.int32)})


def test_train_queue_pads_each_batch_to_its_longest_utterance(speech_tiny_dir, conformer):
    queue = conformer._build_input_queue(np.array([0, 1], np.uint32), "train", speech_tiny_dir, 128)
    lengths = np.diff(data.load_dev(speech_tiny_dir).splits["train"].audio_offsets)
    for _ in range(3):
        batch = next(queue)
        audio, paddings = batch["inputs"]
        ids, id_paddings = batch["targets"]
        assert isinstance(audio, torch.Tensor) and audio.dtype == torch.float32
        assert audio.shape[0] == ids.shape[0] == 4  # 128 requested -> 128 * 8 / 256
        assert audio.shape[1] % 1600 == 0
        real = (paddings == 0).sum(dim=1).numpy()
        assert set(real) <= set(lengths) and audio.shape[1] - real.max() < 1600


def test_user_folder_without_marker_is_read_and_a_foreign_folder_is_a_data_root(
        speech_tiny_dir, tmp_path, monkeypatch):
    user = tmp_path / "user"
    user.mkdir()
    for s in data.SPLITS:
        (user / f"{s}.npz").write_bytes((Path(speech_tiny_dir) / f"{s}.npz").read_bytes())
    d = data.load_dev(str(user))  # no DONE, no frontend_stats: read as is, stats computed
    reference = data.load_dev(speech_tiny_dir)
    np.testing.assert_allclose(d.mean, reference.mean, rtol=1e-5)
    # a folder without split files is a data root: the data is built in a folder paceline
    # owns inside it (docs/security.md), and the user's files stay
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    built = []
    monkeypatch.setattr(data, "prepare", lambda d=None, **_: built.append(d) or Path(speech_tiny_dir))
    data.load_dev(str(foreign))
    assert built == [str(foreign)]
    assert (foreign / "notes.txt").read_text() == "mine"


def test_info_records_the_recipe_and_espeak_version(speech_tiny_dir):
    info = json.loads((Path(speech_tiny_dir) / "info.json").read_text())
    assert info["recipe"]["train"] == 6 and info["espeak_ng"]
    assert set(info["splits"]) == set(data.SPLITS)


# ---- loss --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def conformer():
    return workloads().create("librispeech_conformer", "dev", "pytorch")


def test_ctc_loss_counts_target_tokens_and_ignores_padded_frames(conformer):
    torch.manual_seed(0)
    logits = torch.randn(2, 12, text.VOCAB_SIZE)
    logit_pad = torch.zeros(2, 12)
    logit_pad[1, 8:] = 1.0
    ids = torch.tensor([[3.0, 4.0, 5.0, 0.0], [7.0, 7.0, 0.0, 0.0]])
    ids_pad = torch.tensor([[0.0, 0.0, 0.0, 1.0], [0.0, 0.0, 1.0, 1.0]])
    out = conformer.loss_fn((ids, ids_pad), (logits, logit_pad))
    assert float(out["n_valid_examples"]) == 5.0
    assert out["per_example"].shape == (2,)
    changed = logits.clone()
    changed[1, 8:] = 50.0  # padded frames of row 2
    again = conformer.loss_fn((ids, ids_pad), (changed, logit_pad))
    torch.testing.assert_close(out["summed"], again["summed"])
    reference = torch.nn.CTCLoss(blank=0, reduction="none")(
        torch.log_softmax(logits, -1).transpose(0, 1), ids.long(), torch.tensor([12, 8]),
        torch.tensor([3, 2]))
    torch.testing.assert_close(out["per_example"], reference)
    masked = conformer.loss_fn((ids, ids_pad), (logits, logit_pad),
                               mask_batch=torch.tensor([1.0, 0.0]))
    assert float(masked["n_valid_examples"]) == 3.0
    torch.testing.assert_close(masked["summed"], reference[0])


def test_dev_batch_size_scales_the_baselines_256(conformer):
    assert conformer.effective_batch_size(256) == 8
    assert conformer.effective_batch_size(512) == 16
    assert conformer.effective_batch_size(64) == 2
    assert conformer.effective_batch_size(1) == 1
    assert conformer.loss_type == spec.LossType.CTC_LOSS
