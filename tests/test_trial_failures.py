"""A trial is a unit of failure: it raises, exits, crashes, hangs or breaks the API alone.

Each test runs a small NAdamW submission on the mnist dev workload that misbehaves on purpose
in one trial (counted per process by ``init_optimizer_state``), and checks that the trial is a
recorded miss with its reason (``paceline_trial.json``), that the other trials still run, and
that ``--resume`` keeps the failed record as it is. The watchdog tests shrink its limit to
seconds through ``$PACELINE_WATCHDOG_FACTOR`` and ``$PACELINE_WATCHDOG_GRACE_SEC``.

    .venv/bin/python -m pytest tests/test_trial_failures.py -q
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_external_tuning_support import REPO, records, tune_args, write_space

from sdk.cli.main import main
from sdk.trial_logs import STATUS_FILE

SUBMISSION = '''"""NAdamW that misbehaves in trial {fail_trial} of this process: {mode}."""
import os
import signal
import sys
import time

from baselines.nadamw import pytorch_external as base
from baselines.nadamw.pytorch_external import data_selection, get_batch_size, prepare_for_eval

MODE = {mode!r}
FAIL_TRIAL = {fail_trial!r}
ONCE = {once!r}  # a marker file: misbehave only in the first process that gets there
_trials = []


def _first_to_get_here():
    """Whether this process is the one to misbehave: with ONCE, the first to create the marker
    (an atomic create, so two workers at step 2 together cannot both win)."""
    if not ONCE:
        return True
    try:
        os.close(os.open(ONCE, os.O_CREAT | os.O_EXCL))
    except FileExistsError:
        return False
    return True


def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):
    _trials.append(1)
    if MODE == "hang_ignoring_alarms" and len(_trials) == FAIL_TRIAL:
        signal.signal(signal.SIGALRM, signal.SIG_IGN)  # only a kill from outside stops it
    return base.init_optimizer_state(workload, model_params, model_state, hyperparameters, rng)


def update_params(workload, current_param_container, current_params_types, model_state,
                  hyperparameters, batch, loss_type, optimizer_state, eval_results,
                  global_step, rng):
    if len(_trials) == FAIL_TRIAL and global_step == 2 and _first_to_get_here():
        if MODE == "raise":
            raise RuntimeError("exploded on purpose")
        if MODE == "exit":
            sys.exit(3)
        if MODE == "segfault":
            os.kill(os.getpid(), signal.SIGSEGV)
        if MODE == "hang":
            time.sleep(120)
        if MODE == "hang_ignoring_alarms":
            time.sleep(120)
        if MODE == "spin":
            end = time.time() + 120
            while time.time() < end:
                pass
        if MODE == "interrupt":
            raise KeyboardInterrupt
        if MODE == "none_params":
            return optimizer_state, None, model_state
    return base.update_params(workload, current_param_container, current_params_types,
                              model_state, hyperparameters, batch, loss_type, optimizer_state,
                              eval_results, global_step, rng)
'''


def write_submission(folder: Path, mode: str, fail_trial: int = 1, once: bool = False) -> Path:
    path = folder / f"misbehaving_{mode}.py"
    marker = str(folder / f"{mode}.done") if once else None
    path.write_text(SUBMISSION.format(mode=mode, fail_trial=fail_trial, once=marker))
    return path


def run_args(tmp: Path, submission: Path, *extra: str, steps: int = 5) -> list[str]:
    """`paceline run` arguments for short mnist trials under ``tmp``."""
    return ["run", "--workload", "mnist", "--submission", str(submission),
            "--tuning-search-space", str(write_space(tmp)), "--experiment-dir",
            str(tmp / "exp"), "--experiment-name", "run", "--seed", "3",
            "--max-global-steps", str(steps), "--threads", "1", "--no-tensorboard",
            "--no-progress", "--jobs", "1", *extra]


def trial_dir(root: Path, trial: int, study: int = 0) -> Path:
    return root / f"study_{study}" / "mnist_pytorch" / f"trial_{trial}"


def status(folder: Path) -> dict:
    return json.loads((folder / STATUS_FILE).read_text())


def test_a_raising_trial_is_a_recorded_miss_the_next_trials_run_and_resume_keeps_it(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    sub = write_submission(tmp_path, "raise", fail_trial=2)
    args = run_args(tmp_path, sub, "--trials", "3")
    assert main(args) == 0
    root = tmp_path / "exp" / "run"
    failed = status(trial_dir(root, 2))
    assert failed["status"] == "failed" and failed["finished"]
    assert "exploded on purpose" in failed["reason"]
    assert failed["result"]["status"] == "failed" and failed["result"]["trial"] == 2
    for trial in (1, 3):
        assert status(trial_dir(root, trial))["status"] == "max_global_steps"
    out = capsys.readouterr()
    assert "exploded on purpose" in out.out  # the per-trial table's reason column
    assert "1 of 3 trial(s) failed" in out.err
    assert str(trial_dir(root, 2) / STATUS_FILE) in out.err

    # --resume keeps the failed trial (and the others) exactly as recorded
    files = sorted(p for p in root.rglob("*") if p.is_file())
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files}
    assert main([*args, "--resume"]) == 0
    assert {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in files} == before
    assert "exploded on purpose" in capsys.readouterr().out


def test_sys_exit_in_update_params_is_a_failed_trial_with_one_sentence(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    sub = write_submission(tmp_path, "exit")
    assert main(run_args(tmp_path, sub)) == 2  # every trial failed
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith("paceline run: Every trial failed")
    assert "sys.exit(3)" in last and STATUS_FILE in last
    record = status(trial_dir(tmp_path / "exp" / "run", 1))
    assert record["status"] == "failed" and "sys.exit(3)" in record["reason"]

    # `paceline tune` records it and goes on with its next trial
    assert main(tune_args(tmp_path, sub, "--studies", "1", "--trials", "2", steps=5)) == 0
    obs = {r["index"]: r["observations"]["mnist"] for r in records(tmp_path / "exp" / "study")}
    assert obs[0]["status"] == "failed" and "sys.exit(3)" in obs[0]["reason"]
    assert obs[1]["status"] == "max_global_steps"


def test_ctrl_c_says_rerun_with_resume_and_leaves_the_trial_resumable(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    sub = write_submission(tmp_path, "interrupt")
    assert main(run_args(tmp_path, sub)) == 130
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last == "paceline run: interrupted; finished work is kept, rerun with --resume to " \
                   "continue."
    record = status(trial_dir(tmp_path / "exp" / "run", 1))
    assert record["status"] == "running" and not record["finished"]


def test_update_params_returning_none_params_is_one_sentence_naming_it(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    sub = write_submission(tmp_path, "none_params")
    assert main(run_args(tmp_path, sub)) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "update_params returned None for the parameters; it must return (optimizer_state, " \
           "params, model_state)" in last
    assert "Traceback" not in last
    assert status(trial_dir(tmp_path / "exp" / "run", 1))["status"] == "failed"


@pytest.mark.parametrize("returned", ["0", "'big'", "1 / 0"])
def test_get_eval_batch_size_raising_or_not_positive_is_one_sentence(
        tmp_path: Path, capsys: pytest.CaptureFixture, returned: str) -> None:
    sub = write_submission(tmp_path, "none")
    sub.write_text(sub.read_text() + f"\n\ndef get_eval_batch_size(workload_name):\n"
                                     f"    return {returned}\n")
    assert main(run_args(tmp_path, sub)) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]  # after the run's banner
    assert last.startswith("paceline run: get_eval_batch_size('mnist') ")
    assert "positive int" in last or "ZeroDivisionError" in last


def test_a_trial_killed_between_its_last_checkpoint_and_its_record_resumes_finished(
        tmp_path: Path) -> None:
    """The last checkpoint is written just before the final record; a kill between the two
    (a sibling's crash takes the pool down) leaves "running" beside a finished checkpoint.
    Resumed, the trial takes no more steps and ends with the status it would have had."""
    sub = write_submission(tmp_path, "none")
    args = run_args(tmp_path, sub)
    assert main(args) == 0
    folder = trial_dir(tmp_path / "exp" / "run", 1)
    finished = status(folder)
    rows = (folder / "eval_measurements.csv").read_text()
    (folder / STATUS_FILE).write_text(json.dumps({**finished, "status": "running",
                                                  "finished": False}))
    assert main([*args, "--resume"]) == 0
    record = status(folder)
    assert record["status"] == "max_global_steps" and record["finished"]
    assert record["result"]["global_step"] == finished["result"]["global_step"] == 5
    assert (folder / "eval_measurements.csv").read_text() == rows


@pytest.mark.parametrize(("payload", "expected"), [
    ({"status": "diverged", "reason": "the loss became NaN"}, ("diverged", "the loss became NaN")),
    ({"train_state": {"training_complete": True}, "global_step": 5}, ("max_global_steps", "")),
    ({"train_state": {"training_complete": True}, "global_step": 3}, ("training_complete", "")),
    ({"train_state": {"training_complete": False}, "global_step": 3}, ("running", "")),
    ({"status": "no such status", "train_state": {}}, ("running", "")),
])
def test_a_checkpoint_resumes_with_its_status_older_ones_from_their_train_state(
        payload: dict, expected: tuple[str, str]) -> None:
    from sdk.runner import _resumed_status

    assert _resumed_status(payload, max_steps=5) == expected


def test_a_segfault_under_the_process_executor_is_a_crashed_trial(tmp_path: Path) -> None:
    sub = write_submission(tmp_path, "segfault")
    args = tune_args(tmp_path, sub, "--studies", "1", "--trials", "1", "--executor",
                     "processes", "--workers", "1", steps=5)
    assert main(args) == 0
    root = tmp_path / "exp" / "study"
    record = status(trial_dir(root, 1))
    assert record["status"] == "crashed" and record["finished"]
    assert "SIGSEGV" in record["reason"] and "update_params" in record["reason"]
    obs = records(root)[0]["observations"]["mnist"]
    assert obs["status"] == "crashed"


def test_a_segfault_in_an_inline_run_is_recorded_as_crashed_on_resume(tmp_path: Path) -> None:
    sub = write_submission(tmp_path, "segfault", once=True)
    cmd = [sys.executable, "-m", "sdk.cli.main", *run_args(tmp_path, sub, "--trials", "2")]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    died = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    assert died.returncode < 0  # the segfault takes the process down
    resumed = subprocess.run([*cmd, "--resume"], cwd=REPO, env=env, capture_output=True,
                             text=True)
    assert resumed.returncode == 0, resumed.stderr
    root = tmp_path / "exp" / "run"
    record = status(trial_dir(root, 1))
    assert record["status"] == "crashed" and "Segmentation fault" in record["reason"]
    assert status(trial_dir(root, 2))["status"] == "max_global_steps"


def test_a_segfault_with_trials_side_by_side_is_crashed_and_the_others_finish(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    sub = write_submission(tmp_path, "segfault", once=True)
    args = run_args(tmp_path, sub, "--trials", "3")
    args[args.index("--jobs") + 1] = "2"
    assert main(args) == 0
    root = tmp_path / "exp" / "run"
    statuses = [status(trial_dir(root, t))["status"] for t in (1, 2, 3)]
    assert sorted(statuses) == ["crashed", "max_global_steps", "max_global_steps"]
    assert "1 of 3 trial(s) failed" in capsys.readouterr().err


def test_the_watchdog_stops_a_hanging_trial_in_process(
        tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACELINE_WATCHDOG_FACTOR", "0")
    monkeypatch.setenv("PACELINE_WATCHDOG_GRACE_SEC", "4")
    sub = write_submission(tmp_path, "hang")
    assert main(run_args(tmp_path, sub, "--clock", "wall")) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "watchdog stopped the trial after 4 s of wall-clock time" in last
    record = status(trial_dir(tmp_path / "exp" / "run", 1))
    assert record["status"] == "timed_out" and "watchdog" in record["reason"]


def test_under_the_dev_clock_the_watchdog_counts_cpu_time(
        tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """A trial spinning on the CPU is stopped by its CPU time (a busy or suspended machine
    slows its wall clock, not its CPU time)."""
    monkeypatch.setenv("PACELINE_WATCHDOG_FACTOR", "0")
    monkeypatch.setenv("PACELINE_WATCHDOG_GRACE_SEC", "3")
    sub = write_submission(tmp_path, "spin")
    assert main(run_args(tmp_path, sub, "--clock", "dev", "--speed-factor", "1")) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "watchdog stopped the trial after 3 s of its process's CPU time" in last
    assert status(trial_dir(tmp_path / "exp" / "run", 1))["status"] == "timed_out"


def test_under_the_dev_clock_a_hang_without_cpu_meets_the_wall_backstop(
        tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACELINE_WATCHDOG_FACTOR", "0")
    monkeypatch.setenv("PACELINE_WATCHDOG_GRACE_SEC", "3")
    monkeypatch.setattr("sdk.trial_status.WALL_BACKSTOP", 2.0)
    sub = write_submission(tmp_path, "hang")
    assert main(run_args(tmp_path, sub, "--clock", "dev", "--speed-factor", "1")) == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert "watchdog stopped the trial after 6 s of wall-clock time (its limit: the dev " \
        "clock's backstop" in last
    assert status(trial_dir(tmp_path / "exp" / "run", 1))["status"] == "timed_out"


def test_the_watchdog_kills_a_trial_process_that_ignores_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACELINE_WATCHDOG_FACTOR", "0")
    monkeypatch.setenv("PACELINE_WATCHDOG_GRACE_SEC", "6")
    sub = write_submission(tmp_path, "hang_ignoring_alarms")
    args = tune_args(tmp_path, sub, "--studies", "1", "--trials", "1", "--executor",
                     "processes", "--workers", "1", "--clock", "wall", steps=5)
    assert main(args) == 0
    root = tmp_path / "exp" / "study"
    record = status(trial_dir(root, 1))
    assert record["status"] == "timed_out" and "watchdog killed" in record["reason"]
    assert records(root)[0]["observations"]["mnist"]["status"] == "timed_out"


RAISING_AT_STEP_5 = '''
import torch
from algoperf import spec


def get_batch_size(workload_name):
    return 16


def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):
    return {"optimizer": torch.optim.SGD(model_params.parameters(), lr=0.01)}


def update_params(workload, current_param_container, current_params_types, model_state,
                  hyperparameters, batch, loss_type, optimizer_state, eval_results, global_step,
                  rng, train_state=None):
    if global_step == 5:
        return 1 / 0
    return optimizer_state, current_param_container, model_state


def prepare_for_eval(workload, current_param_container, current_params_types, model_state,
                     hyperparameters, loss_type, optimizer_state, eval_results, global_step,
                     rng):
    return optimizer_state, current_param_container, model_state


def data_selection(workload, input_queue, optimizer_state, current_param_container,
                   model_state, hyperparameters, global_step, rng):
    return next(input_queue)
'''


def _raising_run(tmp_path: Path, *extra: str) -> int:
    from sdk.cli.main import main

    sub = tmp_path / "raises.py"
    sub.write_text(RAISING_AT_STEP_5)
    return main(["run", "--workload", "mnist", "--submission", str(sub), "--ruleset", "self",
                 "--speed-factor", "1", "--max-global-steps", "20", "--experiment-dir",
                 str(tmp_path / "exp"), "--no-tensorboard", "--no-progress", *extra])


def test_a_failed_trial_keeps_its_full_traceback_and_step(tmp_path: Path, capsys) -> None:
    """The failing frame, the step and the whole traceback are written beside the logs."""
    assert _raising_run(tmp_path, "--jobs", "1") == 2  # every trial failed
    found = list((tmp_path / "exp").rglob("paceline_traceback.txt"))
    assert len(found) == 1
    text = found[0].read_text()
    assert "ZeroDivisionError" in text and "step: 5" in text and "raises.py" in text
    assert "Traceback (most recent call last)" in text
    assert "traceback: " in capsys.readouterr().err


def test_pdb_opens_a_post_mortem_debugger_at_the_raise(tmp_path: Path, monkeypatch) -> None:
    import pdb

    seen = []
    monkeypatch.setattr(pdb, "post_mortem", lambda tb: seen.append(tb))
    _raising_run(tmp_path, "--pdb")
    assert len(seen) == 1
    frame = seen[0]
    while frame.tb_next is not None:
        frame = frame.tb_next
    assert frame.tb_frame.f_code.co_name == "update_params"


def test_a_worker_process_under_the_dev_clock_is_killed_only_past_the_backstop(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The parent's deadline for a dev-clock trial lies past the trial's wall-clock backstop,
    so a busy machine does not get a trial killed that its own CPU-time limit lets run."""
    from types import SimpleNamespace

    from external_tuning.executors import ProcessExecutor
    from sdk.trial_status import WALL_BACKSTOP

    monkeypatch.setenv("PACELINE_WATCHDOG_FACTOR", "3")
    monkeypatch.setenv("PACELINE_WATCHDOG_GRACE_SEC", "600")

    def job(clock: str) -> SimpleNamespace:
        return SimpleNamespace(facts=SimpleNamespace(budget=100.0),
                               options=SimpleNamespace(clock=clock))

    assert ProcessExecutor.kill_after(job("wall")) == pytest.approx(900 * 1.1 + 10)
    assert ProcessExecutor.kill_after(job("dev")) == pytest.approx(900 * WALL_BACKSTOP * 1.1 + 10)
