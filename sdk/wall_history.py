"""What a trial costs in wall time on this machine, per second of its budget, for forecasts.

A budget counts submission time only; a trial also spends wall time on evaluations, on JAX's
compilation (untimed under the dev clock), on start-up and checkpoints. On the 2-core
development machine a wmt JAX trial whose budget is 273 s here took 411 s (evaluations 32 s,
compilation 59 s of CPU), an ImageNet ResNet-50 one 281 s for 248 s: a forecast from budgets
alone said 30 minutes for a target-setting run that took 51.

So every trial that trains until its budget runs out records, per workload, framework and
clock, its wall seconds over its budget's seconds on this machine (the budget divided by the
dev clock's normalisation), in ``trial_wall.json`` in paceline's cache folder
(:mod:`sdk.user_cache`; the last :data:`KEEP` per key), and :mod:`sdk.forecast` multiplies
budgets by their median. Trials stopped at a target, early, by ``--max-global-steps`` or by
a failure say nothing about a whole budget and are not recorded.

    paceline run --workload wmt --framework jax --studies 3 --jobs 2   # the forecast learns
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from pathlib import Path
from typing import Any

from sdk.trial_logs import atomic_write_json
from sdk.user_cache import cache_dir, locked

FILE = "trial_wall.json"
FORMAT = 1
KEEP = 5
# Ratios outside these bounds are a suspended machine or a clock error, not an overhead.
LOWEST, HIGHEST = 0.5, 20.0


def history_path() -> Path:
    """``trial_wall.json`` in paceline's cache folder."""
    return cache_dir() / FILE


def key(workload: str, framework: str, clock: str) -> str:
    return f"{workload}/{framework}/{clock}"


_NOTED: set[Path] = set()  # unreadable files already reported by this process


def _read(path: Path) -> dict[str, list[float]]:
    """The stored ratios; an unreadable or foreign file counts as empty (with a note) and is
    written afresh by the next trial that records."""
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = None
    entries = data.get("entries") if isinstance(data, dict) and data.get("format") == FORMAT \
        else None
    if not isinstance(entries, dict):
        if path not in _NOTED:
            _NOTED.add(path)
            print(f"paceline: {path} is not a wall-time history this version can read; "
                  "forecasts leave evaluations out until trials record it again",
                  file=sys.stderr)
        return {}
    return {k: [float(r) for r in v if _usable(r)] for k, v in entries.items()
            if isinstance(k, str) and isinstance(v, list)}


def _usable(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value) and LOWEST <= value <= HIGHEST)


def ratio(workload: str, framework: str, clock: str, path: Path | None = None) -> float | None:
    """The median recorded wall seconds per budget second (``None``: none recorded here)."""
    found = _read(path or history_path()).get(key(workload, framework, clock))
    return statistics.median(found) if found else None


def record(result: Any, path: Path | None = None) -> None:
    """Add a trial that trained its whole budget (a :class:`sdk.runner.TrialResult`)."""
    scale = result.clock_scale or 1.0
    budget_here = result.budget_sec / scale if scale > 0 else 0.0
    if budget_here <= 0 or not result.total_duration_sec:
        return
    value = result.total_duration_sec / budget_here
    if not _usable(value):
        return
    path = path or history_path()
    name = key(result.workload, result.framework, result.clock)
    try:
        with locked(path):
            entries = _read(path)
            entries[name] = (entries.get(name, []) + [round(value, 4)])[-KEEP:]
            atomic_write_json(path, {"format": FORMAT, "entries": dict(sorted(entries.items()))})
    except OSError as exc:
        print(f"paceline: could not write {path} ({exc}); forecasts leave out evaluations "
              "and start-up", file=sys.stderr)
