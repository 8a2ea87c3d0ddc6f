"""The study's progress: a bar (trials done / total, best time so far) on a terminal, one
line per finished trial, and, while trials run, one line per running trial with its latest
evaluation every :data:`sdk.parallel.REPORT_EVERY` seconds, as ``paceline run --jobs`` does.

    paceline tune --workload mnist --submission nadamw --trials 5
"""

from __future__ import annotations

import math
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from external_tuning.executors import TrialJob
from external_tuning.study import TrialEvent


class RunningTrials:
    """Reports the running trials' latest evaluations from a background thread.

    The thread only reads each trial's ``eval_measurements.csv`` (what the trial wrote), so
    it works alike for trials run in this process, in worker processes or on a cluster.
    """

    def __init__(self, say: Callable[[str], None], every: float | None = None) -> None:
        from sdk.parallel import REPORT_EVERY

        self.say = say
        self.every = REPORT_EVERY if every is None else every
        self._running: dict[Path, str] = {}
        self._seen: dict[Path, tuple[str, ...]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def started(self, label: str, trial_dir: Path) -> None:
        with self._lock:
            self._running[Path(trial_dir)] = label
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="paceline-tune-progress",
                                            daemon=True)
            self._thread.start()

    def finished(self, trial_dir: Path) -> None:
        with self._lock:
            self._running.pop(Path(trial_dir), None)
            self._seen.pop(Path(trial_dir), None)

    def report(self) -> None:
        """One line for each running trial with an evaluation it has not reported yet."""
        from sdk.parallel import describe, latest_eval

        with self._lock:
            running = dict(self._running)
        for trial_dir, label in running.items():
            row = latest_eval(trial_dir)
            if row is None or self._seen.get(trial_dir) == tuple(row.values()):
                continue
            self._seen[trial_dir] = tuple(row.values())
            self.say(f"  {label}: {describe(row)}")

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.report()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None


class StudyProgress:
    """A tqdm bar across the whole experiment when ``bar``; the per-trial lines always."""

    def __init__(self, bar: bool, every: float | None = None) -> None:
        self._use_bar = bar
        self._bar: Any = None
        self._best: dict[str, float] = {}
        self._running = RunningTrials(self._write, every)

    def start(self, done: int, total: int) -> None:
        if self._use_bar:
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=done, desc="tune", unit="trial",
                             dynamic_ncols=True, file=sys.stderr)
        elif done:
            self._write(f"paceline tune: {done} of {total} trials finished earlier; "
                        "running the rest")

    def submitted(self, job: TrialJob) -> None:
        spec = job.spec
        self._running.started(f"{spec.workload} study {spec.study} trial {spec.trial}",
                              spec.trial_dir)

    def trial(self, event: TrialEvent) -> None:
        if event.trial_dir is not None:
            self._running.finished(event.trial_dir)
        obs = event.record.observations[event.workload]
        label = f"{event.workload} study {event.group.study} trial {event.record.index + 1}"
        if obs.time_to_target is not None:
            best = self._best.get(event.workload, math.inf)
            self._best[event.workload] = min(best, obs.time_to_target)
            what = f"reached the target at {obs.time_to_target:.1f}s"
        else:
            got = obs.best_value
            shown = f"{got:.4g}" if got is not None else "-"
            why = f": {obs.reason}" if obs.reason else ""
            what = f"{obs.status}, best {shown} vs target {obs.target:g}{why}"
        self._write(f"  {label}: {what}")
        if self._bar is not None:
            self._bar.update(1)
            shown = ", ".join(f"{w} {t:.1f}s" for w, t in sorted(self._best.items()))
            self._bar.set_postfix_str(f"best {shown}" if shown else "no target reached yet")

    def _write(self, text: str) -> None:
        if self._bar is not None:
            self._bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def close(self) -> None:
        self._running.close()
        if self._bar is not None:
            self._bar.close()
            self._bar = None
