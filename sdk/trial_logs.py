"""Per-trial files in AlgoPerf's formats, written so that none is ever half-written.

A trial directory holds (AlgoPerf's ``submission_runner.py`` and ``algoperf/logger_utils.py``):

* ``eval_measurements.csv``: one row per evaluation, columns sorted alphabetically;
* ``measurements.csv``: eval rows, scalars the submission logged, and a final ``score`` row;
* ``hparams.json`` (external tuning), ``meta_data_<preemption>.json``, ``flags_<preemption>.json``;
* TensorBoard event files with every logged scalar;
* ``paceline_trial.json``: paceline's own status record (running / finished, why it stopped);
* ``paceline_eval_record.json``: the runner's record of every row it wrote to
  ``eval_measurements.csv`` (one SHA-256 per row), which ``paceline score`` checks the CSV
  against (:func:`eval_row_digest`).

Every file is rewritten through a temporary file and ``os.replace``, so a kill at any moment
leaves either the old or the new version.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import platform
import socket
import sys
import time
from pathlib import Path
from typing import Any

from sdk.trackers import TrialTrackers

EVAL_FILE = "eval_measurements.csv"
ALL_FILE = "measurements.csv"
STATUS_FILE = "paceline_trial.json"
EVAL_RECORD_FILE = "paceline_eval_record.json"


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and an atomic rename."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "w", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(_jsonable(data), indent=2) + "\n")


def temp_file_pid(name: str) -> int | None:
    """The pid in an atomic write's temporary file name ``.<name>.tmp<pid>``, else None."""
    stem, sep, digits = name.rpartition(".tmp")
    if not (sep and name.startswith(".") and len(stem) > 1 and digits.isdigit()):
        return None
    return int(digits)


def pid_is_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (one we may not signal counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OverflowError:
        return False
    return True


def is_trial_dir(folder: Path) -> bool:
    """Whether ``folder`` is a trial directory paceline made (or an empty folder): it holds
    the status record, ``hparams.json``, a ``meta_data_<n>.json`` or ``eval_measurements.csv``.

    Only such a folder may be deleted to start a trial again (``--overwrite``).
    """
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        return False
    names = {p.name for p in folder.iterdir()}
    return not names or bool(names & {STATUS_FILE, "hparams.json", EVAL_FILE}) or any(
        n.startswith("meta_data_") and n.endswith(".json") for n in names)


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Delete the ``.<name>.tmp<pid>`` files in ``folder`` whose writing process has ended.

    Such a file is what a kill during an atomic write leaves (logs and checkpoints use this
    name); one whose process still runs is kept, and nothing else is touched. Returns the
    files removed.
    """
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        pid = temp_file_pid(entry.name)
        if pid is None or pid == os.getpid() or pid_is_alive(pid) or not entry.is_file():
            continue
        try:
            entry.unlink()
        except OSError:
            continue
        removed.append(entry)
    return removed


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        try:
            return value.item()
        except (TypeError, ValueError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, bool | int | float | str) or value is None:
        return value
    return str(value)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


def eval_row_digest(cells: dict[str, str]) -> str:
    """SHA-256 of one CSV row given as ``{column: cell text}``; empty cells do not count.

    The writer and the scorer compute it the same way: from what :func:`rows_to_csv` writes
    and from what :mod:`csv` reads back, so the digest of a row survives the round trip.
    """
    canonical = json.dumps(sorted((str(k), v) for k, v in cells.items() if v != ""),
                           separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _row_digest(row: dict[str, Any]) -> str:
    return eval_row_digest({str(k): _cell(v) for k, v in row.items()})


def rows_to_csv(rows: list[dict[str, Any]]) -> str:
    """AlgoPerf's column order: the first row's keys sorted, later new keys appended."""
    columns: list[str] = []
    for i, row in enumerate(rows):
        keys = sorted(row) if i == 0 else [k for k in row if k not in columns]
        columns.extend(k for k in keys if k not in columns)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buf.getvalue()


class ScalarWriter:
    """TensorBoard scalars without torch or TensorFlow (tensorboard's own event writer)."""

    def __init__(self, logdir: Path) -> None:
        from tensorboard.summary.writer.event_file_writer import EventFileWriter

        self._writer = EventFileWriter(str(logdir))

    def scalars(self, values: dict[str, Any], step: int) -> None:
        from tensorboard.compat.proto import event_pb2, summary_pb2

        summary = summary_pb2.Summary()
        for tag, value in values.items():
            try:
                v = float(value)
            except (TypeError, ValueError):
                continue
            if math.isnan(v):
                continue
            summary.value.add(tag=tag, simple_value=v)
        if summary.value:
            event = event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary)
            self._writer.add_event(event)

    def summary(self, summary: Any, step: int) -> None:
        """Write a ready-made ``Summary`` proto (HParams, Custom Scalars layout)."""
        from tensorboard.compat.proto import event_pb2

        self._writer.add_event(event_pb2.Event(wall_time=time.time(), step=int(step),
                                               summary=summary))

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        self._writer.close()


class TrialLogger:
    """All files of one trial directory; also the ``workload.metrics_logger`` submissions see.

    Args:
        trial_dir: the ``trial_<n>`` directory (created if missing).
        tensorboard: whether to write TensorBoard event files.
    """

    def __init__(self, trial_dir: Path, tensorboard: bool = True) -> None:
        self.trial_dir = Path(trial_dir)
        self.trial_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_temp_files(self.trial_dir)  # left by a kill during a write
        self.eval_rows: list[dict[str, Any]] = []
        self.all_rows: list[dict[str, Any]] = []
        self._tb = ScalarWriter(self.trial_dir) if tensorboard else None
        # HParams, target, by-time axis and --wandb (sdk/trackers.py)
        self._trackers = TrialTrackers(self.trial_dir, self._tb)
        self.preemption_count = 0

    # -- AlgoPerf MetricLogger interface (submissions call this through the workload) -----
    def append_scalar_metrics(
        self,
        metrics: dict[str, Any],
        global_step: int,
        preemption_count: int | None = None,
        is_eval: bool = False,
    ) -> None:
        """Log scalars; eval rows also go to ``eval_measurements.csv``."""
        row = dict(metrics)
        row["global_step"] = int(global_step)
        row["preemption_count"] = (
            self.preemption_count if preemption_count is None else int(preemption_count)
        )
        self.all_rows.append(row)
        if is_eval:
            self.eval_rows.append(row)
            self._write_eval_rows()
            # Rows a submission logs between evals are buffered (its logging is timed work)
            # and reach measurements.csv with the next eval row.
            atomic_write_text(self.trial_dir / ALL_FILE, rows_to_csv(self.all_rows))
        if self._tb is not None:
            self._tb.scalars(metrics, global_step)
        if is_eval:
            self._trackers.on_eval(metrics, global_step)

    def restore(self, eval_rows: list[dict[str, Any]], all_rows: list[dict[str, Any]]) -> None:
        """Rewrite the CSVs from a checkpoint's rows (after a kill the files may be ahead)."""
        self.eval_rows = [dict(r) for r in eval_rows]
        self.all_rows = [dict(r) for r in all_rows]
        self._write_eval_rows()
        atomic_write_text(self.trial_dir / ALL_FILE, rows_to_csv(self.all_rows))

    def _write_eval_rows(self, csv_too: bool = True) -> None:
        """The record first, then the CSV: a kill in between leaves the CSV one row short of
        the record, which ``paceline score`` accepts (a row more than the record it refuses)."""
        atomic_write_json(self.trial_dir / EVAL_RECORD_FILE, {
            "file": EVAL_FILE,
            "row_sha256": [_row_digest(r) for r in self.eval_rows],
        })
        if csv_too:
            atomic_write_text(self.trial_dir / EVAL_FILE, rows_to_csv(self.eval_rows))

    def write_final_score(self, score: float, global_step: int) -> None:
        self.all_rows.append({"score": score, "global_step": global_step,
                              "preemption_count": self.preemption_count})
        atomic_write_text(self.trial_dir / ALL_FILE, rows_to_csv(self.all_rows))

    def write_json(self, name: str, data: Any) -> None:
        atomic_write_json(self.trial_dir / name, data)
        self._trackers.on_json(name, data)

    def flush(self) -> None:
        if self._tb is not None:
            self._tb.flush()

    def close(self) -> None:
        """End the trial's logging: the eval record and CSV are rewritten from the rows this
        logger wrote, so whatever the submission's last steps did to them is undone."""
        self._write_eval_rows(csv_too=bool(self.eval_rows))
        self._trackers.close()
        if self._tb is not None:
            self._tb.close()
            self._tb = None


def system_metadata() -> dict[str, Any]:
    """Machine facts for ``meta_data_<n>.json`` (no third-party probes needed)."""
    info: dict[str, Any] = {
        "os.platform": platform.platform(),
        "os.node": socket.gethostname(),
        "python.version": sys.version.split()[0],
        "cpu.count": os.cpu_count(),
        "timestamp": time.time(),
    }
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("MemTotal", "MemAvailable"):
                    info[f"mem.{key[3:].lower()}"] = int(rest.split()[0]) * 1024
    except OSError:
        pass
    return info
