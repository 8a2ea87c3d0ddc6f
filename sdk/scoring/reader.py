"""Finding trials in an experiment tree in AlgoPerf's layout, and reading their eval curves.

Accepted trees (``k`` and ``n`` any integers, framework suffix ``_jax`` / ``_pytorch``)::

    <submission>/study_<k>/<workload>_<framework>/trial_<n>/eval_measurements.csv
    <submission>/<workload>_<framework>/trial_<n>/eval_measurements.csv     (no study folders)
    <group>/<submission>/...                                                (several submissions)

What is skipped, as the reference scorer skips it: files next to study, workload or trial
folders (console logs, plots), folders that are not ``trial_<n>``, trial folders without an
``eval_measurements.csv`` (and zero-byte ones); a study with no readable trial of a workload
does not count as a study of it. Re-runs saved as ``<submission>-YYYY-MM-DD-HH-MM-SS`` next to
``<submission>`` are merged into it. Every skip is reported as a note.

    paceline score ../shared/algoperf_reference_logs/algoperf_v06/logs/external_tuning
"""

from __future__ import annotations

import csv
import functools
import io
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sdk.errors import PacelineError
from sdk.input_files import read_json_object

EVAL_FILE = "eval_measurements.csv"
TRIAL_DIR = re.compile(r"trial_(\d+)")
STUDY_DIR = re.compile(r"study_(\d+)")
FRAMEWORK_SUFFIX = re.compile(r"(.+)_(jax|pytorch)")
TIMESTAMP_SUFFIX = re.compile(r"(.+)-\d{4}(-\d{2}){5}")
NO_STUDY = "(no study folder)"
# The time at each eval: AlgoPerf's `score` column (== accumulated_submission_time).
TIME_COLUMNS = ("score", "accumulated_submission_time")
MAX_CSV_BYTES = 512 * 1024 * 1024  # a week-long trial's eval log is a few MB


@dataclass(frozen=True)
class TrialDir:
    """One ``trial_<n>`` folder of one workload in one study of one submission."""

    submission: str
    study: str
    workload_dir: str
    trial: str
    path: Path

    @property
    def workload(self) -> str:
        """The workload name without the framework suffix (``ogbg_jax`` -> ``ogbg``)."""
        return split_framework(self.workload_dir)[0]

    @property
    def framework(self) -> str | None:
        return split_framework(self.workload_dir)[1]

    @property
    def csv_path(self) -> Path:
        return self.path / EVAL_FILE

    @property
    def label(self) -> str:
        study = "" if self.study == NO_STUDY else f"{self.study}/"
        return f"{self.submission}/{study}{self.workload_dir}/{self.trial}"


@dataclass
class SubmissionTree:
    """Every trial folder of one submission, in a fixed order, and what was skipped."""

    name: str
    roots: list[Path]
    trials: list[TrialDir] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Curve:
    """One trial's evals: the target metric and the submission time at each eval."""

    values: np.ndarray
    times: np.ndarray
    steps: np.ndarray
    time_column: str

    def __len__(self) -> int:
        return len(self.values)


def split_framework(workload_dir: str) -> tuple[str, str | None]:
    m = FRAMEWORK_SUFFIX.fullmatch(workload_dir)
    return (m.group(1), m.group(2)) if m else (workload_dir, None)


def _natural_key(name: str) -> list[Any]:
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", name)]


def _subdirs(path: Path) -> list[Path]:
    """Visible sub-folders in natural order (``trial_2`` before ``trial_10``)."""
    return [path / name for name in _subdir_names(str(path))]


@functools.lru_cache(maxsize=65536)
def _subdir_names(path: str) -> tuple[str, ...]:
    try:
        with os.scandir(path) as it:
            names = [e.name for e in it
                     if not e.name.startswith(".") and e.is_dir(follow_symlinks=True)]
    except OSError:
        return ()
    return tuple(sorted(names, key=_natural_key))


def _has_trials(path: Path) -> bool:
    return any(TRIAL_DIR.fullmatch(d.name) for d in _subdirs(path))


def _depth_to_trials(path: Path, limit: int = 4) -> int | None:
    """How many folder levels below ``path`` the trial_<n> folders sit.

    The depth holding the most trial folders wins (the deeper on a tie), and trial folders
    right inside a ``study_<k>`` folder are not counted, so a stray ``trial_<n>`` copied into
    a study folder does not change how the tree is read.
    """
    counts: dict[int, int] = {}
    level = [path]
    for depth in range(1, limit + 1):
        found = 0
        children = []
        for parent in level:
            for c in _subdirs(parent):
                if not TRIAL_DIR.fullmatch(c.name):
                    children.append(c)
                elif not STUDY_DIR.fullmatch(parent.name):
                    found += 1
        if found:
            counts[depth] = found
        level = children
        if not level:
            break
    return max(counts, key=lambda d: (counts[d], d)) if counts else None


def find_submissions(paths: Sequence[str | Path]) -> list[SubmissionTree]:
    """The submissions under each path (a submission folder, or a folder of submissions).

    Two submissions with the same folder name from different places are told apart by the
    parent folders that differ (``v05/baseline`` and ``v06/baseline``; ``expA/my_sgdm`` and
    ``expB/my_sgdm`` for ``expA/dev/external_tuning/my_sgdm`` and
    ``expB/dev/external_tuning/my_sgdm``), whatever order the paths come in. Raises :class:`PacelineError` with one
    sentence when a path is not an experiment tree.
    """
    _subdir_names.cache_clear()  # folders may have changed since the last call
    trees: dict[tuple[Path, str], SubmissionTree] = {}
    for raw in paths:
        for name, root in _submission_roots(Path(raw)):
            key = (root.resolve().parent, name)
            tree = trees.setdefault(key, SubmissionTree(name=name, roots=[]))
            if root.resolve() not in [r.resolve() for r in tree.roots]:
                tree.roots.append(root)
    labels = distinct_labels(list(trees))
    out = []
    for key, tree in trees.items():
        tree.name = labels[key]
        for root in tree.roots:
            _collect(tree, root)
        out.append(tree)
    return sorted(out, key=lambda t: _natural_key(t.name))


def distinct_labels(keys: Sequence[tuple[Path, str]]) -> dict[tuple[Path, str], str]:
    """A name per (parent folder, submission name) that no other key shares.

    A name held by one key stays as it is. Keys sharing a name get the fewest parent-folder
    components, nearest first, that tell every one of them apart; components all of them
    share (``dev``, ``external_tuning``) are left out. Depends only on the set of keys, so
    the names do not change with the order the folders were given in.
    """
    groups: dict[str, list[tuple[Path, str]]] = {}
    for key in keys:
        groups.setdefault(key[1], []).append(key)
    out = {}
    for name, group in groups.items():
        if len(group) == 1:
            out[group[0]] = name
            continue
        parts = {key: key[0].parts[::-1] for key in group}  # nearest parent first
        longest = max(len(p) for p in parts.values())
        chosen: list[int] = []
        for depth in range(longest):
            column = {p[depth] if depth < len(p) else "" for p in parts.values()}
            if len(column) > 1:
                chosen.append(depth)
                picked = {key: tuple(p[d] if d < len(p) else "" for d in chosen)
                          for key, p in parts.items()}
                if len(set(picked.values())) == len(group):
                    break
        for key, p in parts.items():
            prefix = [p[d] for d in reversed(chosen) if d < len(p) and p[d] not in ("", "/")]
            out[key] = "/".join([*prefix, name])
    return out


def _submission_roots(path: Path) -> list[tuple[str, Path]]:
    if not path.exists():
        raise PacelineError(f"{path} does not exist.")
    if not path.is_dir():
        raise PacelineError(f"{path} is not a folder; pass an experiment folder in AlgoPerf's "
                            "layout (<submission>/study_<k>/<workload>_<framework>/trial_<n>).")
    depth = _depth_to_trials(path)
    if depth == 1:
        raise PacelineError(f"{path} is a workload folder (it holds trial_<n> folders); pass "
                            "the submission folder above it.")
    if depth in (2, 3):
        return [(path.name, path)] + [(path.name, p) for p in _timestamped_siblings(path)]
    if depth == 4:
        roots = []
        for child in _subdirs(path):
            if _depth_to_trials(child, limit=3) in (2, 3):
                m = TIMESTAMP_SUFFIX.fullmatch(child.name)
                roots.append((m.group(1) if m else child.name, child))
        return roots
    if depth is None and not _subdirs(path):
        raise PacelineError(f"{path} is empty: there are no study, workload or trial folders "
                            "to score.")
    raise PacelineError(f"{path} has no trial_<n> folders at the depths of AlgoPerf's layout "
                        "(<group>/<submission>/study_<k>/<workload>_<framework>/trial_<n>); "
                        "pass one submission folder or a folder of them.")


def _timestamped_siblings(path: Path) -> list[Path]:
    parent = path.resolve().parent
    return [p for p in _subdirs(parent)
            if (m := TIMESTAMP_SUFFIX.fullmatch(p.name)) and m.group(1) == path.name]


def _collect(tree: SubmissionTree, root: Path) -> None:
    """Append every trial folder under ``root`` to ``tree`` (with or without study folders)."""
    if _depth_to_trials(root, limit=3) == 2:
        studies = [(NO_STUDY, root)]
    else:
        studies = []
        for study in _subdirs(root):
            if any(_has_trials(w) for w in _subdirs(study)):
                studies.append((study.name, study))
            elif _has_trials(study):
                raise PacelineError(f"{root} mixes workload folders ({study.name}) with study "
                                    "folders; keep every workload inside a study_<k> folder.")
            else:
                tree.notes.append(f"{tree.name}: skipped {study.name}, which holds no "
                                  "workload folders with trials.")
    for study_name, study in studies:
        for workload in _subdirs(study):
            trial_dirs = [d for d in _subdirs(workload) if TRIAL_DIR.fullmatch(d.name)]
            where = f"{tree.name}/{study.name + '/' if study_name != NO_STUDY else ''}" \
                    f"{workload.name}"
            if TRIAL_DIR.fullmatch(workload.name):
                tree.notes.append(f"{where} is a trial folder outside any workload folder; "
                                  "skipped.")
                continue
            if not trial_dirs:
                tree.notes.append(f"{where} has no trial_<n> folders; skipped.")
                continue
            for d in _subdirs(workload):
                if not TRIAL_DIR.fullmatch(d.name):
                    tree.notes.append(f"{where}/{d.name} is not a trial_<n> folder; skipped.")
            for trial in trial_dirs:
                tree.trials.append(TrialDir(tree.name, study_name, workload.name, trial.name,
                                            trial))


def csv_state(trial: TrialDir) -> str:
    """``'ok'``, ``'missing'`` or ``'empty'`` (zero bytes) for a trial's eval CSV."""
    try:
        size = trial.csv_path.stat().st_size
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        raise PacelineError(f"Cannot read {trial.csv_path} ({exc.strerror}).") from None
    return "ok" if size > 0 else "empty"


def read_meta(trial: TrialDir) -> dict[str, Any] | None:
    """The trial's first ``meta_data_<n>.json`` (``None`` when there is none)."""
    metas = sorted(trial.path.glob("meta_data_*.json"), key=lambda p: _natural_key(p.name))
    if not metas:
        return None
    try:
        return read_json_object(metas[0], "trial metadata file")
    except PacelineError as exc:
        raise PacelineError(f"{str(exc).rstrip('.')}; fix or remove it, since it says which "
                            "targets the trial was run against.") from None


def verify_eval_rows(trial_path: Path) -> bool:
    """Check a paceline trial's ``eval_measurements.csv`` against the runner's own record.

    The runner writes ``paceline_eval_record.json`` (one SHA-256 per eval row it wrote, see
    :func:`sdk.trial_logs.eval_row_digest`) before each CSV write and again when the trial
    ends. Every CSV row must be the row the runner wrote, in order; the CSV may be one row
    short (a kill between the two writes), never longer. Returns ``False`` when the trial has
    no record (logs written by AlgoPerf, or by a paceline that kept none), ``True`` when it
    matches; a mismatch raises :class:`PacelineError` naming the file.
    """
    from sdk.trial_logs import EVAL_RECORD_FILE, eval_row_digest

    record_path = Path(trial_path) / EVAL_RECORD_FILE
    csv_path = Path(trial_path) / EVAL_FILE
    if not record_path.exists():
        return False
    record = read_json_object(record_path, "eval record")
    expected = record.get("row_sha256")
    if not isinstance(expected, list) or not all(isinstance(d, str) for d in expected):
        raise PacelineError(f"{record_path} is not a paceline eval record (it has no list of "
                            "row digests), so the trial's eval rows cannot be verified.")
    try:
        text = csv_path.read_bytes().decode("utf-8-sig") if csv_path.exists() else ""
    except (OSError, UnicodeDecodeError) as exc:
        raise PacelineError(f"Cannot read {csv_path} ({exc}).") from None
    rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    header, body = (rows[0], rows[1:]) if rows else ([], [])
    found = []
    for row in body:
        cells = dict(zip(header, row, strict=False))
        if len(row) > len(header) or len(cells) < len(header):  # extra cells, doubled names
            cells["\0malformed"] = ",".join(row)
        found.append(eval_row_digest(cells))
    refuse = ("so the trial's evals were changed outside the runner and paceline score "
              "refuses to score it")
    for i, (got, want) in enumerate(zip(found, expected, strict=False)):
        if got != want:
            raise PacelineError(f"Line {i + 2} of {csv_path} is not the eval row the runner "
                                f"wrote (see {record_path.name}), {refuse}.")
    if len(found) > len(expected) or len(found) < len(expected) - 1:
        raise PacelineError(f"{csv_path} has {len(found)} eval rows but the runner wrote "
                            f"{len(expected)} (see {record_path.name}), {refuse}.")
    return True


def read_curve(path: Path, metric_column: str, what: str = "") -> Curve:
    """Read the target metric, submission time and step of every eval in ``path``.

    Empty cells and ``nan`` are NaN (a NaN metric never reaches a target; a NaN time is
    allowed only on an eval that does not reach it). Anything else that is not a number, a row
    with more or fewer cells than the header, NUL bytes, a last line without a line end (a
    file cut off mid-write), a negative, infinite or decreasing time, or a missing metric or
    time column raises :class:`PacelineError` naming the file and line.
    """
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_CSV_BYTES + 1)
        if len(data) > MAX_CSV_BYTES:
            raise PacelineError(f"{path} is larger than {MAX_CSV_BYTES // 2**20} MiB, too large "
                                "to be an eval log.")
        text = data.decode("utf-8-sig")
        if "\0" in text:
            line = text.count("\n", 0, text.index("\0")) + 1
            raise PacelineError(f"Line {line} of {path} holds NUL bytes: the file was cut off "
                                "or padded by an interrupted write; rerun or resume the trial.")
        if text and not text.endswith(("\n", "\r")):
            raise PacelineError(f"The last line of {path} has no line end, so the file looks "
                                "cut off mid-write; rerun or resume the trial (or end the line "
                                "if it is complete).")
        with io.StringIO(text, newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            if header is None:
                raise PacelineError(f"{path} is empty.")
            index = {name.strip(): i for i, name in enumerate(header)}
            if metric_column not in index:
                raise PacelineError(
                    f"{path} has no column {metric_column!r}{what}; it has "
                    f"{', '.join(_shown(c) for c in sorted(index)) or 'no columns'}."
                )
            time_column = next((c for c in TIME_COLUMNS if c in index), None)
            if time_column is None:
                raise PacelineError(f"{path} has neither a 'score' nor an "
                                    "'accumulated_submission_time' column.")
            width = len(header)
            rows = [(line, row) for line, row in enumerate(reader, start=2) if row]
    except UnicodeDecodeError:
        raise PacelineError(f"{path} is not a text CSV file.") from None
    except csv.Error as exc:
        raise PacelineError(f"{path} is not a valid CSV file ({exc}).") from None
    except OSError as exc:
        raise PacelineError(f"Cannot read {path} ({exc.strerror}).") from None
    for line, row in rows:
        if len(row) != width:
            raise PacelineError(f"Line {line} of {path} has {len(row)} cells but the header "
                                f"has {width}; the file is malformed"
                                f"{' or cut off' if len(row) < width else ''}.")
    step = index.get("global_step")
    times = _column(rows, index[time_column], path, time_column)
    _check_times(times, rows, path, time_column)
    return Curve(
        _column(rows, index[metric_column], path, metric_column),
        times,
        _column(rows, step, path, "global_step") if step is not None
        else np.full(len(rows), math.nan),
        time_column,
    )


def _check_times(times: np.ndarray, rows: list[tuple[int, list[str]]], path: Path,
                 name: str) -> None:
    """Times must be finite, non-negative and never decrease (empty cells are skipped)."""
    previous, previous_line = -math.inf, 0
    for (line, _), t in zip(rows, times, strict=True):
        if math.isnan(t):
            continue
        if t < 0 or math.isinf(t):
            raise PacelineError(f"Line {line} of {path}: the {name!r} time {t:g} is not a "
                                "finite, non-negative number of seconds.")
        if t < previous:
            raise PacelineError(f"Line {line} of {path}: the {name!r} time {t:g} is earlier "
                                f"than {previous:g} on line {previous_line}; evals must be in "
                                "time order.")
        previous, previous_line = t, line


def _column(rows: list[tuple[int, list[str]]], i: int, path: Path, name: str) -> np.ndarray:
    """One column as floats; empty cells are NaN, anything unreadable raises."""
    cells = [row[i] if i < len(row) and row[i] else "nan" for _, row in rows]
    try:
        return np.array(cells, dtype=float)
    except ValueError:
        pass
    values = []
    for (line, _), text in zip(rows, cells, strict=True):  # slow path: blanks, or a culprit
        try:
            values.append(float(text) if text.strip() else math.nan)
        except ValueError:
            raise PacelineError(f"Line {line} of {path}: {text.strip()!r} in column {name!r} "
                                "is not a number.") from None
    return np.array(values, dtype=float)


def group_trials(trials: Iterable[TrialDir]) -> dict[str, dict[str, list[TrialDir]]]:
    """Trials by workload (framework suffix stripped), then by study, in discovery order."""
    out: dict[str, dict[str, list[TrialDir]]] = {}
    for t in trials:
        out.setdefault(t.workload, {}).setdefault(t.study, []).append(t)
    return out


def declared_rules(trees: Iterable[SubmissionTree]) -> dict[str, set[Any]]:
    """The ``paceline.ruleset_version`` / ``paceline.ruleset`` that paceline runs recorded.

    Reads the metadata of the first trial of each submission that has one; official logs
    record neither, so the result is empty for them.
    """
    out: dict[str, set[Any]] = {}
    for tree in trees:
        for trial in tree.trials:
            meta = read_meta(trial)
            if meta is None:
                continue
            for key in ("paceline.ruleset_version", "paceline.ruleset"):
                if key in meta:
                    out.setdefault(key, set()).add(str(meta[key]))
            break
    return out


def _shown(column: str) -> str:
    """A column name as one line: names with control characters are quoted (``repr``)."""
    return column if column.isprintable() else repr(column)
