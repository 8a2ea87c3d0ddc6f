"""benchmarks/bench_eval_resolution.py: the crossing read between the evals around it.

    .venv/bin/python -m pytest -q tests/test_bench_eval_resolution.py
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_eval_resolution as bench  # noqa: E402

from sdk.scoring.targets import Target  # noqa: E402
from sdk.scoring.time_to_target import TrialTime  # noqa: E402

TARGET = Target("mnist", "accuracy", 0.9, minimized=False, budget_sec=40.0, source="test")


def trial(tmp_path: Path, rows: list[tuple[float, float]], index: int | None) -> TrialTime:
    path = tmp_path / "eval_measurements.csv"
    path.write_text("global_step,accumulated_submission_time,validation/accuracy\n"
                    + "".join(f"{i},{t},{v}\n" for i, (t, v) in enumerate(rows)))
    time = rows[index][0] if index is not None else math.inf
    return TrialTime("trial_1", path, len(rows), index, time, max(v for _, v in rows),
                     rows[-1][0])


def test_the_crossing_is_interpolated_between_the_evals_around_it(tmp_path: Path) -> None:
    t = trial(tmp_path, [(1.0, 0.5), (10.0, 0.8), (20.0, 1.0)], index=2)
    assert bench.crossing(t, TARGET) == 15.0  # 0.9 lies halfway between 0.8 and 1.0


def test_a_first_eval_hit_and_a_miss_keep_the_scorers_reading(tmp_path: Path) -> None:
    assert bench.crossing(trial(tmp_path, [(2.0, 0.95), (4.0, 0.97)], index=0), TARGET) == 2.0
    assert bench.crossing(trial(tmp_path, [(2.0, 0.5), (4.0, 0.6)], index=None),
                          TARGET) == math.inf
    assert bench.crossing(None, TARGET) == math.inf
