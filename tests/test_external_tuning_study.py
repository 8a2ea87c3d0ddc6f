"""`paceline tune` on the mnist dev workload: layout, resume after kill -9, failures, workers.

Trials are cut short with --max-global-steps; a test submission sleeps in every step where a
trial must last long enough to be interrupted.

    .venv/bin/python -m pytest tests/test_external_tuning_study.py -q
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_external_tuning_support import (
    REPO,
    SPACE,
    records,
    state,
    tune_args,
    write_submission,
)

from external_tuning.strategies.quasi_random import planned_points
from sdk import rng as prng
from sdk.cli.main import main
from sdk.experiment import plan_trials
from sdk.search_space import SearchSpace
from sdk.trial_logs import STATUS_FILE


def trial_dir(root: Path, study: int, trial: int, workload: str = "mnist") -> Path:
    return root / f"study_{study}" / f"{workload}_pytorch" / f"trial_{trial}"


def test_quasi_random_study_writes_algoperfs_layout_and_a_rerun_trains_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    sub = write_submission(tmp_path)
    args = tune_args(tmp_path, sub, "--studies", "2", "--trials", "2", "--json",
                     str(tmp_path / "summary.json"))
    assert main(args) == 0
    root = tmp_path / "exp" / "study"
    # The same points and per-trial seeds as `paceline run --studies 2 --trials 2 --seed 7`.
    specs = plan_trials(["mnist"], "pytorch", "dev", "external", SearchSpace.from_json(SPACE),
                        2, 2, 7, root)
    for spec in specs:
        folder = spec.trial_dir
        assert (folder / "eval_measurements.csv").is_file()
        assert json.loads((folder / "hparams.json").read_text()) == spec.hyperparameters
        assert json.loads((folder / "meta_data_0.json").read_text())["rng_seed"] == spec.rng_seed
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert len(summary["trials"]) == 4
    assert set(summary["workloads"]["mnist"]["studies"]) == {"0", "1"}
    out = capsys.readouterr()
    assert "time-to-target(s)" in out.out and "paceline score" in out.out

    stamps = {p: p.stat().st_mtime_ns for p in root.rglob("paceline_trial.json")}
    assert main(args) == 0
    assert {p: p.stat().st_mtime_ns for p in root.rglob("paceline_trial.json")} == stamps
    assert "4 of 4 trials finished earlier" in capsys.readouterr().err

    # A rerun that would plan other trials is refused with one sentence.
    changed = tune_args(tmp_path, sub, "--studies", "2", "--trials", "3")
    assert main(changed) == 2
    err = capsys.readouterr().err
    assert "--trials 2" in err and err.count("\n") == 1


def test_dry_run_lists_every_point_without_training(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture) -> None:
    sub = write_submission(tmp_path)
    assert main(tune_args(tmp_path, sub, "--studies", "2", "--trials", "3", "--dry-run",
                          "--json", "-")) == 0
    plan = json.loads(capsys.readouterr().out)
    space = SearchSpace.from_json(SPACE)
    for study in plan["studies"]:
        expected = planned_points(space, 3, prng.derive_seed(7, "study-order", study["study"]))
        assert [t["hyperparameters"] for t in study["trials"]] == expected
        assert {t["status"] for t in study["trials"]} == {"planned"}
    assert not (tmp_path / "exp" / "study" / "study_0").exists()

    assert main(tune_args(tmp_path, sub, "--trials", "4", "--search", "bayesian",
                          "--initial-trials", "2", "--experiment-name", "bo", "--dry-run",
                          "--json", "-")) == 0
    trials = json.loads(capsys.readouterr().out)["studies"][0]["trials"]
    assert [t["hyperparameters"] is None for t in trials] == [False, False, True, True]


def test_a_failing_trial_is_a_miss_with_its_reason_and_the_study_goes_on(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    points = planned_points(SearchSpace.from_json(SPACE), 3, prng.derive_seed(7, "study-order",
                                                                             0))
    rates = sorted(p["learning_rate"] for p in points)
    sub = write_submission(tmp_path, fail_above=(rates[1] + rates[2]) / 2)
    assert main(tune_args(tmp_path, sub, "--studies", "1", "--trials", "3")) == 0
    root = tmp_path / "exp" / "study"
    recs = records(root)
    assert len(recs) == 3 and all(r["objective"] is not None for r in recs)
    statuses = {r["hyperparameters"]["learning_rate"]: r["observations"]["mnist"] for r in recs}
    failed = statuses[rates[2]]
    assert failed["status"] == "failed" and "exploded on purpose" in failed["reason"]
    assert failed["time_to_target"] is None
    assert [statuses[r]["status"] for r in rates[:2]] == ["max_global_steps"] * 2
    assert max(r["objective"] for r in recs) == failed_objective(recs, rates[2])
    assert "exploded on purpose" in capsys.readouterr().out


def failed_objective(recs: list, rate: float) -> float:
    return next(r["objective"] for r in recs if r["hyperparameters"]["learning_rate"] == rate)


def test_bad_flags_end_in_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    sub = write_submission(tmp_path)
    assert main(tune_args(tmp_path, sub, "--shared", "--dry-run")) == 2
    assert "--shared applies to searches that learn" in capsys.readouterr().err
    listed = tmp_path / "list.json"
    listed.write_text(json.dumps([{"learning_rate": 1e-3}]))
    args = tune_args(tmp_path, sub, "--search", "bayesian", "--dry-run")
    args[args.index("--tuning-search-space") + 1] = str(listed)
    assert main(args) == 2
    assert "list of fixed points" in capsys.readouterr().err
    assert main(tune_args(tmp_path, sub, "--ruleset", "self", "--dry-run")) == 2
    assert "external-tuning ruleset" in capsys.readouterr().err


def _wait_for(predicate, timeout: float, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _lock_is_free(folder: Path) -> bool:
    import fcntl

    lock = folder / ".paceline_trial.lock"
    if not lock.exists():
        return True
    with open(lock, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(handle, fcntl.LOCK_UN)
    return True


def _trial_finished(folder: Path) -> bool:
    """Whether the runner finished the trial (its status file says so)."""
    try:
        return bool(json.loads((folder / STATUS_FILE).read_text())["finished"])
    except (FileNotFoundError, json.JSONDecodeError):
        return False


def test_kill_9_mid_study_loses_no_finished_trial_and_workers_die_with_it(
        tmp_path: Path) -> None:
    record = tmp_path / "threads.jsonl"
    sub = write_submission(tmp_path, sleep=0.03, record=record)
    args = tune_args(tmp_path, sub, "--studies", "1", "--trials", "3", "--workers", "2",
                     steps=120)
    root = tmp_path / "exp" / "study"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "sdk.cli.main", *args], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def one_done_one_running() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"the study ended early: {proc.stderr.read().decode()}")
        try:
            recs = records(root)
        except (FileNotFoundError, json.JSONDecodeError):
            return False
        done = [r for r in recs if r["objective"] is not None]
        # the two workers start trials 1 and 2 together and finish them together, so wait for
        # trial 3, started after one of them finished: it has a whole trial's time left
        running = [r for r in recs if r["objective"] is None and r["index"] == 2
                   and (trial_dir(root, 0, r["index"] + 1) / "checkpoint.pt").is_file()]
        return bool(done) and bool(running)

    try:
        _wait_for(one_done_one_running, 180, "a finished trial and a running third one")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    # The workers die with the study: nothing holds a trial's lock any more.
    _wait_for(lambda: all(_lock_is_free(trial_dir(root, 0, t)) for t in (1, 2, 3)), 20,
              "the worker processes to exit")
    # What the workers left (one may have finished its last step as the study died).
    finished = [t for t in (1, 2, 3) if _trial_finished(trial_dir(root, 0, t))]
    interrupted = [t for t in (1, 2, 3) if t not in finished
                   and (trial_dir(root, 0, t) / "checkpoint.pt").is_file()]
    assert interrupted, "no trial was interrupted"
    before = {t: {f: (trial_dir(root, 0, t) / f).read_bytes()
                  for f in ("paceline_trial.json", "eval_measurements.csv")} for t in finished}

    assert main(args) == 0
    recs = records(root)
    assert sorted(r["index"] for r in recs) == [0, 1, 2]
    assert all(len(r["observations"]) == 1 and r["objective"] is not None for r in recs)
    for t, files in before.items():
        for name, data in files.items():
            assert (trial_dir(root, 0, t) / name).read_bytes() == data, (t, name)
    for t in interrupted:  # resumed from its checkpoint, not started again
        assert (trial_dir(root, 0, t) / "meta_data_1.json").is_file()
    for t in (1, 2, 3):
        with open(trial_dir(root, 0, t) / "eval_measurements.csv") as f:
            steps = [int(row["global_step"]) for row in csv.DictReader(f)]
        assert steps == sorted(set(steps)), f"trial {t} has duplicated evals: {steps}"
    # Each worker process ran with its own thread limit.
    lines = [json.loads(x) for x in record.read_text().splitlines()]
    assert {(x["omp"], x["torch"]) for x in lines} == {("1", 1)}
    assert len({x["pid"] for x in lines}) >= 2 and os.getpid() not in {x["pid"] for x in lines}


def test_submitit_local_executor_runs_the_trials(tmp_path: Path) -> None:
    sub = write_submission(tmp_path)
    args = tune_args(tmp_path, sub, "--studies", "1", "--trials", "2", "--executor",
                     "submitit-local", "--workers", "2", steps=10)
    assert main(args) == 0
    root = tmp_path / "exp" / "study"
    recs = records(root)
    assert len(recs) == 2 and all(r["objective"] is not None for r in recs)
    assert {r["observations"]["mnist"]["status"] for r in recs} == {"max_global_steps"}
    assert any((root / "submitit").iterdir())  # submitit's own job logs
    assert state(root)["config"]["num_trials"] == 2
