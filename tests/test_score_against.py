"""`paceline score DIR --against baselines`: a dev run scored against the shipped reference
timings on the workloads it trained, with each reference's spread; no targets file needed."""

from __future__ import annotations

import json

import pytest

from sdk.cli.main import main


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("against")
    assert main(["run", "--workload", "mnist", "--submission", "nadamw", "--seed", "2",
                 "--max-global-steps", "300", "--speed-factor", "1", "--experiment-dir",
                 str(root), "--no-tensorboard", "--no-checkpoints", "--no-progress"]) == 0
    return root / "dev" / "external_tuning" / "nadamw"


def _references(tmp_path, monkeypatch, target: float, times: list,
                name: str = "fastbase") -> None:
    median = sorted(t for t in times if t is not None)
    data = {"scale": "dev", "ruleset": "external", "ruleset_version": "0.5",
            "framework": "pytorch", "clock": "dev", "baselines": {name: {"mnist": {
                "time_to_target_sec": median[len(median) // 2] if median else None,
                "study_times": times, "budget_sec": 20.0, "metric": "accuracy",
                "target": target}}}}
    (tmp_path / "dev_external_v0.5.json").write_text(json.dumps(data))
    monkeypatch.setattr("sdk.references.reference_dirs", lambda: [tmp_path])


def test_a_run_is_scored_against_the_references_with_their_spread(run_dir, tmp_path,
                                                                  monkeypatch, capsys):
    from workloads.mnist.workload import DEV_NUMBERS

    capsys.readouterr()
    _references(tmp_path, monkeypatch, DEV_NUMBERS.validation_target_value, [0.5, 0.6, 0.7])
    assert main(["score", str(run_dir), "--against", "baselines"]) == 0
    out = capsys.readouterr().out
    assert "fastbase" in out and "Benchmark score over 1 workload(s)" in out
    assert "0.6 [0.5-0.7] (n=3)" in out
    assert "slower" in out  # 300 steps miss the target: slower than every study of fastbase


def test_a_reference_named_like_the_run_gets_a_row_of_its_own(run_dir, tmp_path,
                                                              monkeypatch, capsys):
    from workloads.mnist.workload import DEV_NUMBERS

    capsys.readouterr()  # the run folder is nadamw's, and so is the reference
    _references(tmp_path, monkeypatch, DEV_NUMBERS.validation_target_value, [0.5, 0.6, 0.7],
                name="nadamw")
    assert main(["score", str(run_dir), "--against", "baselines"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert any(r.startswith("nadamw (reference) ") for r in rows)
    assert any(r.startswith("nadamw ") and "inf" in r for r in rows)  # the run's own miss
    assert any("nadamw (reference)" in r and "0.6 [0.5-0.7] (n=3)" in r for r in rows)


def test_references_timed_against_other_targets_are_not_compared(run_dir, tmp_path,
                                                                  monkeypatch, capsys):
    capsys.readouterr()
    _references(tmp_path, monkeypatch, 0.12345, [1.0])
    assert main(["score", str(run_dir), "--against", "baselines"]) == 0
    assert "fastbase (other targets on mnist)" in capsys.readouterr().out


def test_against_refuses_an_official_scale_run(tmp_path, capsys):
    assert main(["score", str(tmp_path), "--against", "baselines"]) == 2
