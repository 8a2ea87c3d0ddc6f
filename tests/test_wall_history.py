"""Forecasts count what trials really take here: the wall time per budget second that trials
which trained their whole budget recorded (sdk/wall_history.py), and the runner's hook.

    .venv/bin/python -m pytest -q tests/test_wall_history.py
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

import sdk.forecast as forecast
from sdk import wall_history
from sdk.forecast import Forecast, plan_forecast


def result(duration: float, budget: float = 100.0, scale: float = 0.5,
           workload: str = "wmt") -> SimpleNamespace:
    return SimpleNamespace(workload=workload, framework="jax", clock="dev", budget_sec=budget,
                           clock_scale=scale, total_duration_sec=duration)


def test_the_median_of_the_last_few_whole_budget_trials_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "trial_wall.json"
    assert wall_history.ratio("wmt", "jax", "dev", path) is None
    for duration in (300.0, 240.0, 260.0, 9999.0):  # 200 s here each; the last is a pause
        wall_history.record(result(duration), path)
    assert wall_history.ratio("wmt", "jax", "dev", path) == pytest.approx(1.3)
    for _ in range(wall_history.KEEP):
        wall_history.record(result(400.0), path)
    assert wall_history.ratio("wmt", "jax", "dev", path) == pytest.approx(2.0)
    assert wall_history.ratio("wmt", "pytorch", "dev", path) is None


def test_an_unreadable_history_counts_as_empty_and_is_written_again(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "trial_wall.json"
    for text in ("{not json", "[1, 2]", '{"format": 1, "entries": {"wmt/jax/dev": ["x"]}}'):
        path.write_text(text)
        assert wall_history.ratio("wmt", "jax", "dev", path) is None
    assert capsys.readouterr().err.count("is not a wall-time history") == 1  # said once
    wall_history.record(result(250.0), path)
    assert wall_history.ratio("wmt", "jax", "dev", path) == pytest.approx(1.25)


def test_the_forecast_counts_the_measured_wall_time_and_says_where_it_has_none() -> None:
    plain = Forecast((100.0, 100.0), jobs=1, scales=(0.5, 0.5))
    measured = Forecast((100.0, 100.0), jobs=1, scales=(0.5, 0.5), walls=(1.5, None))
    assert (plain.wall_sec, measured.wall_sec) == (400.0, 500.0)
    assert "no trial of these workloads has run its whole budget here" in plain.line("p")
    line = measured.line("p")
    assert "1.50 wall s per budget s (some workloads: not yet)" in line
    assert measured.reordered((1, 0)).walls == (None, 1.5)


def test_a_plan_reads_this_machines_history(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.setenv("PACELINE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(forecast, "budget_sec", lambda *_a, **_k: 20.0)
    wall_history.record(result(60.0, budget=20.0, scale=1.0, workload="mnist"))
    specs = [SimpleNamespace(workload="mnist", scale="dev", framework="jax")]
    options = SimpleNamespace(clock="dev", clock_scale=1.0, ruleset="external", data_dir=None)
    found = plan_forecast(specs, SimpleNamespace(version="0.5"), options, jobs=1)
    assert found.walls == (3.0,) and found.wall_sec == 60.0


def test_the_runner_records_only_trials_whose_budget_ran_out(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tests.fakes import Costs
    from tests.test_runner_timing import run

    recorded: list = []
    monkeypatch.setattr(wall_history, "record", recorded.append)
    exhausted, _, _ = run(Costs(step=1.0, eval=5.0), budget=60.0, tmp_path=tmp_path / "a")
    assert exhausted.status == "budget_exhausted" and recorded == [exhausted]
    reached, _, _ = run(Costs(step=1.0, eval=5.0), target=0.05, test_target=0.05,
                        tmp_path=tmp_path / "b")
    assert reached.status == "targets_reached" and len(recorded) == 1
    capped, _, _ = run(Costs(step=1.0), max_steps=5, tmp_path=tmp_path / "c")
    assert capped.status == "max_global_steps" and len(recorded) == 1
