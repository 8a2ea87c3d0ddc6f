"""Builders for small experiment trees in AlgoPerf's layout, shared by the scoring tests.

    from tests.test_scoring_support import write_trial, curve_rows
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sdk.trial_logs import rows_to_csv


def curve_rows(times: Sequence[float], values: Sequence[float], metric: str = "ssim",
               steps: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Eval rows as the runner writes them: score == accumulated_submission_time."""
    steps = steps or [100 * (i + 1) for i in range(len(times))]
    return [{"accumulated_submission_time": t, "global_step": s, "score": t,
             f"validation/{metric}": v, "preemption_count": 0}
            for t, v, s in zip(times, values, steps, strict=True)]


def write_trial(root: Path, workload_dir: str, trial: int | str, rows: list[dict[str, Any]],
                study: str | None = "study_0", meta: dict[str, Any] | None = None) -> Path:
    """Write ``<root>/<study>/<workload_dir>/trial_<n>/eval_measurements.csv`` (and meta)."""
    name = trial if isinstance(trial, str) else f"trial_{trial}"
    path = Path(root) / (study or "") / workload_dir / name
    path.mkdir(parents=True, exist_ok=True)
    (path / "eval_measurements.csv").write_text(rows_to_csv(rows))
    if meta is not None:
        (path / "meta_data_0.json").write_text(json.dumps(meta))
    return path


def write_workload(root: Path, workload: str, times_per_study: Sequence[Sequence[float | None]],
                   metric: str, target: float, minimized: bool, framework: str = "jax") -> None:
    """One trial per entry: reaches ``target`` at that time (``None``: never reaches it)."""
    good, bad = (target * 0.9, target * 1.1) if minimized else (target * 1.1, target * 0.9)
    for k, trials in enumerate(times_per_study):
        for n, t in enumerate(trials, start=1):
            if t is None:
                rows = curve_rows([10.0, 20.0], [bad, bad], metric)
            else:
                rows = curve_rows([t / 2, t], [bad, good], metric)
            write_trial(root, f"{workload}_{framework}", n, rows, study=f"study_{k}")
