"""`paceline score` reproduces the published AlgoPerf leaderboards and the reference scorer.

Reads ``../shared/algoperf_reference_logs`` (skipped when absent): the scores in
``expected_scores.json`` and the reference scorer's ``time_to_targets.csv`` and
``performance_profile_score.csv`` for every dataset there.

    .venv/bin/python -m pytest tests/test_scoring_reference.py -q
"""

from __future__ import annotations

import csv
import functools
import json
import math
import os
from pathlib import Path

import pytest

from sdk.cli.main import main
from sdk.scoring import load_submissions_times, score_submissions, scoring_rules

pytestmark = pytest.mark.reference_logs

DATASETS = ["v06_external_tuning", "v06_self_tuning", "rolling_a100_self_tuning"]
TOLERANCE = 1e-4


def _expected(logs: Path) -> dict:
    return json.loads((logs / "expected_scores.json").read_text())


@functools.cache
def _board(logs: Path, dataset: str, with_targets_file: bool = True, rule: str = "earliest-eval"):
    spec = _expected(logs)[dataset]
    targets = logs / spec["targets"] if with_targets_file else None
    rules = scoring_rules("0.6", spec["self_tuning"], targets)
    subs = load_submissions_times([logs / spec["logs"]], rules, trial_rule=rule)
    return score_submissions(subs, rules)


def _read_table(path: Path) -> dict[str, dict[str, float]]:
    with open(path, newline="") as f:
        return {row.pop("submission"): {k: float(v) for k, v in row.items()}
                for row in csv.DictReader(f)}


def test_every_dataset_with_expected_scores_is_checked(reference_logs):
    datasets = {k for k, v in _expected(reference_logs).items() if isinstance(v, dict)
                and "logs" in v}
    assert datasets == set(DATASETS)


@pytest.mark.parametrize("dataset", DATASETS)
def test_scores_match_the_reference_scorer(reference_logs, dataset):
    expected = _expected(reference_logs)[dataset]["reference_unrounded"]
    scores = _board(reference_logs, dataset).scores.scores
    assert set(scores) == set(expected)
    for submission, value in expected.items():
        assert scores[submission] == pytest.approx(value, abs=TOLERANCE), submission


def test_published_v06_external_leaderboard(reference_logs):
    published = _expected(reference_logs)["v06_external_tuning"]["published"]
    assert published == {"shampoo": 0.6244, "baseline": 0.459}
    board = _board(reference_logs, "v06_external_tuning")
    for submission, value in published.items():
        assert round(board.scores.scores[submission], 4) == value
    assert board.scores.ranking() == ["shampoo", "baseline"]


@pytest.mark.parametrize("dataset", ["v06_external_tuning", "v06_self_tuning"])
def test_built_in_v06_targets_score_like_the_targets_file(reference_logs, dataset):
    """The ruleset tables hold the official v0.6 targets: no --targets file is needed."""
    expected = _expected(reference_logs)[dataset]["reference_unrounded"]
    scores = _board(reference_logs, dataset, with_targets_file=False).scores.scores
    for submission, value in expected.items():
        assert scores[submission] == pytest.approx(value, abs=TOLERANCE)


@pytest.mark.parametrize("dataset", DATASETS)
def test_time_to_target_tables_match_the_reference(reference_logs, dataset):
    reference = _read_table(reference_logs / "reference_outputs" / dataset /
                            "time_to_targets.csv")
    times = _board(reference_logs, dataset).times
    assert set(times) == set(reference)
    for submission, row in reference.items():
        for workload, value in row.items():
            mine = times[submission].get(workload, math.nan)
            if math.isinf(value):
                assert math.isinf(mine), (submission, workload, mine)
            else:
                assert mine == pytest.approx(value, rel=1e-12), (submission, workload)


@pytest.mark.parametrize("dataset", DATASETS)
def test_performance_profiles_match_the_reference(reference_logs, dataset):
    path = reference_logs / "reference_outputs" / dataset / "performance_profile_score.csv"
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    taus = [float(t) for t in rows[0][1:]]
    scores = _board(reference_logs, dataset).scores
    assert taus == pytest.approx(list(scores.taus), abs=1e-12)
    for row in rows[1:]:
        assert list(scores.profiles[row[0]]) == pytest.approx([float(v) for v in row[1:]],
                                                             abs=1e-12), row[0]


def test_fastest_trial_rule_gives_the_same_v06_scores(reference_logs):
    """In the v0.6 logs the earliest-eval trial is always the fastest one (v0.5 differs)."""
    earliest = _board(reference_logs, "v06_external_tuning")
    fastest = _board(reference_logs, "v06_external_tuning", rule="fastest")
    assert fastest.trial_rule == "fastest"
    assert fastest.times == earliest.times
    assert fastest.scores.scores == earliest.scores.scores


def test_cli_scores_the_v06_external_logs(reference_logs, tmp_path, capsys):
    spec = _expected(reference_logs)["v06_external_tuning"]
    out = tmp_path / "scores.json"
    plot = tmp_path / "profiles.png"
    rc = main(["score", str(reference_logs / spec["logs"]), "--ruleset-version", "0.6",
               "--targets", str(reference_logs / spec["targets"]), "--baseline", "baseline",
               "--json", str(out), "--plot", str(plot), "--html", str(tmp_path / "r.html")])
    text = capsys.readouterr().out
    assert rc == 0
    assert "0.6244" in text and "0.4590" in text
    assert "study_2 of imagenet_vit has 4 trials with logs, not 5" in text
    data = json.loads(out.read_text())
    assert data["ranking"] == ["shampoo", "baseline"]
    assert data["submissions"]["shampoo"]["score"] == pytest.approx(0.6243686868686883,
                                                                    abs=TOLERANCE)
    assert data["submissions"]["baseline"]["workloads"]["ogbg"]["time_to_target_sec"] == \
        pytest.approx(4575.802174806595)
    assert data["submissions"]["baseline"]["speedup"]["geomean"] == pytest.approx(1.0)
    assert data["submissions"]["shampoo"]["speedup"]["geomean"] > 1.0
    assert plot.stat().st_size > 10_000
    page = (tmp_path / "r.html").read_text()
    assert "<b>0.6244</b>" in page and "<b>0.4590</b>" in page and "1.181x" not in page[:200]


def test_cli_strict_lists_every_shortfall_of_the_v06_logs(reference_logs, capsys):
    spec = _expected(reference_logs)["v06_external_tuning"]
    rc = main(["score", str(reference_logs / spec["logs"]), "--ruleset-version", "0.6",
               "--strict"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "found 4 problems" in err
    assert "shampoo: study_2 of imagenet_vit has 4 trials with logs, not 5." in err
    assert err.count("baseline: study_") == 3


V05_PUBLISHED = {
    "external_tuning": {
        "shampoo_submission": 0.7784, "schedule_free_adamw": 0.7077, "generalized_adam": 0.6383,
        "cyclic_lr": 0.6301, "nadamp": 0.5909, "baseline": 0.5707, "amos": 0.4918,
        "caspr_adaptive": 0.4722, "lawa_queue": 0.3699, "lawa_ema": 0.3384,
        "schedule_free_prodigy": 0.0},
    "self_tuning": {
        "schedule_free_adamw": 0.8542, "baseline": 0.8194, "nadamw_sequential": 0.3308,
        "sinv6_75": 0.1420, "sinv6": 0.0903, "adamg": 0.0},
}


@pytest.mark.parametrize("ruleset", sorted(V05_PUBLISHED))
def test_published_v05_leaderboards_with_the_held_out_rule(ruleset):
    """Optional: the v0.5 logs (held-out variants included) are not in the shared folder.

    Extract them from the submissions_algorithms mirror and point PACELINE_ALGOPERF_V05_LOGS
    at ``previous_leaderboards/algoperf_v05/logs`` (docs/scoring.md shows the command).
    """
    root = os.environ.get("PACELINE_ALGOPERF_V05_LOGS")
    if not root or not Path(root, ruleset).is_dir():
        pytest.skip("set PACELINE_ALGOPERF_V05_LOGS to the v0.5 result logs to run this")
    rules = scoring_rules("0.5", ruleset == "self_tuning")
    board = score_submissions(load_submissions_times([Path(root, ruleset)], rules), rules)
    for submission, value in V05_PUBLISHED[ruleset].items():
        assert board.scores.scores[submission] == pytest.approx(value, abs=TOLERANCE)
    if ruleset == "external_tuning":  # the trial rule matters here
        subs = load_submissions_times([Path(root, ruleset)], rules, trial_rule="fastest")
        fastest = score_submissions(subs, rules).scores.scores
        assert fastest["lawa_ema"] == pytest.approx(0.3434, abs=TOLERANCE)


@pytest.mark.parametrize(("version", "filename"), [
    ("0.5", "workload_targets_v05.json"), ("0.6", "workload_targets_v06_8wl_DERIVED.json"),
    ("a100-2026", "workload_targets_latest_9wl.json")])
def test_built_in_targets_equal_the_reference_targets_files(reference_logs, version, filename):
    """Every base workload and variant target in code matches AlgoPerf's frozen targets."""
    raw = json.loads((reference_logs / "workload_targets" / filename).read_text())
    rules = scoring_rules(version)
    assert list(rules.base_workloads) == raw["base_workloads"]
    assert sorted(rules.held_out_workloads) == sorted(raw["held_out_workloads"])
    shared = [w for w in raw["workloads"] if w in rules.targets]
    assert len(shared) >= 33  # 8 base workloads, 24 variants, mnist
    for w in shared:
        ours, theirs = rules.targets[w], raw["workloads"][w]
        assert ours.metric == theirs["target_metric_name"], w
        assert ours.value == pytest.approx(theirs["validation_target_value"], abs=1e-12), w


def test_latest_rules_score_the_rolling_a100_logs_without_a_targets_file(reference_logs,
                                                                          tmp_path, capsys):
    """`--ruleset-version latest` holds the 2026 round's nine workloads, budgets and targets."""
    spec = _expected(reference_logs)["rolling_a100_self_tuning"]
    out = tmp_path / "scores.json"
    rc = main(["score", str(reference_logs / spec["logs"]), "--self-tuning",
               "--ruleset-version", "latest", "--baseline", "nadamw", "--json", str(out)])
    capsys.readouterr()
    assert rc == 0
    data = json.loads(out.read_text())
    assert data["ruleset_version"] == "a100-2026"
    expected = spec["reference_unrounded"]
    assert set(data["submissions"]) == set(expected)
    for submission, value in expected.items():
        assert data["submissions"][submission]["score"] == pytest.approx(value, abs=TOLERANCE)
    speedups = {s: v["speedup"] for s, v in data["submissions"].items()}
    assert speedups["nadamw"]["geomean"] == pytest.approx(1.0)
    for submission, speedup in speedups.items():
        per_workload = speedup["per_workload"]
        assert set(per_workload) == set(data["base_workloads"]), submission
        assert "finewebedu_lm" in per_workload
        assert all(math.isfinite(v) and v > 0 for v in per_workload.values()), submission

