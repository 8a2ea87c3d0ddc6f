"""The official Criteo 1TB click logs as AlgoPerf's ``datasets/dataset_setup.py`` leaves them.

    paceline data check --scale official --data-dir ~/data/criteo1tb
    paceline run --workload criteo1tb --scale official --data-dir ~/data/criteo1tb \\
        --submission nadamw

``--data-dir`` (or its ``criteo1tb/`` subfolder, where AlgoPerf's setup writes) holds the 24
decompressed days, each cut by ``split -a 2 -d -l 5000000`` into plain-text files of five
million lines: ``day_0_00``, ``day_0_01``, ... ``day_23_35`` (no extension, no compression).
Each line is tab-separated: a 0/1 label, 13 integer counts and 26 categorical values
(8 hex digits); an empty field (or ``-1``) is missing.

Splits, as in AlgoPerf's algoperf/workloads/criteo1tb/input_pipeline.py: train and
eval_train = every file of days 0-22; day 23's 36 files give test (``day_23_00`` ...
``day_23_18``) and validation (``day_23_19`` ... ``day_23_35``).

Parsing reproduces that pipeline without TensorFlow: dense features ``log(relu(x) + 1)``
in float32 (missing = 0); categorical value ``v`` of column ``c`` becomes
``Fingerprint64(v + str(c)) mod VOCAB_SIZES[c]`` (missing = ``"00000000"``), cast to
float32, so ids above 2^24 round exactly as upstream's do. Training streams the files in a
seeded random order, consecutive lines forming a batch (the last partial batch of a pass is
dropped, as upstream's ``drop_remainder``); evaluation streams its files in order and pads
the last batch with ``weights == 0``.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from sdk.errors import PacelineError
from workloads.criteo1tb.fingerprint import fingerprint64, fingerprint64_rows

NUM_TRAIN_DAYS = 23
NUM_DAY23_FILES = 36
NUM_TEST_FILES = NUM_DAY23_FILES // 2 + 1  # day_23_00 .. day_23_18
NUM_DENSE = 13
NUM_COLUMNS = 1 + NUM_DENSE + 26
MISSING_CATEGORY = b"00000000"
EVAL_TRAIN_SEED = 23  # the fixed file order of eval_train passes
# The 26 hash-bucket counts (algoperf/workloads/criteo1tb/input_pipeline.py _VOCAB_SIZES).
VOCAB_SIZES = (
    39_884_406, 39_043, 17_289, 7_420, 20_263, 3, 7_120, 1_543, 63, 38_532_951, 2_953_546,
    403_346, 10, 2_208, 11_938, 155, 4, 976, 14, 39_979_771, 25_641_295, 39_664_984, 585_935,
    12_972, 108, 36,
)
_MAX_INT_DIGITS = 18
_PAD = 32  # zero bytes after a parsed buffer, so fixed-width reads never run past it
_SHORT_FIELD = 14  # categorical fields up to this long are hashed vectorised (+ 2 index digits)


# ---- files ----------------------------------------------------------------------------------
def folder(data_dir: str | Path) -> Path:
    """The folder holding the day files: ``data_dir`` itself or its ``criteo1tb/``."""
    root = Path(data_dir).expanduser()
    nested = root / "criteo1tb"
    if not any(root.glob("day_*_[0-9][0-9]")) and nested.is_dir():
        return nested
    return root


def day23_file(root: Path, index: int) -> Path:
    return root / f"day_23_{index:02d}"


def train_files(root: Path) -> list[Path]:
    """Every file of days 0-22, in name order."""
    return sorted(p for d in range(NUM_TRAIN_DAYS) for p in root.glob(f"day_{d}_[0-9][0-9]"))


def split_files(root: Path, split: str) -> list[Path]:
    """The files of ``split`` (train, eval_train, validation or test)."""
    if split in ("train", "eval_train"):
        return train_files(root)
    indices = (range(NUM_TEST_FILES) if split == "test"
               else range(NUM_TEST_FILES, NUM_DAY23_FILES))
    return [day23_file(root, i) for i in indices]


# ---- parsing --------------------------------------------------------------------------------
def _field_bounds(buf: np.ndarray, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets ``[lines, 40]`` of every field of newline-terminated lines."""
    newlines = np.flatnonzero(buf == 10)
    seps = np.flatnonzero((buf == 9) | (buf == 10))
    n = len(newlines)
    if len(seps) != n * NUM_COLUMNS or not np.array_equal(seps[NUM_COLUMNS - 1 :: NUM_COLUMNS],
                                                          newlines):
        raise PacelineError(f"{source} is not a Criteo 1TB day file: every line must hold "
                            f"{NUM_COLUMNS} tab-separated fields (a label, 13 integers and 26 "
                            "categorical values).")
    ends = seps.reshape(n, NUM_COLUMNS)
    starts = np.empty_like(ends)
    starts[:, 0] = np.concatenate([[0], newlines[:-1] + 1])
    starts[:, 1:] = ends[:, :-1] + 1
    return starts, ends


def _gather(buf: np.ndarray, starts: np.ndarray, width: int) -> np.ndarray:
    """``[..., width]`` bytes from each start (``buf`` ends in at least ``width`` zeros)."""
    return sliding_window_view(buf, width)[starts]


def _integers(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, source: str) -> np.ndarray:
    """Decimal integer fields as float32; empty or ``-1`` fields are missing, i.e. 0."""
    widths = ends - starts
    top = int(widths.max(initial=0))
    if top > _MAX_INT_DIGITS:
        raise PacelineError(f"{source} has an integer field of {top} characters; Criteo's "
                            "label and count columns are short integers.")
    chars = _gather(buf, starts, max(top, 1)).astype(np.int64)
    position = np.arange(max(top, 1))
    negative = (widths > 0) & (chars[..., 0] == ord("-"))
    is_digit = (position < widths[..., None]) & ~(negative[..., None] & (position == 0))
    digits = chars - ord("0")
    if np.any(is_digit & ((digits < 0) | (digits > 9))):
        raise PacelineError(f"{source} has a label or count field that is not an integer.")
    value = np.zeros(widths.shape, np.int64)
    for j in range(top):
        value = np.where(is_digit[..., j], value * 10 + digits[..., j], value)
    value = np.where(negative, -value, value)
    value = np.where(negative & (value == -1), 0, value)  # upstream's na_value '-1'
    return value.astype(np.float64).astype(np.float32)


def _category_ids(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """``Fingerprint64(value + str(column)) mod VOCAB_SIZES[column]`` as int64 ``[n, 26]``."""
    n, cols = starts.shape
    widths = (ends - starts).reshape(-1)
    flat_starts = starts.reshape(-1)
    chars = _gather(buf, flat_starts, _SHORT_FIELD)
    chars = np.where(np.arange(_SHORT_FIELD) < widths[:, None], chars, 0).astype(np.uint8)
    missing = (widths == 0) | ((widths == 2) & (chars[:, 0] == ord("-")) & (chars[:, 1] == ord("1")))
    chars[missing] = 0
    chars[missing, : len(MISSING_CATEGORY)] = np.frombuffer(MISSING_CATEGORY, np.uint8)
    widths = np.where(missing, len(MISSING_CATEGORY), widths)
    column = np.tile(np.arange(cols), n)
    suffix = np.array([list(str(c).encode().ljust(2, b"\0")) for c in range(cols)], np.uint8)
    suffix_len = np.array([len(str(c)) for c in range(cols)])[column]
    chars = np.pad(chars, ((0, 0), (0, 2)))
    rows = np.arange(n * cols)
    short = widths <= _SHORT_FIELD
    for k in range(2):
        put = short & (k < suffix_len)
        chars[rows[put], widths[put] + k] = suffix[column[put], k]
    hashes = fingerprint64_rows(chars, np.where(short, widths + suffix_len, 0))
    for i in np.flatnonzero(~short):  # rare long fields: hash the raw bytes
        raw = buf[flat_starts[i] : flat_starts[i] + widths[i]].tobytes()
        hashes[i] = fingerprint64(raw + str(column[i]).encode())
    vocab = np.array(VOCAB_SIZES, np.uint64)[column]
    return (hashes % vocab).astype(np.int64).reshape(n, cols)


def parse_lines(data: bytes, source: str = "Criteo data") -> dict[str, np.ndarray]:
    """TSV lines -> ``inputs`` ``[n, 39]`` float32 (13 dense, 26 ids as floats) and
    ``targets`` ``[n]`` float32, exactly as AlgoPerf's TensorFlow parser makes them."""
    if data and not data.endswith(b"\n"):
        data += b"\n"
    buf = np.frombuffer(data + bytes(_PAD), np.uint8)
    starts, ends = _field_bounds(buf[: len(data)], source)
    numbers = _integers(buf, starts[:, : 1 + NUM_DENSE], ends[:, : 1 + NUM_DENSE], source)
    dense = np.log(np.maximum(numbers[:, 1:], np.float32(0)) + np.float32(1))
    ids = _category_ids(buf, starts[:, 1 + NUM_DENSE :], ends[:, 1 + NUM_DENSE :])
    inputs = np.concatenate([dense, ids.astype(np.float32)], axis=1)
    return {"inputs": inputs.astype(np.float32), "targets": numbers[:, 0]}


# ---- streams --------------------------------------------------------------------------------
def _lines(files: list[Path], batch_lines: int) -> Iterator[list[bytes]]:
    """Consecutive lines of ``files`` in chunks of ``batch_lines`` (the last may be shorter)."""
    pending: list[bytes] = []
    for path in files:
        with open(path, "rb") as f:
            while True:
                pending += itertools.islice(f, batch_lines - len(pending))
                if len(pending) < batch_lines:
                    break
                yield pending
                pending = []
    if pending:
        yield pending


def _join(lines: list[bytes]) -> bytes:
    if lines and not lines[-1].endswith(b"\n"):
        lines[-1] += b"\n"
    return b"".join(lines)


class TrainStream:
    """Endless training batches: each pass reads every file in a new seeded order, cuts its
    lines into batches and drops the last partial one. ``transform`` (set by the input
    queue) is applied to each parsed batch; ``skip(n)`` reads past ``n`` batches unparsed."""

    def __init__(self, files: list[Path], batch_size: int, seed: int) -> None:
        if not files:
            raise PacelineError("No training files (day_0_00 ... day_22_NN) were found; "
                                "see `paceline data check --scale official`.")
        self.files, self.batch_size, self.seed = files, int(batch_size), int(seed)
        self.transform: Any = None
        self._chunks = self._stream()

    def _stream(self) -> Iterator[list[bytes]]:
        for epoch in itertools.count():
            order = np.random.default_rng([self.seed, epoch]).permutation(len(self.files))
            produced = False
            for chunk in _lines([self.files[i] for i in order], self.batch_size):
                if len(chunk) == self.batch_size:
                    produced = True
                    yield chunk
            if not produced:
                raise PacelineError(f"The training files hold fewer lines than one batch "
                                    f"of {self.batch_size}.")

    def skip(self, num_batches: int) -> None:
        for _ in range(int(num_batches)):
            next(self._chunks)

    def __iter__(self) -> TrainStream:
        return self

    def __next__(self) -> dict[str, Any]:
        batch = parse_lines(_join(next(self._chunks)), "a Criteo training file")
        return self.transform(batch) if self.transform is not None else batch


def eval_batches(files: list[Path], batch_size: int,
                 num_examples: int) -> Iterator[dict[str, np.ndarray]]:
    """One in-order pass over ``files``, at most ``ceil(num_examples / batch_size)`` batches
    (upstream's ``take``), the last padded to ``batch_size`` rows with ``weights == 0``."""
    num_batches = -(-int(num_examples) // batch_size)
    for chunk in itertools.islice(_lines(files, batch_size), num_batches):
        batch = parse_lines(_join(chunk), "a Criteo evaluation file")
        n = len(batch["targets"])
        weights = np.ones(batch_size, np.float32)
        weights[n:] = 0.0
        pad = batch_size - n
        batch = {k: np.concatenate([v, np.zeros((pad, *v.shape[1:]), v.dtype)])
                 for k, v in batch.items()}
        batch["weights"] = weights
        yield batch


def eval_train_files(root: Path) -> list[Path]:
    """The training files in eval_train's fixed shuffled order."""
    files = train_files(root)
    order = np.random.default_rng(EVAL_TRAIN_SEED).permutation(len(files))
    return [files[i] for i in order]


# ---- the data check -------------------------------------------------------------------------
def _unusable(path: Path) -> str | None:
    """A sentence if the first line of ``path`` cannot be read as a Criteo line."""
    try:
        with open(path, "rb") as f:
            first = f.readline()
        if not first.strip():
            return f"{path} is empty."
        parse_lines(first, str(path))
    except OSError as exc:
        return f"{path} cannot be read ({exc.strerror or exc})."
    except PacelineError as exc:
        return str(exc)
    return None


def _missing_day23(root: Path, split: str) -> list[str]:
    missing = [p.name for p in split_files(root, split) if not p.is_file()]
    if not missing:
        return []
    return [f"The {split} split lacks {', '.join(missing)} in {root} (day 23 cut into "
            f"{NUM_DAY23_FILES} files of 5,000,000 lines)."]


def check(data_dir: Path) -> list[str]:
    """What ``data_dir`` lacks for the official criteo1tb workloads, one sentence each
    (empty: usable). Presence of every day and day-23 file; the first line of the first
    file of each split is parsed."""
    root = folder(data_dir)
    if not root.is_dir():
        return [f"{root} is not a directory."]
    problems = []
    for day in range(NUM_TRAIN_DAYS):
        if not any(root.glob(f"day_{day}_[0-9][0-9]")):
            hint = (f" ({root / f'day_{day}.csv'} is there: cut it with `split -a 2 -d -l "
                    f"5000000 day_{day}.csv day_{day}_`)") if (root / f"day_{day}.csv").is_file() \
                else ""
            problems.append(f"Training day {day} (day_{day}_00, day_{day}_01, ...) is missing "
                            f"from {root}{hint}.")
    problems += _missing_day23(root, "test") + _missing_day23(root, "validation")
    firsts = [files[0] for files in (train_files(root), split_files(root, "test"),
                                     split_files(root, "validation")) if files]
    problems += [s for s in (_unusable(p) for p in firsts if p.is_file()) if s]
    return problems
