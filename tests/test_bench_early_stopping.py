"""benchmarks/bench_early_stopping.py on hand-written trial folders: which trials have a known
ending, and what replaying the rule on them counts.

    .venv/bin/python -m pytest -q tests/test_bench_early_stopping.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import bench_early_stopping as bench  # noqa: E402

from external_tuning.early_stopping import TargetOutOfReach  # noqa: E402

BUDGET, TARGET = 40.0, 0.9


def write_trial(root: Path, name: str, status: str, curve: list[tuple[float, float]]) -> None:
    trial = root / "sub" / "study_0" / "mnist_pytorch" / name
    trial.mkdir(parents=True)
    (trial / "paceline_trial.json").write_text(json.dumps({"status": status}))
    (trial / "meta_data_0.json").write_text(json.dumps({
        "paceline.scale": "dev", "workload.target_metric_name": "accuracy",
        "workload.validation_target_value": TARGET, "paceline.budget_sec": BUDGET,
        "paceline.metric_minimized": False}))
    rows = [f"{i},{t},{v}" for i, (t, v) in enumerate(curve)]
    (trial / "eval_measurements.csv").write_text(
        "global_step,score,validation/accuracy\n" + "\n".join(rows) + "\n")


def late_jump(hit_at: float) -> list[tuple[float, float]]:
    """A plateau far below the target, then a jump to it at ``hit_at`` (a late decay)."""
    return [(t, 0.5) for t in range(1, int(hit_at))] + [(hit_at, 0.95)]


def test_replay_counts_false_stops_and_what_stopping_misses_saves(tmp_path: Path) -> None:
    write_trial(tmp_path, "trial_1", "targets_reached", late_jump(30.0))
    write_trial(tmp_path, "trial_2", "budget_exhausted", [(t, 0.5) for t in range(1, 41)])
    write_trial(tmp_path, "trial_3", "targets_reached", [(t, 0.1 * t) for t in range(1, 11)])
    write_trial(tmp_path, "trial_4", "stopped_early", [(t, 0.5) for t in range(1, 12)])
    trials, skipped = bench.read_trials([str(tmp_path / "sub")])
    assert (len(trials), skipped) == (3, 1)
    row = bench.summarise(TargetOutOfReach(), trials)[-1]
    assert (row["trials"], row["hits"], row["false_stops"]) == (3, 2, 1)
    assert row["false_stopped"] == ["sub/study_0/mnist_pytorch/trial_1"]
    assert row["misses_stopped"] == 1 and 0.6 < row["saved_share"] < 0.8


def test_censoring_sets_a_stopped_miss_against_its_whole_curve(tmp_path: Path) -> None:
    # a plateau, then a late climb that still misses: stopped on the plateau it looks
    # hopeless (4x the budget); its whole curve makes it a near miss
    late = [(t, 0.5) for t in range(1, 21)] + [(t, 0.5 + 0.019 * (t - 20)) for t in
                                                range(21, 41)]
    write_trial(tmp_path, "trial_1", "budget_exhausted", late)
    write_trial(tmp_path, "trial_2", "budget_exhausted", [(t, 0.3) for t in range(1, 41)])
    trials, _ = bench.read_trials([str(tmp_path / "sub")])
    (row,) = bench.censoring(TargetOutOfReach(), trials)
    assert row["workload"] == "mnist" and row["stopped_misses"] == 2
    assert row["median_gap"] > 0  # the stopped view is the more pessimistic one


def test_a_hit_at_another_target_has_no_known_ending(tmp_path: Path) -> None:
    # stopped when it reached an easier target than the one in its meta_data now
    write_trial(tmp_path, "trial_1", "targets_reached", [(t, 0.05 * t) for t in range(1, 11)])
    assert bench.read_trials([str(tmp_path / "sub")]) == ([], 1)


def test_the_command_prints_the_table_and_refuses_an_empty_folder(tmp_path: Path,
                                                                   capsys) -> None:  # noqa: ANN001
    write_trial(tmp_path, "trial_1", "targets_reached", late_jump(30.0))
    assert bench.main([str(tmp_path / "sub"), "--fraction", "0.25", "--fraction", "0.8"]) == 0
    out = capsys.readouterr().out
    assert "false stops" in out and "0.8" in out
    (tmp_path / "empty" / "study_0" / "mnist_pytorch" / "trial_1").mkdir(parents=True)
    assert bench.main([str(tmp_path / "empty")]) == 2
    assert "no finished trial" in capsys.readouterr().err
