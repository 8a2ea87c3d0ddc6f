"""The official LibriSpeech data as AlgoPerf prepares it, and its SentencePiece vocabulary.

``--data-dir`` holds what AlgoPerf's ``datasets/librispeech_preprocess.py`` writes:

* ``{name}.csv`` for ``train-clean-100``, ``train-clean-360``, ``train-other-500``,
  ``dev-clean``, ``dev-other``, ``test-clean`` (a header row; the utterance id in the second
  column);
* ``{name}/{id}_audio.npy`` (16 kHz PCM samples, int16 scale) and ``{name}/{id}_targets.npy``
  (SentencePiece ids ending with EOS);
* ``spm_model.vocab``: the serialised 1,024-piece SentencePiece model (AlgoPerf's
  ``--librispeech_tokenizer_vocab_path``), read here without the sentencepiece package.

Splits: train = the three training sets, validation = dev-clean + dev-other, test =
test-clean. Every batch is padded to 320,000 samples and 256 tokens, as officially.
"""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from sdk.errors import PacelineError

SPLITS = {
    "train": ("train-clean-100", "train-clean-360", "train-other-500"),
    "validation": ("dev-clean", "dev-other"),
    "test": ("test-clean",),
}
MAX_SAMPLES = 320_000
MAX_TARGETS = 256
VOCAB_FILE = "spm_model.vocab"
_LOADERS = 8  # threads reading an official batch's .npy files

# AlgoPerf's per-bin log-mel normalisation, measured on LibriSpeech (the official front end's
# constants; AlgoPerf's algoperf/workloads/librispeech_conformer/librispeech_pytorch/preprocessor.py, first entries -7.6048 / 3.4353).
LOGMEL_MEAN = (
    -7.604782, -7.120623, -6.886425, -6.870577, -6.966772, -7.108409, -6.952803, -6.783994,
    -6.619552, -6.487627, -6.412066, -6.394048, -6.424487, -6.399371, -6.515827, -6.713800,
    -6.847688, -6.988500, -6.922139, -7.146149, -7.204040, -7.053755, -7.314038, -7.122325,
    -7.302514, -7.121214, -7.242573, -7.173054, -7.097941, -7.088748, -6.984991, -6.878773,
    -6.760275, -6.630095, -6.514577, -6.424506, -6.356514, -6.317876, -6.266077, -6.246833,
    -6.282153, -6.190839, -6.248435, -6.147264, -6.092473, -6.017100, -5.925040, -5.853583,
    -5.820911, -5.811893, -5.807837, -5.771463, -5.745373, -5.770566, -5.776564, -5.783167,
    -5.795409, -5.799482, -5.802348, -5.804712, -5.816818, -5.884480, -5.972711, -6.044466,
    -6.128487, -6.225759, -6.315750, -6.390612, -6.492860, -6.549846, -6.605432, -6.650838,
    -6.669176, -6.672689, -6.684235, -6.697458, -6.754718, -6.794914, -6.863421, -6.941865,
)
LOGMEL_STD = (
    3.435328, 3.596293, 3.701247, 3.736921, 3.753510, 3.693629, 3.692250, 3.764152, 3.841972,
    3.899985, 3.929424, 3.931741, 3.913959, 3.903160, 3.869200, 3.815508, 3.764497, 3.709911,
    3.696509, 3.600377, 3.549323, 3.546512, 3.450036, 3.471281, 3.408461, 3.440814, 3.410488,
    3.421764, 3.431285, 3.419921, 3.430581, 3.438267, 3.458037, 3.481799, 3.495871, 3.503679,
    3.504757, 3.498873, 3.493056, 3.482294, 3.459430, 3.461277, 3.455906, 3.475542, 3.497155,
    3.532656, 3.570520, 3.592031, 3.596907, 3.591350, 3.586593, 3.582681, 3.583774, 3.589579,
    3.581931, 3.583787, 3.586118, 3.588959, 3.592215, 3.593946, 3.585663, 3.588411, 3.592102,
    3.587049, 3.580657, 3.573107, 3.561753, 3.549807, 3.552737, 3.547537, 3.538785, 3.525618,
    3.503184, 3.492273, 3.487965, 3.472559, 3.455839, 3.435183, 3.428429, 3.429917,
)


class OfficialSplit:
    """The utterances of one official split, read from their ``.npy`` files per batch."""

    def __init__(self, data_dir: Path, names: tuple[str, ...]) -> None:
        self.data_dir = data_dir
        self.ids: list[str] = []
        for name in names:
            path = data_dir / f"{name}.csv"
            if not path.is_file():
                raise PacelineError(f"{path} is missing; the official LibriSpeech workloads "
                                    "read AlgoPerf's preprocessed data (one CSV per subset "
                                    "plus per-utterance .npy files) from --data-dir.")
            with open(path, newline="") as f:
                rows = list(csv.reader(f))[1:]
            self.ids += [f"{name}/{row[1]}" for row in rows if len(row) > 1]

    def __len__(self) -> int:
        return len(self.ids)

    def _read(self, uid: str) -> tuple[np.ndarray, np.ndarray]:
        audio = np.load(self.data_dir / f"{uid}_audio.npy", allow_pickle=False)
        targets = np.load(self.data_dir / f"{uid}_targets.npy", allow_pickle=False)
        if len(audio) > MAX_SAMPLES or len(targets) > MAX_TARGETS:
            raise PacelineError(f"Utterance {uid} is longer than {MAX_SAMPLES} samples or "
                                f"{MAX_TARGETS} tokens (AlgoPerf's preprocessing drops those).")
        return audio, targets

    def batch(self, indices: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Rows ``indices`` padded to 320,000 samples / 256 tokens, float32, 1.0 = padding."""
        n = len(indices)
        audio = np.zeros((n, MAX_SAMPLES), np.float32)
        audio_pad = np.ones((n, MAX_SAMPLES), np.float32)
        ids = np.zeros((n, MAX_TARGETS), np.float32)
        ids_pad = np.ones((n, MAX_TARGETS), np.float32)
        with ThreadPoolExecutor(max_workers=_LOADERS) as pool:
            loaded = list(pool.map(self._read, (self.ids[int(i)] for i in indices)))
        for row, (a, t) in enumerate(loaded):
            audio[row, : len(a)] = a
            audio_pad[row, : len(a)] = 0.0
            ids[row, : len(t)] = t
            ids_pad[row, : len(t)] = 0.0
        return {"inputs": (audio, audio_pad), "targets": (ids, ids_pad)}


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(buf: bytes):  # noqa: ANN202 - yields (field number, wire type, value)
    """The top-level fields of a protobuf message (varint, 64-bit, bytes and 32-bit kinds)."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, kind = key >> 3, key & 7
        if kind == 0:
            value, pos = _varint(buf, pos)
        elif kind == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif kind == 2:
            size, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + size], pos + size
        elif kind == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {kind}")
        yield number, kind, value


class SentencePieceVocab:
    """Detokenisation with a serialised SentencePiece model (its ``pieces`` only).

    Like SentencePiece's decoder (which tf-text's detokenizer calls): control pieces (BOS,
    EOS) vanish, the unknown piece reads `` ⁇ ``, ``▁`` becomes a space and the leading space
    is dropped.
    """

    NORMAL, UNKNOWN, CONTROL = 1, 2, 3

    def __init__(self, pieces: list[str], types: list[int]) -> None:
        self.pieces, self.types = pieces, types

    @classmethod
    def from_file(cls, path: Path) -> SentencePieceVocab:
        if not path.is_file():
            raise PacelineError(f"{path} is missing; the official LibriSpeech WER needs "
                                "AlgoPerf's SentencePiece model (spm_model.vocab).")
        pieces, types = [], []
        try:
            for number, kind, value in _fields(path.read_bytes()):
                if number != 1 or kind != 2:  # ModelProto.pieces
                    continue
                piece, piece_type = "", cls.NORMAL
                for n, k, v in _fields(value):
                    if n == 1 and k == 2:
                        piece = v.decode("utf-8")
                    elif n == 3 and k == 0:
                        piece_type = v
                pieces.append(piece)
                types.append(piece_type)
        except (IndexError, ValueError, UnicodeDecodeError):
            pieces = []
        if not pieces:
            raise PacelineError(f"{path} is not a SentencePiece model.")
        return cls(pieces, types)

    def detokenize(self, ids) -> str:  # noqa: ANN001 - any iterable of ints
        out = []
        for i in (int(x) for x in ids):
            if not 0 <= i < len(self.pieces) or self.types[i] == self.CONTROL:
                continue
            out.append(" \u2047 " if self.types[i] == self.UNKNOWN else self.pieces[i])
        return "".join(out).replace("\u2581", " ").lstrip(" ")


def load_vocab(data_dir: Path, path: str | None = None) -> SentencePieceVocab:
    """The SentencePiece model at ``path`` or ``<data_dir>/spm_model.vocab``."""
    return SentencePieceVocab.from_file(Path(path) if path else data_dir / VOCAB_FILE)


def check_official(data_dir: Path) -> list[str]:
    """What ``data_dir`` lacks for the official LibriSpeech workloads, one sentence each.

    The registry's ``official_data_check`` hook of both LibriSpeech families (``paceline data
    check --scale official``): every subset's CSV with at least one utterance, both ``.npy``
    files of every utterance it lists, the first utterance of each subset loadable (1-D, within
    the padded lengths), and a readable ``spm_model.vocab``. Empty: the folder is usable.
    """
    folder = Path(data_dir)
    problems = [p for names in SPLITS.values() for name in names
                if (p := _subset_problem(folder, name))]
    try:
        SentencePieceVocab.from_file(folder / VOCAB_FILE)
    except PacelineError as exc:
        problems.append(str(exc))
    return problems


def _subset_problem(folder: Path, name: str) -> str | None:
    """Why subset ``name`` cannot be read from ``folder`` (``None``: it can)."""
    path = folder / f"{name}.csv"
    if not path.is_file():
        return f"{path} is missing (AlgoPerf's librispeech_preprocess.py writes it)."
    try:
        with open(path, newline="") as f:
            ids = [row[1] for row in list(csv.reader(f))[1:] if len(row) > 1]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        return f"{path} cannot be read as a CSV ({exc})."
    if not ids:
        return f"{path} lists no utterances (a header row, then ids in the second column)."
    lacking = [uid for uid in ids for kind in ("audio", "targets")
               if not (folder / name / f"{uid}_{kind}.npy").is_file()]
    if lacking:
        return (f"{folder / name} lacks the .npy files of {len(set(lacking)):,} of the "
                f"{len(ids):,} utterances {path.name} lists (first: {lacking[0]}).")
    return _utterance_problem(folder / name, ids[0])


def _utterance_problem(subset: Path, uid: str) -> str | None:
    """Why utterance ``uid`` of ``subset`` cannot be batched (``None``: it can)."""
    for kind, limit in (("audio", MAX_SAMPLES), ("targets", MAX_TARGETS)):
        path = subset / f"{uid}_{kind}.npy"
        try:
            array = np.load(path, allow_pickle=False)
        except (OSError, ValueError) as exc:
            return f"{path} is not a readable .npy array ({exc})."
        if array.ndim != 1 or not 0 < len(array) <= limit:
            return f"{path} has shape {array.shape}; a 1-D array of 1 to {limit:,} values fits."
    return None
