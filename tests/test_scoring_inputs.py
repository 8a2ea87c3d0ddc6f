"""What `paceline score` does with real-world trees: layouts, stray files, bad CSVs, NaNs,
empty folders, unknown workloads, strict mode, dev-scale targets, held-out variants.

    .venv/bin/python -m pytest tests/test_scoring_inputs.py -q
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sdk.cli.main import main
from sdk.errors import PacelineError
from sdk.scoring import load_submission_times, load_submissions_times, scoring_rules
from sdk.scoring.reader import find_submissions
from sdk.scoring.targets import apply_targets
from tests.test_scoring_support import curve_rows, write_trial, write_workload

V06 = scoring_rules("0.6")
OGBG = V06.targets["ogbg"]  # mean_average_precision, maximised


def _reach(time: float) -> list[dict]:
    """An ogbg curve that reaches the official target at ``time``."""
    return curve_rows([time / 2, time], [0.1, 0.3], "mean_average_precision")


def _full_submission(root: Path, rules, time: float = 100.0, trials: int | None = None,
                     studies: int | None = None) -> None:
    """Every scored workload, every study and trial, reaching its target at ``time``."""
    for w in rules.scored_workloads:
        t = rules.targets[w]
        per_study = [[time] * (trials or rules.num_trials)] * (studies or rules.num_studies)
        write_workload(root, w, per_study, t.metric, t.value, t.minimized)


def _score(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(["score", *map(str, argv)])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def _one_sentence_error(err: str) -> str:
    assert err.startswith("paceline score: ")
    assert "Traceback" not in err
    return err.strip()


# -- layouts -------------------------------------------------------------------------------

def test_submission_without_study_folders_is_one_study(tmp_path):
    write_trial(tmp_path / "algo", "ogbg_jax", 1, _reach(50.0), study=None)
    write_trial(tmp_path / "algo", "ogbg_jax", 2, _reach(40.0), study=None)
    times = load_submission_times(tmp_path / "algo", V06)
    assert times.times["ogbg"] == 40.0
    assert len(times.workloads["ogbg"].studies) == 1


def test_folder_of_submissions_and_stray_files(tmp_path):
    group = tmp_path / "external_tuning"
    write_trial(group / "a", "ogbg_jax", 1, _reach(50.0))
    write_trial(group / "b", "ogbg_pytorch", 1, _reach(80.0))
    (group / "a" / "study_0" / "ogbg_jax" / "ogbg_jax_05-06-2024.log").write_text("console")
    (group / "a" / "study_0" / "ogbg_jax" / "plots").mkdir()
    write_trial(group / "a", "ogbg_jax", "trial_1_old", _reach(1.0))  # not a trial folder
    (group / "a" / "study_0" / "trial_5").mkdir()  # stray trial folder inside a study
    (group / "README.md").write_text("notes")
    subs = load_submissions_times([group], V06)
    assert [s.name for s in subs] == ["a", "b"]
    assert subs[0].times["ogbg"] == 50.0 and subs[1].times["ogbg"] == 80.0
    notes = " ".join(subs[0].notes)
    assert "plots is not a trial_<n> folder" in notes
    assert "trial_1_old is not a trial_<n> folder" in notes
    assert "study_0/trial_5 is a trial folder outside any workload folder" in notes


def test_timestamped_reruns_merge_into_their_submission(tmp_path):
    write_trial(tmp_path / "algo", "ogbg_jax", 1, _reach(50.0))
    write_trial(tmp_path / "algo-2024-05-06-02-40-53", "ogbg_jax", 2, _reach(30.0))
    subs = load_submissions_times([tmp_path], V06)
    assert [s.name for s in subs] == ["algo"]
    study = subs[0].workloads["ogbg"].studies[0]
    assert [t.trial for t in study.trials] == ["trial_1", "trial_2"]
    assert subs[0].times["ogbg"] == 30.0


def test_same_name_in_two_folders_is_told_apart(tmp_path):
    write_trial(tmp_path / "v05" / "baseline", "ogbg_jax", 1, _reach(50.0))
    write_trial(tmp_path / "v06" / "baseline", "ogbg_jax", 1, _reach(70.0))
    names = [t.name for t in find_submissions([tmp_path / "v05" / "baseline",
                                               tmp_path / "v06" / "baseline"])]
    assert names == ["v05/baseline", "v06/baseline"]


def test_two_frameworks_of_one_workload_is_an_error(tmp_path):
    write_trial(tmp_path / "algo", "ogbg_jax", 1, _reach(50.0))
    write_trial(tmp_path / "algo", "ogbg_pytorch", 1, _reach(50.0), study="study_1")
    with pytest.raises(PacelineError, match="several frameworks"):
        load_submission_times(tmp_path / "algo", V06)


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p.mkdir(), "is empty"),
    (lambda p: None, "does not exist"),
    (lambda p: p.write_text("x"), "is not a folder"),
    (lambda p: (p / "ogbg_jax" / "trial_1").mkdir(parents=True), "is a workload folder"),
    (lambda p: (p / "a" / "b").mkdir(parents=True), "has no trial_<n> folders"),
])
def test_paths_that_are_not_experiments_give_one_sentence(tmp_path, capsys, make, message):
    target = tmp_path / "x"
    make(target)
    path = target / "ogbg_jax" if message == "is a workload folder" else target
    rc, _, err = _score(capsys, path)
    assert rc == 2 and message in _one_sentence_error(err)


# -- CSV contents ----------------------------------------------------------------------------

def _trial_csv(tmp_path: Path, text: str | bytes) -> Path:
    path = write_trial(tmp_path / "algo", "ogbg_jax", 1, _reach(10.0)) / "eval_measurements.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


HEADER = "global_step,score,validation/mean_average_precision\n"


@pytest.mark.parametrize(("text", "message"), [
    (HEADER + "1,10.0,0.1\n2,20.0,0.3,99\n", "Line 3 of .* has 4 cells but the header has 3"),
    (HEADER + "1,ten,0.1\n", "'ten' in column 'score' is not a number"),
    ("global_step,score,validation/loss\n1,10,0.1\n",
     "no column 'validation/mean_average_precision' \\(the target metric of ogbg\\)"),
    ("global_step,validation/mean_average_precision\n1,0.3\n", "neither a 'score' nor"),
    (b"\x89PNG\r\n\x1a\n\xff\xfe\x00binary", "is not a text CSV file"),
])
def test_malformed_csvs_fail_with_the_file_and_line(tmp_path, capsys, text, message):
    _trial_csv(tmp_path, text)
    with pytest.raises(PacelineError, match=message):
        load_submission_times(tmp_path / "algo", V06)
    rc, _, err = _score(capsys, tmp_path / "algo", "--ruleset-version", "0.6")
    assert rc == 2 and "eval_measurements.csv" in _one_sentence_error(err)


def test_nan_metric_never_reaches_the_target(tmp_path):
    _trial_csv(tmp_path, HEADER + "1,10.0,nan\n2,20.0,\n3,30.0,0.3\n")
    times = load_submission_times(tmp_path / "algo", V06)
    trial = times.workloads["ogbg"].studies[0].trials[0]
    assert (trial.index, trial.time_sec, trial.num_evals) == (2, 30.0, 3)


def test_nan_time_at_the_reaching_eval_is_an_error(tmp_path):
    _trial_csv(tmp_path, HEADER + "1,10.0,0.1\n2,,0.3\n")
    with pytest.raises(PacelineError, match="reaches the target but its 'score' time is empty"):
        load_submission_times(tmp_path / "algo", V06)


def test_time_falls_back_to_accumulated_submission_time(tmp_path):
    _trial_csv(tmp_path, "accumulated_submission_time,validation/mean_average_precision\n"
                         "5.0,0.1\n7.5,0.3\n")
    assert load_submission_times(tmp_path / "algo", V06).times["ogbg"] == 7.5


def test_zero_byte_csv_is_missing_and_header_only_csv_is_a_trial_without_evals(tmp_path):
    root = tmp_path / "algo"
    write_trial(root, "ogbg_jax", 1, _reach(10.0))
    write_trial(root, "ogbg_jax", 2, _reach(10.0)).joinpath("eval_measurements.csv").write_text("")
    write_trial(root, "ogbg_jax", 3, _reach(10.0)).joinpath(
        "eval_measurements.csv").write_text(HEADER)
    times = load_submission_times(root, V06)
    trials = times.workloads["ogbg"].studies[0].trials
    assert [(t.trial, t.num_evals) for t in trials] == [("trial_1", 2), ("trial_3", 0)]
    assert any("trial_2/eval_measurements.csv is empty" in n for n in times.notes)


def test_workload_with_no_csv_in_any_trial_counts_as_missing(tmp_path, capsys):
    root = tmp_path / "algo"
    write_trial(root, "ogbg_jax", 1, _reach(10.0))
    (root / "study_0" / "wmt_jax" / "trial_1").mkdir(parents=True)
    times = load_submission_times(root, V06)
    assert "wmt" not in times.times
    assert any("no trial of wmt has an eval_measurements.csv" in n for n in times.notes)
    assert any("no logs for the workload wmt" in p for p in times.problems)


# -- workloads, targets, strict --------------------------------------------------------------

def test_unknown_workload_is_ignored_with_a_warning_and_fails_strict(tmp_path, capsys):
    write_trial(tmp_path / "algo", "ogbg_jax", 1, _reach(10.0))
    write_trial(tmp_path / "algo", "my_lm_jax", 1, curve_rows([5.0], [20.0], "ppl"))
    rc, out, _ = _score(capsys, tmp_path / "algo", "--ruleset-version", "0.6")
    assert rc == 0
    assert "my_lm is not a workload of the 0.6 rules and no target is known" in out
    rc, _, err = _score(capsys, tmp_path / "algo", "--ruleset-version", "0.6", "--strict")
    assert rc == 2 and "my_lm is not a workload" in err


def test_targets_json_adds_a_workload_and_replaces_the_base_list(tmp_path, capsys):
    write_trial(tmp_path / "g" / "a", "my_lm_jax", 1, curve_rows([5.0, 9.0], [30.0, 20.0], "ppl"))
    write_trial(tmp_path / "g" / "b", "my_lm_jax", 1, curve_rows([9.0, 18.0], [30.0, 20.0], "ppl"))
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps({
        "base_workloads": ["my_lm"], "held_out_workloads": [],
        "workloads": {"my_lm": {"target_metric_name": "ppl", "validation_target_value": 22.0,
                                "budget_sec": 100}}}))
    out = tmp_path / "s.json"
    rc, text, _ = _score(capsys, tmp_path / "g", "--ruleset-version", "0.6", "--targets",
                         targets, "--json", out, "--baseline", "b")
    assert rc == 0
    data = json.loads(out.read_text())
    assert data["base_workloads"] == ["my_lm"]
    assert data["submissions"]["a"]["score"] == pytest.approx(1.0)
    assert data["submissions"]["b"]["workloads"]["my_lm"]["ratio"] == 2.0
    assert data["submissions"]["a"]["speedup"]["geomean"] == 2.0
    assert data["targets"]["my_lm"]["minimized"] is True  # 'ppl' is minimised


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "is not valid JSON"),
    ("[1, 2]", "must hold a JSON object"),
    ('{"workloads": {"ogbg": "high"}}', "must be a number or an object"),
    ('{"workloads": {"ogbg": {"validation_target_value": NaN}}}', "must be a finite number"),
    ('{"workloads": {"new": 1.0}}', "'new' needs 'target_metric_name'"),
    ('{"workloads": {"new": {"target_metric_name": "zap", "validation_target_value": 1}}}',
     "cannot tell whether 'zap'"),
    ('{"base_workloads": ["nope"], "workloads": {}}', "names nope, which have no target"),
])
def test_bad_targets_files_give_one_sentence(tmp_path, capsys, content, message):
    write_trial(tmp_path / "algo", "ogbg_jax", 1, _reach(10.0))
    targets = tmp_path / "t.json"
    targets.write_text(content)
    rc, _, err = _score(capsys, tmp_path / "algo", "--targets", targets)
    assert rc == 2 and message in _one_sentence_error(err)


def test_missing_targets_file_gives_one_sentence(tmp_path, capsys):
    write_trial(tmp_path / "algo", "ogbg_jax", 1, _reach(10.0))
    rc, _, err = _score(capsys, tmp_path / "algo", "--targets", tmp_path / "none.json")
    assert rc == 2 and "does not exist" in _one_sentence_error(err)


def test_strict_lists_every_missing_workload_study_and_trial(tmp_path, capsys):
    root = tmp_path / "algo"
    _full_submission(root, V06)
    for trial in (4, 5):  # study_1 of wmt keeps 3 trials
        (root / "study_1" / "wmt_jax" / f"trial_{trial}" / "eval_measurements.csv").unlink()
    for path in (root / "study_2" / "fastmri_jax").rglob("eval_measurements.csv"):
        path.unlink()  # fastmri has 2 studies
    for path in (root).rglob("criteo1tb_jax/*/eval_measurements.csv"):
        path.unlink()  # criteo1tb is missing
    rc, out, _ = _score(capsys, root, "--ruleset-version", "0.6")
    assert rc == 0 and "Warnings (3)" in out
    rc, _, err = _score(capsys, root, "--ruleset-version", "0.6", "--strict")
    assert rc == 2
    assert "found 3 problems" in err
    assert "algo has no logs for the workload criteo1tb" in err
    assert "algo: fastmri has 2 studies with logs, not 3 (the median is over 2)." in err
    assert "algo: study_1 of wmt has 3 trials with logs, not 5." in err


def test_complete_submission_passes_strict_and_scores_one(tmp_path, capsys):
    _full_submission(tmp_path / "algo", V06)
    rc, out, _ = _score(capsys, tmp_path / "algo", "--ruleset-version", "0.6", "--strict")
    assert rc == 0 and "1.0000" in out and "Warnings" not in out


def test_self_tuning_does_not_count_trials(tmp_path, capsys):
    _full_submission(tmp_path / "algo", V06, trials=1)
    rc, out, _ = _score(capsys, tmp_path / "algo", "--ruleset-version", "0.6", "--self-tuning",
                        "--strict")
    assert rc == 0 and "self-tuning" in out


def test_median_over_studies_averages_an_even_count_and_keeps_misses(tmp_path):
    t = V06.targets["ogbg"]
    write_workload(tmp_path / "a", "ogbg", [[10.0], [30.0]], t.metric, t.value, False)
    write_workload(tmp_path / "b", "ogbg", [[10.0], [None], [30.0]], t.metric, t.value, False)
    write_workload(tmp_path / "c", "ogbg", [[10.0], [None], [None]], t.metric, t.value, False)
    assert load_submission_times(tmp_path / "a", V06).times["ogbg"] == 20.0
    assert load_submission_times(tmp_path / "b", V06).times["ogbg"] == 30.0
    assert math.isinf(load_submission_times(tmp_path / "c", V06).times["ogbg"])


def test_earliest_eval_rule_differs_from_fastest_when_evals_are_uneven(tmp_path):
    metric = "mean_average_precision"
    write_trial(tmp_path / "a", "ogbg_jax", 1, curve_rows([1.0, 90.0], [0.1, 0.3], metric))
    write_trial(tmp_path / "a", "ogbg_jax", 2, curve_rows([10, 20, 30], [0.1, 0.1, 0.3], metric))
    assert load_submission_times(tmp_path / "a", V06).times["ogbg"] == 90.0
    assert load_submission_times(tmp_path / "a", V06, trial_rule="fastest").times["ogbg"] == 30.0


def test_ties_at_the_earliest_eval_go_to_the_faster_trial(tmp_path):
    metric = "mean_average_precision"
    write_trial(tmp_path / "a", "ogbg_jax", 2, curve_rows([5.0, 80.0], [0.1, 0.3], metric))
    write_trial(tmp_path / "a", "ogbg_jax", 5, curve_rows([5.0, 60.0], [0.1, 0.3], metric))
    study = load_submission_times(tmp_path / "a", V06).workloads["ogbg"].studies[0]
    assert study.chosen.trial == "trial_5" and study.time_sec == 60.0


def test_budget_is_enforced_unless_ignored(tmp_path, capsys):
    late = OGBG.budget_sec + 10
    write_trial(tmp_path / "a", "ogbg_jax", 1, _reach(late))
    assert math.isinf(load_submission_times(tmp_path / "a", V06).times["ogbg"])
    ignored = load_submission_times(tmp_path / "a", V06, enforce_budget=False)
    assert ignored.times["ogbg"] == late
    rc, out, _ = _score(capsys, tmp_path / "a", "--ruleset-version", "0.6", "--ignore-budget")
    assert rc == 0 and "budget not checked" in out


# -- dev scale and paceline metadata ----------------------------------------------------------

def _dev_meta(target: float, budget: float = 50.0, version: str = "0.6") -> dict:
    return {"workload.target_metric_name": "mean_average_precision",
            "workload.validation_target_value": target, "workload.test_target_value": target,
            "paceline.scale": "dev", "paceline.metric_minimized": False,
            "paceline.budget_sec": budget, "paceline.ruleset": "external",
            "paceline.ruleset_version": version}


def test_dev_scale_tree_scores_with_its_own_targets_and_budget(tmp_path, capsys):
    metric = "mean_average_precision"  # the official ogbg target is 0.28098
    fast = curve_rows([10.0, 20.0, 60.0], [0.05, 0.12, 0.5], metric)
    slow = curve_rows([10.0, 20.0, 60.0], [0.05, 0.08, 0.5], metric)
    write_trial(tmp_path / "dev" / "a", "ogbg_pytorch", 1, fast, meta=_dev_meta(0.1))
    write_trial(tmp_path / "dev" / "b", "ogbg_pytorch", 1, slow, meta=_dev_meta(0.1))
    subs = load_submissions_times([tmp_path / "dev"], V06)
    assert subs[0].times["ogbg"] == 20.0  # dev target 0.1, not the official 0.28098
    assert math.isinf(subs[1].times["ogbg"])  # reaches 0.1 only at 60 s > the 50 s dev budget
    assert subs[0].workloads["ogbg"].target.source == "dev meta_data"
    out = tmp_path / "s.json"
    rc, text, _ = _score(capsys, tmp_path / "dev", "--json", out)  # version from meta_data
    assert rc == 0 and "AlgoPerf 0.6 rules" in text and "dev-scale trials use" in text
    data = json.loads(out.read_text())
    assert data["targets"]["ogbg"] == {"metric": "validation/mean_average_precision",
                                       "value": 0.1, "minimized": False, "budget_sec": 50.0,
                                       "source": "dev meta_data"}
    assert data["submissions"]["a"]["workloads"]["ogbg"]["ratio"] == 1.0


def test_submissions_run_against_different_dev_targets_are_not_compared(tmp_path, capsys):
    write_trial(tmp_path / "dev" / "a", "ogbg_jax", 1, _reach(10.0), meta=_dev_meta(0.1))
    write_trial(tmp_path / "dev" / "b", "ogbg_jax", 1, _reach(10.0), meta=_dev_meta(0.2))
    rc, _, err = _score(capsys, tmp_path / "dev")
    assert rc == 2 and "different ogbg targets" in _one_sentence_error(err)
    targets = tmp_path / "t.json"
    targets.write_text('{"workloads": {"ogbg": 0.25}}')
    rc, _, _ = _score(capsys, tmp_path / "dev", "--targets", targets)
    assert rc == 0


def test_targets_file_overrides_dev_meta(tmp_path):
    rows = curve_rows([10.0, 20.0], [0.05, 0.12], "mean_average_precision")
    write_trial(tmp_path / "a", "ogbg_pytorch", 1, rows, meta=_dev_meta(0.1))
    rules = apply_targets(V06, {"ogbg": 0.11}, source="targets test")
    times = load_submission_times(tmp_path / "a", rules)
    assert times.times["ogbg"] == 20.0
    assert times.workloads["ogbg"].target.value == 0.11
    assert times.workloads["ogbg"].target.budget_sec == 50.0  # the dev budget stays
    rules = apply_targets(V06, {"ogbg": {"validation_target_value": 0.11, "budget_sec": 15}},
                          source="targets test")
    assert math.isinf(load_submission_times(tmp_path / "a", rules).times["ogbg"])


def test_the_targets_commands_json_is_a_targets_file(tmp_path):
    """`paceline targets suite --anchor ... --json` names each derived target
    ``validation_target``; read as a targets file it scores runs against the candidates."""
    rows = curve_rows([10.0, 20.0], [0.05, 0.12], "mean_average_precision")
    write_trial(tmp_path / "a", "ogbg_pytorch", 1, rows, meta=_dev_meta(0.1))
    derived = {"command": "paceline targets suite --anchor L", "workloads": {"ogbg": {
        "rule": "share", "official_budget_sec": 999.0, "validation_target": 0.11,
        "test_target": 0.1, "previous": {"validation_target_value": 0.1}}}}
    rules = apply_targets(V06, derived, source="targets test")
    times = load_submission_times(tmp_path / "a", rules)
    assert times.workloads["ogbg"].target.value == 0.11 and times.times["ogbg"] == 20.0
    assert times.workloads["ogbg"].target.budget_sec == 50.0  # not the official budget


def test_dev_and_official_logs_cannot_be_mixed(tmp_path, capsys):
    write_trial(tmp_path / "g" / "a", "ogbg_jax", 1, _reach(10.0), meta=_dev_meta(0.1))
    write_trial(tmp_path / "g" / "b", "ogbg_jax", 1, _reach(10.0))
    rc, _, err = _score(capsys, tmp_path / "g")
    assert rc == 2 and "cannot be scored together" in _one_sentence_error(err)


def test_dev_trials_with_different_targets_are_an_error(tmp_path):
    write_trial(tmp_path / "a", "ogbg_jax", 1, _reach(10.0), meta=_dev_meta(0.1))
    write_trial(tmp_path / "a", "ogbg_jax", 2, _reach(10.0), meta=_dev_meta(0.2))
    with pytest.raises(PacelineError, match="different targets"):
        load_submission_times(tmp_path / "a", V06)


def test_broken_meta_data_is_an_error(tmp_path):
    path = write_trial(tmp_path / "a", "ogbg_jax", 1, _reach(10.0))
    (path / "meta_data_0.json").write_text("{oops")
    with pytest.raises(PacelineError, match="meta_data_0.json is not valid JSON"):
        load_submission_times(tmp_path / "a", V06)


def test_scoring_under_other_rules_than_recorded_warns(tmp_path, capsys):
    write_trial(tmp_path / "a", "ogbg_jax", 1, _reach(10.0), meta=_dev_meta(0.1, version="0.6"))
    rc, out, _ = _score(capsys, tmp_path / "a", "--ruleset-version", "0.5")
    assert rc == 0 and "was run with ruleset_version 0.6 but is scored under 0.5" in out


# -- v0.5 held-out rule end to end ------------------------------------------------------------

def test_v05_base_workload_counts_only_with_its_held_out_variant(tmp_path, capsys):
    rules = scoring_rules("0.5")
    for name in ("a", "b"):
        _full_submission(tmp_path / "g" / name, rules, studies=1, trials=1)
    variant = tmp_path / "g" / "b" / "study_0" / "ogbg_model_size_jax"
    for csv_path in variant.rglob("eval_measurements.csv"):
        csv_path.unlink()
    out = tmp_path / "s.json"
    rc, text, _ = _score(capsys, tmp_path / "g", "--ruleset-version", "0.5", "--json", out)
    assert rc == 0
    assert "b on ogbg: its held-out variant ogbg_model_size has no logs." in text
    data = json.loads(out.read_text())
    assert data["held_out_workloads"] == list(rules.held_out_workloads)
    assert data["submissions"]["a"]["score"] == pytest.approx(1.0)
    assert data["submissions"]["b"]["workloads"]["ogbg"]["counted_time_sec"] == "inf"
    assert data["submissions"]["b"]["score"] == pytest.approx(7 / 8, abs=0.01)


def test_only_workloads_run_scores_over_them_without_the_held_out_rule(tmp_path, capsys):
    """Two submissions that ran ogbg only: over the v0.5 suite both score about 1/8 (seven
    workloads missing, ogbg zeroed without its variant); over the workloads run they are
    scored against each other on ogbg, as a dev study of a few workloads needs."""
    for name, time in (("fast", 10.0), ("slow", 25.0)):
        write_trial(tmp_path / "g" / name, "ogbg_jax", 1, _reach(time))
    out = tmp_path / "s.json"
    rc, _, _ = _score(capsys, tmp_path / "g", "--ruleset-version", "0.5", "--json", out)
    whole = json.loads(out.read_text())["submissions"]
    assert rc == 0 and whole["fast"]["score"] == whole["slow"]["score"] == 0.0
    rc, _, _ = _score(capsys, tmp_path / "g", "--ruleset-version", "0.5", "--json", out,
                      "--only-workloads-run", "--score-method", "exact")
    data = json.loads(out.read_text())
    assert rc == 0 and data["held_out_workloads"] == [] and data["base_workloads"] == ["ogbg"]
    assert data["submissions"]["fast"]["score"] == pytest.approx(1.0)
    assert data["submissions"]["slow"]["score"] == pytest.approx((4.0 - 2.5) / 3.0)


# -- outputs ------------------------------------------------------------------------------------

def test_unknown_baseline_and_unwritable_outputs_give_one_sentence(tmp_path, capsys):
    write_trial(tmp_path / "a", "ogbg_jax", 1, _reach(10.0))
    rc, _, err = _score(capsys, tmp_path / "a", "--baseline", "nadamw")
    assert rc == 2 and "'nadamw' is not among the scored submissions" in err
    rc, _, err = _score(capsys, tmp_path / "a", "--json", tmp_path / "no" / "s.json")
    assert rc == 2 and "Cannot write" in _one_sentence_error(err)
    rc, _, err = _score(capsys, tmp_path / "a", "--plot", tmp_path / "no" / "p.png")
    assert rc == 2 and "Cannot write the plot" in _one_sentence_error(err)
    rc, _, err = _score(capsys, tmp_path / "a", "--html", tmp_path / "no" / "r.html")
    assert rc == 2 and "Cannot write" in _one_sentence_error(err)


def test_html_report_shows_scores_times_misses_and_the_plot(tmp_path, capsys):
    rules = scoring_rules("0.6")
    _full_submission(tmp_path / "g" / "fast", rules, time=100.0)
    _full_submission(tmp_path / "g" / "slow", rules, time=250.0)
    # 'slow' misses ogbg: its logs there never reach the target
    for trial in (tmp_path / "g" / "slow").glob("study_*/ogbg_*/trial_*"):
        write_trial(trial.parent.parent.parent, trial.parent.name, trial.name,
                    curve_rows([50.0, 100.0], [0.1, 0.2], "mean_average_precision"),
                    study=trial.parent.parent.name)
    out = tmp_path / "report.html"
    rc, text, _ = _score(capsys, tmp_path / "g", "--ruleset-version", "0.6", "--html", out)
    assert rc == 0 and f"Wrote {out}." in text
    page = out.read_text()
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    assert page.index(">fast<") < page.index(">slow<")  # ranked
    assert "<b>1.0000</b>" in page  # 'fast' is fastest everywhere
    assert 'class="miss">missed' in page and "2.50" in page  # the miss and a ratio
    assert 'id="fig-profile"' in page and 'class="plotly-figure"' in page
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?(https?:)?//""", page)


def test_score_imports_neither_torch_nor_jax_nor_pandas(tmp_path):
    write_trial(tmp_path / "a", "ogbg_jax", 1, _reach(10.0))
    code = ("import sys; from sdk.cli.main import main; "
            f"rc = main(['score', {str(tmp_path / 'a')!r}, '--json', "
            f"{str(tmp_path / 's.json')!r}]); "
            "heavy = [m for m in ('torch', 'jax', 'pandas', 'matplotlib') if m in sys.modules]; "
            "print('HEAVY', heavy); sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[1], check=False)
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout


def test_v05_without_held_out_logs_suggests_the_v06_rules(tmp_path, capsys):
    _full_submission(tmp_path / "a", V06, studies=1, trials=1)
    rc, out, _ = _score(capsys, tmp_path / "a", "--ruleset-version", "0.5")
    assert rc == 0 and "pass --ruleset-version 0.6" in out


def test_self_tuning_can_be_switched_off_against_the_metadata(tmp_path, capsys):
    meta = _dev_meta(0.1) | {"paceline.ruleset": "self"}
    write_trial(tmp_path / "a", "ogbg_jax", 1, _reach(10.0), meta=meta)
    rc, out, _ = _score(capsys, tmp_path / "a")
    assert rc == 0 and "self-tuning" in out
    rc, out, _ = _score(capsys, tmp_path / "a", "--no-self-tuning")
    assert rc == 0 and "external tuning" in out and "was run with ruleset self" in out


def test_a_runs_score_against_references_ignores_the_held_out_rule(tmp_path, monkeypatch):
    """`paceline run` trains no variants, so v0.5's held-out rule must not zero its workloads."""
    from types import SimpleNamespace

    import sdk.references as refs
    from sdk.cli import run_cmd

    names = ["imagenet_resnet", "ogbg"]
    rules = run_cmd.run_rules("0.5", "external", names)
    assert rules.held_out_workloads == ()
    ref = {"baselines": {"slowpoke": {w: {"time_to_target_sec": 200.0, "target": 0.5}
                                      for w in names}}}
    (tmp_path / "dev_external_v0.5.json").write_text(json.dumps(ref))
    monkeypatch.setattr(refs, "find_reference_file",
                        lambda *a, **k: tmp_path / "dev_external_v0.5.json")
    mine = SimpleNamespace(times={"imagenet_resnet": 100.0, "ogbg": 100.0}, workloads={
        w: SimpleNamespace(target=SimpleNamespace(value=0.5)) for w in names})
    ctx = SimpleNamespace(table=SimpleNamespace(version="0.5"), workloads=names,
                          submission=SimpleNamespace(name="mine"))
    text = run_cmd.score_against_references(
        ctx, SimpleNamespace(scale="dev", ruleset="external"), rules, mine)
    row = next(line for line in text.splitlines() if line.startswith("mine (this run)"))
    assert row.split()[3] == "1"  # fastest on both: score 1 (the held-out rule would zero it)
    assert "held-out rule not applied" in text
