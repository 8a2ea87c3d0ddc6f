"""The dev speech data set: build it once (espeak-ng), load it, cut it into AlgoPerf batches.

``paceline data prepare librispeech_conformer`` (or ``..._deepspeech``: both families share
one data set) speaks :data:`RECIPE`'s sentences and writes, into the cache folder
``<cache>/librispeech_conformer/`` (or ``--data-dir``):

* ``train.npz``, ``validation.npz``, ``test.npz``, each with
  ``audio`` (every utterance's 16 kHz samples concatenated: uint8 = 8-bit mu-law, mu = 255,
  which halves the files and is decoded to the int16 scale when batches are cut; int16 =
  plain PCM, also accepted), ``audio_lengths`` (int32, samples per utterance), ``targets`` (int16, character ids concatenated, see
  :mod:`.text`), ``target_lengths`` (int32), ``transcripts`` (str), ``voices`` (str),
  ``speeds`` (int16, words per minute), ``pitches`` (int16), ``snr_db`` (float32);
* ``frontend_stats.npz`` with ``mean`` and ``std`` (float32 [80]): the per-bin log-mel
  statistics of the training split, the dev counterpart of AlgoPerf's hard-coded LibriSpeech
  normalisation vectors;
* ``info.json`` (recipe, espeak-ng version, sizes) and the ``DONE`` marker.

Anyone without espeak-ng can write these files with any other speech source and pass the
folder as ``--data-dir`` (add an empty ``DONE`` file). Batches follow AlgoPerf's format:
``inputs = (audio [B, S] float32, audio_paddings [B, S])`` and
``targets = (ids [B, L] float32, target_paddings [B, L])`` with 1.0 marking padding; every
batch is padded to the longest utterance and transcript of the data set.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from sdk.errors import PacelineError
from workloads.common import data_cache
from workloads.common.speech import features, synth, text

DATASET = "librispeech_conformer"  # the cache folder both speech families share
SPLITS = ("train", "validation", "test")
MU = 255.0
# Bumped whenever the builder's output changes; a cached data set from another recipe or
# format is rebuilt on first use (a --data-dir folder is never touched).
FORMAT_VERSION = 3
STATS_UTTERANCES = 256  # training utterances the front-end normalisation is measured on


def mu_law_encode(pcm: np.ndarray) -> np.ndarray:
    """int16-scale samples -> uint8 codes (continuous mu-law companding, mu = 255)."""
    x = np.clip(np.asarray(pcm, np.float64) / 32768.0, -1.0, 1.0)
    y = np.sign(x) * np.log1p(MU * np.abs(x)) / np.log1p(MU)
    return np.round((y + 1.0) * 127.5).astype(np.uint8)


def mu_law_table() -> np.ndarray:
    """The int16-scale float32 sample of each of the 256 mu-law codes."""
    y = np.arange(256) / 127.5 - 1.0
    return (np.sign(y) * np.expm1(np.abs(y) * np.log1p(MU)) / MU * 32768.0).astype(np.float32)


_MU_TABLE = mu_law_table()


def pcm(audio: np.ndarray) -> np.ndarray:
    """Stored audio (uint8 mu-law or int16 PCM) as int16-scale float32 samples."""
    if audio.dtype == np.uint8:
        return _MU_TABLE[audio]
    return audio.astype(np.float32)


@dataclass(frozen=True)
class Recipe:
    """Everything that decides the dev data's bytes (with the espeak-ng version)."""

    seed: int = 20240521
    train: int = 1536
    validation: int = 192
    test: int = 192
    speed_wpm: tuple[int, int] = (120, 170)
    pitch: tuple[int, int] = (25, 75)
    snr_db: tuple[float, float] = (20.0, 40.0)
    peak: tuple[float, float] = (0.2, 0.9)
    chunk: int = synth.CHUNK

    def count(self, split: str) -> int:
        return getattr(self, split)


RECIPE = Recipe()


def _utterances(recipe: Recipe) -> dict[str, list[synth.Utterance]]:
    total = sum(recipe.count(s) for s in SPLITS)
    sentences = text.unique_sentences(total, recipe.seed)
    rng = np.random.default_rng([recipe.seed, 1])
    out: dict[str, list[synth.Utterance]] = {}
    start = 0
    for split in SPLITS:
        voices = [f"{a}+{v}" for a in synth.ACCENTS for v in synth.VARIANTS[split]]
        items = []
        for i in range(start, start + recipe.count(split)):
            items.append(synth.Utterance(
                text=sentences[i],
                voice=voices[int(rng.integers(len(voices)))],
                speed=int(rng.integers(recipe.speed_wpm[0], recipe.speed_wpm[1] + 1)),
                pitch=int(rng.integers(recipe.pitch[0], recipe.pitch[1] + 1)),
                snr_db=float(np.round(rng.uniform(*recipe.snr_db), 2)),
                peak=float(np.round(rng.uniform(*recipe.peak), 3)),
                seed=recipe.seed * 100_003 + i,
            ))
        out[split] = items
        start += recipe.count(split)
    return out


def ctc_frames_needed(ids: np.ndarray) -> int:
    """Output frames CTC needs for ``ids``: one per label plus a blank between repeats."""
    ids = np.asarray(ids)
    return int(len(ids) + np.count_nonzero(ids[1:] == ids[:-1]))


def build_dev(folder: Path, recipe: Recipe = RECIPE) -> dict:
    """Speak every utterance of ``recipe`` and write the split files into ``folder``."""
    plan = _utterances(recipe)
    workers = max(1, min(os.cpu_count() or 1, 4))
    sizes: dict[str, dict[str, float]] = {}
    for split in SPLITS:
        items = plan[split]
        waves = list(synth.speak_all(items, workers=workers, desc=f"speaking {split}"))
        ids = [np.asarray(text.encode(u.text), np.int16) for u in items]
        for u, wave, t in zip(items, waves, ids, strict=True):
            if features.subsampled_frames(len(wave)) < ctc_frames_needed(t):
                raise PacelineError(f"Utterance {u.text!r} is too fast for CTC at 4x "
                                    "subsampling; lower the recipe's speed range.")
        data_cache.save_npz(
            folder, split,
            audio=mu_law_encode(np.concatenate(waves)),
            audio_lengths=np.array([len(w) for w in waves], np.int32),
            targets=np.concatenate(ids),
            target_lengths=np.array([len(t) for t in ids], np.int32),
            transcripts=np.array([u.text for u in items]),
            voices=np.array([u.voice for u in items]),
            speeds=np.array([u.speed for u in items], np.int16),
            pitches=np.array([u.pitch for u in items], np.int16),
            snr_db=np.array([u.snr_db for u in items], np.float32),
        )
        seconds = np.array([len(w) for w in waves]) / synth.SAMPLE_RATE
        sizes[split] = {"utterances": len(items), "hours": round(seconds.sum() / 3600, 3),
                        "mean_seconds": round(float(seconds.mean()), 3),
                        "max_seconds": round(float(seconds.max()), 3)}
        if split == "train":
            mean, std = frontend_stats(SpeechSplit.from_arrays(
                data_cache.load_npz(folder, split)))
            data_cache.save_npz(folder, "frontend_stats", mean=mean, std=std)
    return {
        "format": FORMAT_VERSION,
        "source": "sentences from workloads.common.speech.text spoken by espeak-ng",
        "espeak_ng": synth.espeak_version(),
        "license": "generated data; espeak-ng is GPL-3.0 (its output carries no licence "
                   "restriction)",
        "recipe": asdict(recipe),
        "splits": sizes,
    }


@dataclass
class SpeechSplit:
    """One split held as concatenated (ragged) arrays; :meth:`batch` pads what it returns."""

    audio: np.ndarray
    audio_offsets: np.ndarray  # n + 1 cumulative sample offsets
    targets: np.ndarray
    target_offsets: np.ndarray
    transcripts: np.ndarray

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> SpeechSplit:
        required = ("audio", "audio_lengths", "targets", "target_lengths")
        missing = [k for k in required if k not in arrays]
        if missing:
            raise PacelineError(f"A speech split file lacks {', '.join(missing)} (see the "
                                "layout in docs/workloads/librispeech_conformer.md).")
        a_len = arrays["audio_lengths"].astype(np.int64)
        t_len = arrays["target_lengths"].astype(np.int64)
        if a_len.sum() != len(arrays["audio"]) or t_len.sum() != len(arrays["targets"]):
            raise PacelineError("A speech split file's lengths do not add up to its "
                                "concatenated audio or targets.")
        transcripts = arrays.get("transcripts")
        if transcripts is None:
            transcripts = np.array([""] * len(a_len))
        return cls(arrays["audio"], np.concatenate([[0], np.cumsum(a_len)]),
                   arrays["targets"], np.concatenate([[0], np.cumsum(t_len)]), transcripts)

    def __len__(self) -> int:
        return len(self.audio_offsets) - 1

    @property
    def max_samples(self) -> int:
        return int(np.diff(self.audio_offsets).max())

    def max_samples_of(self, indices: np.ndarray, multiple: int = 1) -> int:
        """The longest utterance among ``indices`` in samples, rounded up to ``multiple``."""
        longest = int(np.diff(self.audio_offsets)[indices].max())
        return -(-longest // multiple) * multiple

    @property
    def max_targets(self) -> int:
        return int(np.diff(self.target_offsets).max())

    def batch(self, indices: np.ndarray, num_samples: int,
              num_targets: int) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Rows ``indices`` padded to ``num_samples`` / ``num_targets``, AlgoPerf's format."""
        n = len(indices)
        audio = np.zeros((n, num_samples), np.float32)
        audio_pad = np.ones((n, num_samples), np.float32)
        ids = np.zeros((n, num_targets), np.float32)
        ids_pad = np.ones((n, num_targets), np.float32)
        for row, i in enumerate(indices):
            a0, a1 = self.audio_offsets[i], self.audio_offsets[i + 1]
            t0, t1 = self.target_offsets[i], self.target_offsets[i + 1]
            audio[row, : a1 - a0] = pcm(self.audio[a0:a1])
            audio_pad[row, : a1 - a0] = 0.0
            ids[row, : t1 - t0] = self.targets[t0:t1]
            ids_pad[row, : t1 - t0] = 0.0
        return {"inputs": (audio, audio_pad), "targets": (ids, ids_pad)}


@dataclass
class SpeechData:
    """All splits plus the front end's normalisation and the padded batch shape."""

    splits: dict[str, SpeechSplit]
    mean: np.ndarray
    std: np.ndarray

    @property
    def num_samples(self) -> int:
        return max(s.max_samples for s in self.splits.values())

    @property
    def num_targets(self) -> int:
        return max(s.max_targets for s in self.splits.values())


def _is_current(folder: Path) -> bool:
    """Whether a prepared folder was built by this format and recipe."""
    try:
        info = json.loads((folder / "info.json").read_text())
    except (OSError, json.JSONDecodeError):
        return False
    recipe = json.loads(json.dumps(asdict(RECIPE)))  # tuples as lists, as stored
    return info.get("format") == FORMAT_VERSION and info.get("recipe") == recipe


def prepare(data_dir: str | None = None, force: bool = False) -> Path:
    """Build the dev speech data into the cache (``paceline data prepare librispeech_conformer``).

    A cached copy from an older recipe or format is rebuilt.
    """
    folder = data_cache.dataset_dir(DATASET, data_dir)
    stale = data_cache.is_prepared(folder) and not _is_current(folder)
    return data_cache.prepare(DATASET, build_dev, data_dir, force=force or stale)


_LOADED: dict[str, SpeechData] = {}


def _has_split_files(folder: Path) -> bool:
    return all((folder / f"{s}.npz").is_file() for s in SPLITS)


def load_dev(data_dir: str | None = None) -> SpeechData:
    """The dev data, loaded once per folder.

    Without ``data_dir`` the cache is used (and built on first use). A ``data_dir`` holding the
    split files is read as it is; otherwise the data is read from (or built into) the
    ``librispeech_conformer`` folder paceline keeps inside it.
    """
    folder = data_cache.readable_dir(DATASET, data_dir) if data_dir else None
    if folder is None or not _has_split_files(folder):
        folder = prepare(data_dir)
    key = str(folder.resolve())
    if key not in _LOADED:
        splits = {s: SpeechSplit.from_arrays(data_cache.load_npz(folder, s)) for s in SPLITS}
        if (folder / "frontend_stats.npz").is_file():
            stats = data_cache.load_npz(folder, "frontend_stats")
            mean, std = stats["mean"], stats["std"]
        else:
            mean, std = frontend_stats(splits["train"])
        _LOADED[key] = SpeechData(splits, mean, std)
    return _LOADED[key]


def frontend_stats(split: SpeechSplit) -> tuple[np.ndarray, np.ndarray]:
    """Per-bin mean and standard deviation of the log-mel frames of the first
    :data:`STATS_UTTERANCES` utterances of ``split`` (about 40k frames)."""
    frames = np.concatenate([
        features.logmel(pcm(split.audio[split.audio_offsets[i] : split.audio_offsets[i + 1]]))
        for i in range(min(len(split), STATS_UTTERANCES))])
    return frames.mean(axis=0).astype(np.float32), frames.std(axis=0).astype(np.float32)
