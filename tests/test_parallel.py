"""Trials side by side (`--jobs`): the same trials, the same results, each worker one thread."""

from __future__ import annotations

import csv
import json

from sdk.cli.main import main
from sdk.parallel import describe, jobs_for, latest_eval
from sdk.runner import RunOptions


def _run(tmp_path, jobs: int) -> dict:
    out = tmp_path / f"jobs{jobs}.json"
    code = main(["run", "--workload", "mnist", "--submission", "nadamw", "--trials", "2",
                 "--seed", "3", "--max-global-steps", "40", "--speed-factor", "1",
                 "--experiment-dir", str(tmp_path / f"exp{jobs}"), "--no-tensorboard",
                 "--no-checkpoints", "--no-progress", "--jobs", str(jobs), "--json", str(out)])
    assert code == 0
    return json.loads(out.read_text())


def _last_rows(summary: dict) -> dict:
    rows = {}
    for trial in summary["trials"]:
        with open(f"{trial['trial_dir']}/eval_measurements.csv") as f:
            last = list(csv.DictReader(f))[-1]
        rows[trial["trial"]] = (last["global_step"], last["validation/accuracy"],
                                last["train/loss"])
    return rows


def test_two_jobs_run_the_same_trials_as_one(tmp_path, capsys):
    one = _run(tmp_path, 1)
    two = _run(tmp_path, 2)
    assert "2 trials side by side" in capsys.readouterr().err
    assert sorted(t["trial"] for t in two["trials"]) == [1, 2]
    assert all(t["global_step"] == 40 for t in two["trials"])
    assert all(t["clock"] == "dev" for t in two["trials"])
    assert _last_rows(one) == _last_rows(two)  # same seeds, same metrics, step for step


def test_jobs_default_to_one_per_core_under_the_dev_clock_only(monkeypatch):
    monkeypatch.delenv("PACELINE_JOBS", raising=False)
    monkeypatch.setattr("sdk.parallel.default_jobs", lambda: 4)
    assert jobs_for(None, RunOptions(clock="dev"), trials=10) == 4
    assert jobs_for(None, RunOptions(clock="dev"), trials=3) == 3
    assert jobs_for(None, RunOptions(clock="wall"), trials=10) == 1
    assert jobs_for(2, RunOptions(clock="wall"), trials=10) == 2
    monkeypatch.setenv("PACELINE_JOBS", "1")
    assert jobs_for(None, RunOptions(clock="dev"), trials=10) == 1


def test_running_trials_are_reported_from_their_own_logs(tmp_path):
    assert latest_eval(tmp_path) is None
    (tmp_path / "eval_measurements.csv").write_text(
        "global_step,accumulated_submission_time,validation/accuracy,validation/loss\n"
        "1,0.01,0.1,2.3\n1200,4.12,0.871,0.4\n")
    row = latest_eval(tmp_path)
    assert describe(row) == "step 1200, 4.1 s of submission time, validation/accuracy 0.871"
