"""Two submissions with the same folder name are two rows, named by the folders that differ.

    .venv/bin/python -m pytest tests/test_scoring_names.py -q
"""

from __future__ import annotations

from pathlib import Path

from sdk.cli.main import main
from sdk.scoring import load_submissions_times, scoring_rules
from sdk.scoring.reader import distinct_labels, find_submissions
from tests.test_scoring_support import curve_rows, write_trial

V06 = scoring_rules("0.6")


def _reach(time: float) -> list[dict]:
    return curve_rows([time / 2, time], [0.1, 0.3], "mean_average_precision")


def _before_after(tmp_path: Path) -> tuple[Path, Path]:
    a = tmp_path / "expA" / "dev" / "external_tuning" / "my_sgdm"
    b = tmp_path / "expB" / "dev" / "external_tuning" / "my_sgdm"
    write_trial(a, "ogbg_jax", 1, _reach(50.0))
    write_trial(b, "ogbg_jax", 1, _reach(70.0))
    return a, b


def test_before_and_after_runs_are_two_rows_in_any_order(tmp_path):
    a, b = _before_after(tmp_path)
    forward = {s.name: s.times["ogbg"] for s in load_submissions_times([a, b], V06)}
    backward = {s.name: s.times["ogbg"] for s in load_submissions_times([b, a], V06)}
    assert forward == backward == {"expA/my_sgdm": 50.0, "expB/my_sgdm": 70.0}


def test_score_prints_both_rows(tmp_path, capsys):
    a, b = _before_after(tmp_path)
    assert main(["score", str(b), str(a), "--ruleset-version", "0.6"]) == 0
    out = capsys.readouterr().out
    assert "expA/my_sgdm" in out and "expB/my_sgdm" in out


def test_folder_of_submissions_keeps_plain_names(tmp_path):
    group = tmp_path / "external_tuning"
    write_trial(group / "a", "ogbg_jax", 1, _reach(50.0))
    write_trial(group / "b", "ogbg_jax", 1, _reach(60.0))
    assert [t.name for t in find_submissions([group])] == ["a", "b"]


def test_fewest_components_that_tell_every_one_apart():
    keys = [(Path("/r/a/x"), "s"), (Path("/r/b/x"), "s"), (Path("/r/a/y"), "s"),
            (Path("/r/q"), "t")]
    assert distinct_labels(keys) == {keys[0]: "a/x/s", keys[1]: "b/x/s", keys[2]: "a/y/s",
                                     keys[3]: "t"}
    assert distinct_labels(keys[::-1]) == distinct_labels(keys)
    v = [(Path("/logs/v05"), "baseline"), (Path("/logs/v06"), "baseline")]
    assert sorted(distinct_labels(v).values()) == ["v05/baseline", "v06/baseline"]
