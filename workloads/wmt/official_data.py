"""The official WMT data as AlgoPerf's data setup leaves it on disk, read without TensorFlow.

    paceline run --workload wmt --scale official --data-dir ~/data/wmt --submission nadamw
    paceline data check --scale official --data-dir ~/data/wmt

``--data-dir`` is the folder that AlgoPerf's ``datasets/dataset_setup.py --wmt`` fills
(``<data_dir>/wmt``), the one AlgoPerf's runner is given:

* ``wmt17_translate/de-en/1.0.0/``: the TFDS build of WMT17 de-en (``dataset_info.json`` and
  shards ``wmt17_translate-train.tfrecord-NNNNN-of-MMMMM``): train and eval_train;
* ``wmt14_translate/de-en/1.0.0/``: WMT14 de-en, whose ``validation`` (newstest2013) and
  ``test`` (newstest2014) splits are the workload's validation and test splits;
* ``wmt_sentencepiece_model``: the 32,000-piece SentencePiece model trained on WMT17.

Each record is a ``tf.train.Example`` with the German sentence under ``de`` (the input) and
the English one under ``en`` (the target). As AlgoPerf's ``algoperf/workloads/wmt/
input_pipeline.py``: both sides are tokenised with EOS (id 2) appended, pairs with a side over
256 tokens are dropped, train and eval_train are shuffled through a 1,024-pair buffer seeded
by the data key, and training rows are packed: each run of 256 consecutive pairs is packed
greedily into rows of 256 tokens on its own (the last row of a run is closed even if it has
room). Eval rows are padded to 256 tokens; a short last batch is not padded with empty rows
(upstream's padding rows have weight 0 and change no metric).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from sdk.errors import PacelineError
from workloads.common import tfrecord

CONFIG, VERSION = "de-en", "1.0.0"
# workload split -> (TFDS data set, its split)
SOURCES = {"train": ("wmt17_translate", "train"), "eval_train": ("wmt17_translate", "train"),
           "validation": ("wmt14_translate", "validation"),
           "test": ("wmt14_translate", "test")}
VOCAB_FILE = "wmt_sentencepiece_model"
INPUT_KEY, TARGET_KEY = "de", "en"  # the TFDS builders' supervised keys
MAX_LEN = 256
SHUFFLE_BUFFER = 1024
PACK_RUN = 256  # upstream pads batches of 256 pairs and packs each batch on its own
EOS = 2
PACKED_KEYS = ("inputs", "inputs_position", "inputs_segmentation",
               "targets", "targets_position", "targets_segmentation")


# ---- files ----------------------------------------------------------------------------------
def version_dir(data_dir: Path, dataset: str) -> Path:
    return tfrecord.tfds_version_dir(Path(data_dir), f"{dataset}/{CONFIG}", VERSION)


def shards(data_dir: Path, split: str) -> list[Path]:
    """The TFRecord shards of a workload split, in shard order, all present."""
    dataset, tfds_split = SOURCES[split]
    try:
        return tfrecord.split_shards(version_dir(data_dir, dataset), tfds_split, dataset)
    except tfrecord.TFRecordError as exc:
        raise PacelineError(f"{exc} The official wmt workloads read AlgoPerf's TFDS build of "
                            f"{dataset}/{CONFIG} from --data-dir.") from exc


def text_pairs(data_dir: Path, split: str) -> Iterator[tuple[str, str]]:
    """(German, English) sentences of ``split`` in file order."""
    for path in shards(data_dir, split):
        for record in tfrecord.read_records(path):
            example = tfrecord.parse_example(record)
            try:
                source, target = example[INPUT_KEY][0], example[TARGET_KEY][0]
            except (KeyError, IndexError) as exc:
                raise PacelineError(f"{path} holds a record without '{INPUT_KEY}' and "
                                    f"'{TARGET_KEY}' text (not WMT de-en).") from exc
            yield source.decode("utf-8"), target.decode("utf-8")


class Tokenizer:
    """AlgoPerf's SentencePiece model: encode with EOS appended, decode as upstream."""

    def __init__(self, path: Path) -> None:
        import sentencepiece

        if not path.is_file():
            raise PacelineError(f"{path} is missing; the official wmt workloads need "
                                f"AlgoPerf's SentencePiece model ({VOCAB_FILE}) in --data-dir.")
        self.processor = sentencepiece.SentencePieceProcessor()
        try:
            self.processor.LoadFromSerializedProto(path.read_bytes())
        except (RuntimeError, OSError) as exc:
            raise PacelineError(f"{path} is not a SentencePiece model.") from exc

    @property
    def vocab_size(self) -> int:
        return int(self.processor.GetPieceSize())

    def encode(self, text: str) -> np.ndarray:
        return np.array(self.processor.EncodeAsIds(text) + [EOS], np.int64)

    def decode(self, ids: Any) -> str:
        """Detokenise up to and including the first EOS. Upstream quirk (``_decode_tokens`` in
        AlgoPerf algoperf/workloads/wmt/workload.py): a row without EOS keeps only its first
        token."""
        ids = np.asarray(ids).reshape(-1)
        stop = int(np.argmax(ids == EOS)) + 1
        size = self.vocab_size  # a model with a larger vocabulary: unknown pieces
        return self.processor.DecodeIds([int(i) if i < size else 0 for i in ids[:stop]])


def token_pairs(pairs: Iterable[tuple[str, str]], tokenizer: Tokenizer
                ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Tokenised pairs, without those with a side longer than 256 tokens."""
    for source, target in pairs:
        ids_in, ids_out = tokenizer.encode(source), tokenizer.encode(target)
        if max(len(ids_in), len(ids_out)) <= MAX_LEN:
            yield ids_in, ids_out


def shuffled(items: Iterable[Any], seed: int | list[int],
             buffer: int = SHUFFLE_BUFFER) -> Iterator[Any]:
    """tf.data's shuffle buffer: each item out is a random one of the next ``buffer``."""
    rng = np.random.default_rng(seed)
    pool: list[Any] = []
    for item in items:
        if len(pool) < buffer:
            pool.append(item)
            continue
        k = int(rng.integers(len(pool)))
        yield pool[k]
        pool[k] = item
    while pool:
        yield pool.pop(int(rng.integers(len(pool))))


# ---- batches --------------------------------------------------------------------------------
def pack_run(pairs: list[tuple[np.ndarray, np.ndarray]]) -> list[dict[str, np.ndarray]]:
    """Rows of 256 tokens from one run of pairs, each pair appended while both sides fit."""
    rows: list[list[tuple[np.ndarray, np.ndarray]]] = []
    used = (MAX_LEN + 1, MAX_LEN + 1)
    for ids_in, ids_out in pairs:
        # upstream keeps a sequence's leading tokens, as many as it has non-zero ids
        ids_in = ids_in[: np.count_nonzero(ids_in)]
        ids_out = ids_out[: np.count_nonzero(ids_out)]
        if used[0] + len(ids_in) > MAX_LEN or used[1] + len(ids_out) > MAX_LEN:
            rows.append([])
            used = (0, 0)
        rows[-1].append((ids_in, ids_out))
        used = (used[0] + len(ids_in), used[1] + len(ids_out))
    return [_pack_row(row) for row in rows]


def _pack_row(row: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, np.ndarray]:
    out = {k: np.zeros(MAX_LEN, np.int64) for k in PACKED_KEYS}
    for side, which in (("inputs", 0), ("targets", 1)):
        col = 0
        for segment, pair in enumerate(row, start=1):
            ids = pair[which]
            end = col + len(ids)
            out[side][col:end] = ids
            out[f"{side}_position"][col:end] = np.arange(len(ids))
            out[f"{side}_segmentation"][col:end] = segment * (ids != 0)
            col = end
    return out


def pad_batch(pairs: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, np.ndarray]:
    """An eval batch: one pair per row, padded with 0 to 256 tokens."""
    out = {k: np.zeros((len(pairs), MAX_LEN), np.int64) for k in ("inputs", "targets")}
    for r, (ids_in, ids_out) in enumerate(pairs):
        out["inputs"][r, : len(ids_in)] = ids_in
        out["targets"][r, : len(ids_out)] = ids_out
    out["weights"] = (out["targets"] > 0).astype(np.float32)
    return out


class OfficialWmt:
    """One --data-dir: its tokenizer, eval pairs (cached) and train streams."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.tokenizer = Tokenizer(self.data_dir / VOCAB_FILE)
        self._eval: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}

    def train_pairs(self, seed: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Endless shuffled train pairs (each epoch through its own seeded buffer)."""
        epoch = 0
        while True:
            count = 0
            for pair in shuffled(token_pairs(text_pairs(self.data_dir, "train"),
                                             self.tokenizer), [seed, epoch]):
                count += 1
                yield pair
            if not count:
                raise PacelineError(f"{self.data_dir}: the wmt17 train split has no pair of "
                                    f"at most {MAX_LEN} tokens.")
            epoch += 1

    def eval_pairs(self, split: str, num_examples: int,
                   seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """The first ``num_examples`` pairs of an eval split (eval_train: shuffled train)."""
        key = f"{split}:{seed}" if split == "eval_train" else split
        if key not in self._eval:
            pairs = token_pairs(text_pairs(self.data_dir, split), self.tokenizer)
            if split == "eval_train":
                pairs = shuffled(pairs, seed)
            self._eval[key] = [p for _, p in zip(range(num_examples), pairs, strict=False)]
        return self._eval[key][:num_examples]


class TrainStream:
    """Endless packed train batches of ``rows`` x 256 tokens (``transform`` applied)."""

    def __init__(self, data: OfficialWmt, rows: int, seed: int, transform: Any = None) -> None:
        self.data, self.rows, self.seed = data, max(1, int(rows)), int(seed)
        self.transform = transform
        self._pairs = data.train_pairs(self.seed)
        self._ready: list[dict[str, np.ndarray]] = []

    def _next_numpy(self) -> dict[str, np.ndarray]:
        while len(self._ready) < self.rows:
            run = [p for _, p in zip(range(PACK_RUN), self._pairs, strict=False)]
            self._ready += pack_run(run)
        rows, self._ready = self._ready[: self.rows], self._ready[self.rows :]
        batch = {k: np.stack([r[k] for r in rows]) for k in PACKED_KEYS}
        batch["weights"] = (batch["targets"] > 0).astype(np.float32)
        return batch

    def skip(self, num_batches: int) -> None:
        for _ in range(int(num_batches)):
            self._next_numpy()

    def __iter__(self) -> TrainStream:
        return self

    def __next__(self) -> dict[str, Any]:
        batch = self._next_numpy()
        return self.transform(batch) if self.transform is not None else batch


# ---- what a data directory lacks ------------------------------------------------------------
def _first_pair_problem(data_dir: Path, split: str) -> str | None:
    try:
        next(text_pairs(data_dir, split))
    except StopIteration:
        return f"The {split} split in {data_dir} holds no sentence pair."
    except PacelineError as exc:
        return str(exc)
    return None


def check(data_dir: Path) -> list[str]:
    """One sentence per thing missing or unusable in an official wmt --data-dir (none: usable)."""
    data_dir = Path(data_dir)
    problems = []
    try:
        Tokenizer(data_dir / VOCAB_FILE)
    except PacelineError as exc:
        problems.append(str(exc))
    for split in ("train", "validation", "test"):
        problem = _first_pair_problem(data_dir, split)
        if problem:
            problems.append(problem)
    return problems
