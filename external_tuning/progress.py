"""The study's progress bar (trials done / total, best time so far) and one line per trial."""

from __future__ import annotations

import math
import sys
from typing import Any

from external_tuning.study import TrialEvent


class StudyProgress:
    """A tqdm bar across the whole experiment when ``bar``; the per-trial lines always."""

    def __init__(self, bar: bool) -> None:
        self._use_bar = bar
        self._bar: Any = None
        self._best: dict[str, float] = {}

    def start(self, done: int, total: int) -> None:
        if self._use_bar:
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=done, desc="tune", unit="trial",
                             dynamic_ncols=True, file=sys.stderr)
        elif done:
            self._write(f"paceline tune: {done} of {total} trials finished earlier; "
                        "running the rest")

    def trial(self, event: TrialEvent) -> None:
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
        if self._bar is not None:
            self._bar.close()
            self._bar = None
