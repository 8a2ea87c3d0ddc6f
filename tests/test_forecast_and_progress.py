"""Long work says what it will take and how it goes: the forecast line, the running trials'
lines inside `paceline tune`, and data preparation's progress in a log (no carriage returns).

    pytest tests/test_forecast_and_progress.py -q
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from sdk.forecast import Forecast, duration, plan_forecast
from sdk.trial_logs import EVAL_FILE


def test_the_forecast_line_names_trials_budget_jobs_and_an_estimated_wall_time() -> None:
    # 6 trials of 100 calibration-machine seconds, on a machine half as fast, 2 at a time:
    # 3 rounds of 200 s
    line = Forecast((100.0,) * 6, jobs=2, clock="dev", scales=(0.5,) * 6).line("paceline tune")
    assert line.startswith("paceline tune: forecast: 6 trials, budget 100 calibration-machine "
                           "s each (dev clock), 2 at a time: about 10 min 0 s of wall time")
    assert "estimate" in line and "normalisation 0.5" in line


def test_the_forecast_spreads_unequal_budgets_over_the_workers() -> None:
    forecast = Forecast((300.0, 100.0, 100.0, 100.0), jobs=2, clock="wall")
    assert forecast.wall_sec == 300.0
    line = forecast.line("paceline")
    assert "budget 100 to 300 s each (wall clock)" in line and "about 5 min 0 s" in line


def test_an_uncalibrated_machine_is_said_to_be_assumed_at_calibration_speed() -> None:
    line = Forecast((60.0, 60.0), jobs=4, scales=(None, None)).line("paceline")
    assert "2 at a time" in line and "about 1 min 0 s" in line and "not calibrated" in line


def test_a_plans_forecast_uses_each_workloads_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    import sdk.forecast as forecast

    budgets = {"mnist": 20.0, "ogbg": 80.0}
    monkeypatch.setattr(forecast, "budget_sec", lambda w, *_a, **_k: budgets[w])
    monkeypatch.setattr(forecast.wall_history, "ratio", lambda *_a, **_k: None)
    specs = [SimpleNamespace(workload=w, scale="dev", framework="pytorch")
             for w in ("mnist", "ogbg", "mnist")]
    options = SimpleNamespace(clock="dev", clock_scale=0.25, ruleset="external",
                              data_dir=None)
    found = plan_forecast(specs, SimpleNamespace(version="0.5"), options, jobs=1)
    assert found.budgets == (20.0, 80.0, 20.0) and found.wall_sec == 480.0


def test_a_plans_forecast_keeps_each_frameworks_budget_and_scale(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """a100-2026 gives each framework its own dev budget: a plan mixing frameworks on one
    workload must not read the first framework's budget, scale or wall ratio for both."""
    from sdk import forecast

    monkeypatch.setattr(forecast, "budget_sec",
                        lambda w, scale, fw, *_a: 30.0 if fw == "jax" else 40.0)
    monkeypatch.setattr(forecast, "machine_factors",
                        lambda _o, w, fw: (0.5, None) if fw == "jax" else (1.0, 2.0))
    specs = [SimpleNamespace(workload="ogbg", scale="dev", framework=fw)
             for fw in ("jax", "pytorch", "jax")]
    found = plan_forecast(specs, SimpleNamespace(version="a100-2026"),
                          SimpleNamespace(clock="dev", ruleset="self"), jobs=1)
    assert found.budgets == (30.0, 40.0, 30.0)
    assert found.scales == (0.5, 1.0, 0.5) and found.walls == (None, 2.0, None)


def test_durations_read_as_a_person_would_say_them() -> None:
    assert [duration(s) for s in (45, 264, 7500)] == ["45 s", "4 min 24 s", "2 h 05 min"]


def test_tune_reports_each_running_trials_latest_evaluation(tmp_path: Path) -> None:
    from external_tuning.progress import RunningTrials

    lines: list[str] = []
    watcher = RunningTrials(lines.append, every=3600.0)
    trial = tmp_path / "trial_1"
    trial.mkdir()
    watcher.started("mnist study 0 trial 1", trial)
    watcher.report()
    assert lines == []  # no evaluation yet
    (trial / EVAL_FILE).write_text("global_step,accumulated_submission_time,"
                                   "validation/accuracy\n40,3.25,0.5\n")
    watcher.report()
    watcher.report()  # nothing new: no second line
    assert lines == ["  mnist study 0 trial 1: step 40, 3.2 s of submission time, "
                     "validation/accuracy 0.5"]
    watcher.finished(trial)
    watcher.close()


def test_data_preparation_writes_plain_lines_when_stderr_is_not_a_terminal(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from workloads.common import progress

    log = io.StringIO()  # not a terminal
    monkeypatch.setattr(progress, "EVERY", 0.0)
    for _ in progress.tqdm(range(5), desc="ogbg: QM9 SMILES -> graphs", unit="graph",
                           leave=False, file=log, every=0.0):
        pass
    with progress.tqdm(total=3, desc="fashion_mnist", unit="step", file=log) as bar:
        bar.update()
    text = log.getvalue()
    assert "\r" not in text
    assert "ogbg: QM9 SMILES -> graphs: 5/5 graph" in text and "done" in text
    assert "fashion_mnist: 1/3 step" in text
    assert all(line for line in text.splitlines())


def test_data_preparation_keeps_the_bar_on_a_terminal() -> None:
    from workloads.common import progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    bar = progress.tqdm(total=2, desc="x", file=Terminal())
    assert type(bar).__name__ == "tqdm"
    bar.close()


def test_paceline_data_prepare_on_a_non_terminal_stderr_has_no_carriage_return(
        tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    from sdk.cli.main import main

    assert main(["data", "prepare", "imagenet_resnet", "--data-dir", str(tmp_path)]) == 0
    err = capfd.readouterr().err
    assert "\r" not in err and "fashion_mnist: 4/4 step" in err
    assert json.loads(next(tmp_path.rglob("info.json")).read_text())


def test_run_and_tune_print_the_forecast_before_the_first_trial(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from test_external_tuning_support import tune_args, write_submission

    from sdk.cli.main import main

    assert main(["run", "--workload", "mnist", "--submission", "nadamw", "--studies", "1",
                 "--trials", "2", "--max-global-steps", "5", "--seed", "0",
                 "--experiment-dir", str(tmp_path / "run")]) == 0
    err = capsys.readouterr().err
    forecast = err.index("paceline: forecast: 2 trials, budget ")
    assert forecast < err.index("  mnist study 0 trial 1:") and "estimate" in err
    # resumed, the finished trials are kept and not forecast again
    assert main(["run", "--workload", "mnist", "--submission", "nadamw", "--studies", "1",
                 "--trials", "2", "--max-global-steps", "5", "--seed", "0",
                 "--experiment-dir", str(tmp_path / "run"), "--resume"]) == 0
    err = capsys.readouterr().err
    assert "2 of 2 trials already finished; --resume keeps them" in err
    assert "forecast:" not in err

    sub = write_submission(tmp_path)
    assert main(tune_args(tmp_path, sub, "--studies", "1", "--trials", "2", steps=5)) == 0
    err = capsys.readouterr().err
    assert "paceline tune: forecast: 2 trials, budget " in err and "1 at a time" in err
