"""benchmarks/bench_step_drift.py on hand-written trial folders: a trial's step against its
probe's, and its canary against calibration's.

    .venv/bin/python -m pytest -q tests/test_bench_step_drift.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_step_drift as bench  # noqa: E402

from workloads.dev_clock import reference_step  # noqa: E402


def write_trial(root: Path, name: str, step_cpu: float, canary: float, scale: float = 0.5,
                clock: str = "dev") -> Path:
    trial = root / "nadamw" / "study_0" / "mnist_pytorch" / name
    trial.mkdir(parents=True)
    meta = trial / "meta_data_0.json"
    meta.write_text(json.dumps({
        "workload.workload_name": "mnist", "paceline.submission": "nadamw",
        "paceline.measurement": {"clock": clock, "clock_scale": scale,
                                 "canary_calibrated_sec": 0.020, "canary_start_sec": canary,
                                 "canary_end_sec": canary}}))
    charged = step_cpu * scale  # submission seconds a step
    rows = [(0.1, 1), (0.1 + 100 * charged, 101), (0.1 + 300 * charged, 301)]
    (trial / "eval_measurements.csv").write_text(
        "accumulated_submission_time,global_step\n"
        + "".join(f"{t},{s}\n" for t, s in rows))
    return meta


def test_a_trial_is_read_against_its_probe_and_its_canary(tmp_path: Path) -> None:
    scale = 0.5
    probe_step = reference_step("mnist")[1] / scale  # the probe's CPU a step at this scale
    meta = write_trial(tmp_path, "trial_1", step_cpu=0.8 * probe_step, canary=0.025, scale=scale)
    trial = bench.read_trial(meta)
    assert trial["group"] == ("nadamw", "mnist")
    assert trial["step"] == pytest.approx(0.8)
    assert trial["canary"] == pytest.approx(1.25)
    wall = write_trial(tmp_path, "trial_2", step_cpu=probe_step, canary=0.02, clock="wall")
    assert bench.read_trial(wall) is None  # only the dev clock charges CPU time


def test_dividing_by_the_canary_removes_what_it_saw(tmp_path: Path) -> None:
    groups = {("nadamw", "mnist"): [{"step": s, "canary": s} for s in (0.7, 0.9, 1.1)]}
    assert bench.spread(groups, corrected=False) > 0.1
    assert bench.spread(groups, corrected=True) == pytest.approx(0.0)
