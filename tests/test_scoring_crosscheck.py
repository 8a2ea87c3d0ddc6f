"""`paceline score` checks a paceline trial's eval rows against the runner's own record.

The runner keeps ``paceline_eval_record.json`` (a SHA-256 per eval row it wrote); a row
changed, added or removed outside the runner makes ``paceline score`` refuse with one sentence
naming the file (exit 2). Logs without a record (AlgoPerf's own) score as before.

    .venv/bin/python -m pytest -q tests/test_scoring_crosscheck.py
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from sdk.cli.main import main
from sdk.errors import PacelineError
from sdk.scoring import load_submission_times, scoring_rules
from sdk.scoring.reader import verify_eval_rows
from sdk.trial_logs import EVAL_FILE, EVAL_RECORD_FILE, TrialLogger

TRIAL = Path("study_0") / "mnist_pytorch" / "trial_1"


@pytest.fixture(scope="module")
def recorded_run(tmp_path_factory) -> Path:
    """A real nadamw mnist trial that misses the target (4 evals); its submission folder."""
    root = tmp_path_factory.mktemp("crosscheck")
    code = main(["run", "--workload", "mnist", "--framework", "pytorch", "--submission",
                 "nadamw", "--no-progress", "--seed", "4", "--max-global-steps", "600",
                 "--experiment-dir", str(root)])
    assert code == 0
    return root / "dev" / "external_tuning" / "nadamw"


@pytest.fixture
def run_copy(recorded_run, tmp_path) -> Path:
    """A fresh copy of the recorded submission folder for one test to tamper with."""
    return Path(shutil.copytree(recorded_run, tmp_path / "nadamw"))


def _read(path: Path) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(path.read_text(), newline="")))
    return rows[0], rows[1:]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *rows])
    path.write_text(buf.getvalue())


def _score(path: Path, capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["score", str(path)])
    out, err = capsys.readouterr()
    return code, out, err


def _time(path: Path) -> float:
    return load_submission_times(path, scoring_rules("0.5")).workloads["mnist"].time_sec


def test_an_untouched_trial_verifies_and_scores(run_copy, capsys):
    assert verify_eval_rows(run_copy / TRIAL) is True
    code, out, _ = _score(run_copy, capsys)
    assert code == 0 and "unverified" not in out
    assert _time(run_copy) == float("inf")  # the runner recorded a miss


def test_a_forged_eval_value_is_refused(run_copy, capsys):
    """Before the check, this edit turned the runner's miss into a hit scored 1.0."""
    csv_path = run_copy / TRIAL / EVAL_FILE
    header, rows = _read(csv_path)
    rows[1][header.index("validation/accuracy")] = "0.995"
    _write(csv_path, header, rows)
    code, _, err = _score(run_copy, capsys)
    assert code == 2
    assert err.count("\n") == 1 and str(csv_path) in err
    assert "Line 3" in err and "not the eval row the runner wrote" in err
    with pytest.raises(PacelineError, match="refuses to score it"):
        _time(run_copy)


def test_an_added_eval_row_is_refused(run_copy, capsys):
    csv_path = run_copy / TRIAL / EVAL_FILE
    header, rows = _read(csv_path)
    forged = list(rows[-1])
    forged[header.index("validation/accuracy")] = "0.995"
    for column in ("score", "accumulated_submission_time"):
        forged[header.index(column)] = str(float(forged[header.index(column)]) + 0.01)
    _write(csv_path, header, [*rows, forged])
    code, _, err = _score(run_copy, capsys)
    assert code == 2 and str(csv_path) in err
    assert f"has {len(rows) + 1} eval rows but the runner wrote {len(rows)}" in err


def test_one_row_short_is_a_kill_mid_write_two_rows_short_is_refused(run_copy, capsys):
    csv_path = run_copy / TRIAL / EVAL_FILE
    header, rows = _read(csv_path)
    assert len(rows) >= 3
    _write(csv_path, header, rows[:-1])  # the record is written before the CSV
    assert _score(run_copy, capsys)[0] == 0
    _write(csv_path, header, rows[:-2])
    code, _, err = _score(run_copy, capsys)
    assert code == 2 and "eval rows but the runner wrote" in err


def test_a_broken_record_is_one_sentence(run_copy, capsys):
    record = run_copy / TRIAL / EVAL_RECORD_FILE
    record.write_text('{"file": "eval_measurements.csv"}\n')
    code, _, err = _score(run_copy, capsys)
    assert code == 2 and err.count("\n") == 1 and str(record) in err


def test_a_paceline_trial_without_a_record_is_scored_unverified_with_a_note(run_copy, capsys):
    (run_copy / TRIAL / EVAL_RECORD_FILE).unlink()
    assert verify_eval_rows(run_copy / TRIAL) is False
    code, out, _ = _score(run_copy, capsys)
    assert code == 0 and "1 paceline trial has no eval record" in out


def test_algoperf_logs_have_no_record_and_are_not_checked(reference_logs):
    trial = next(reference_logs.rglob(EVAL_FILE)).parent
    assert not (trial / EVAL_RECORD_FILE).exists()
    assert verify_eval_rows(trial) is False


def test_close_undoes_a_csv_the_submission_rewrote_after_the_last_eval(tmp_path):
    logger = TrialLogger(tmp_path, tensorboard=False)
    logger.append_scalar_metrics({"validation/accuracy": 0.5, "score": 1.0}, 10, is_eval=True)
    runner_text = (tmp_path / EVAL_FILE).read_text()
    # what a submission's last update_params could do: rewrite the eval log in place
    (tmp_path / EVAL_FILE).write_text(runner_text.replace("0.5", "0.99"))
    with pytest.raises(PacelineError, match="not the eval row the runner wrote"):
        verify_eval_rows(tmp_path)
    logger.close()
    assert (tmp_path / EVAL_FILE).read_text() == runner_text
    assert verify_eval_rows(tmp_path) is True
