"""The reference scorer's own test data (``scoring_test_data/``) reads and scores as its
unit tests and the facts in AlgoPerf's scoring/test_scoring_utils.py and scoring/test_data/ say.

    .venv/bin/python -m pytest tests/test_scoring_test_data.py -q
"""

from __future__ import annotations

import math

import pytest

from sdk.cli.main import main
from sdk.scoring import load_submission_times, scoring_rules, trial_time
from sdk.scoring.console_log import log_curve, read_console_log
from sdk.scoring.reader import find_submissions
from sdk.scoring.targets import apply_targets

pytestmark = pytest.mark.reference_logs
LOG = "adamw_fastmri_jax_04-18-2023-13-10-58.log"


@pytest.fixture
def test_data(reference_logs):
    return reference_logs / "scoring_test_data"


def test_console_log_has_one_trial_with_18_evals(test_data):
    trials = read_console_log(test_data / LOG)
    assert list(trials) == ["1"]
    evals = trials["1"]
    assert len(evals["global_step"]) == 18
    assert all(len(values) == 18 for values in evals.values())
    assert evals["global_step"][:3] == [1, 331, 560] and evals["global_step"][-1] == 5428
    assert evals["validation/num_examples"][0] == 3554
    assert evals["score"][0] == pytest.approx(64.92, abs=0.01)
    assert evals["score"][-1] == pytest.approx(1389.24, abs=0.01)


def test_console_log_trial_never_reaches_the_fastmri_target(test_data):
    evals = read_console_log(test_data / LOG)["1"]
    target = scoring_rules("0.5").targets["fastmri"]
    result = trial_time(log_curve(evals, target.column), target)
    assert result.best_value == pytest.approx(0.72210, abs=1e-5)
    assert result.index is None and math.isinf(result.time_sec)


def test_experiment_dir_reads_like_the_reference(test_data):
    trees = find_submissions([test_data / "experiment_dir"])
    assert [t.name for t in trees] == ["experiment_dir"]
    trials = trees[0].trials
    assert [(t.study, t.workload, t.trial) for t in trials] == [
        ("study_0", "mnist", "trial_0"), ("study_0", "mnist", "trial_1")]


def test_mnist_study_misses_the_097_target(test_data):
    times = load_submission_times(test_data / "experiment_dir", scoring_rules("0.5"))
    study = times.workloads["mnist"].studies[0]
    assert [t.num_evals for t in study.trials] == [4275, 42]
    assert [round(t.best_value, 4) for t in study.trials] == [0.9506, 0.9122]
    assert study.chosen is None and math.isinf(times.times["mnist"])


@pytest.mark.parametrize(("threshold", "rule", "trial", "index", "time"), [
    (0.9, "earliest-eval", "trial_1", 24, 248.84),
    (0.9, "fastest", "trial_0", 556, 13.8929),
    (0.95, "earliest-eval", "trial_0", 3838, 34.2852),
    (0.95, "fastest", "trial_0", 3838, 34.2852),
])
def test_trial_rules_pick_the_documented_trial(test_data, threshold, rule, trial, index, time):
    """The reference's choice, which ignores the budget (mnist's is 60 s)."""
    rules = apply_targets(scoring_rules("0.5"), {"mnist": threshold})
    times = load_submission_times(test_data / "experiment_dir", rules, trial_rule=rule,
                                  enforce_budget=False)
    chosen = times.workloads["mnist"].studies[0].chosen
    assert (chosen.trial, chosen.index) == (trial, index)
    assert chosen.time_sec == pytest.approx(time, abs=1e-3)


def test_a_target_reached_after_the_budget_does_not_count(test_data):
    rules = apply_targets(scoring_rules("0.5"), {"mnist": 0.9})
    assert rules.targets["mnist"].budget_sec == 60
    times = load_submission_times(test_data / "experiment_dir", rules)
    study = times.workloads["mnist"].studies[0]
    assert study.trials[1].index is None  # trial_1 first reaches 0.9 at 248.84 s
    assert (study.chosen.trial, study.chosen.index) == ("trial_0", 556)


def test_cli_scores_the_experiment_dir_with_warnings(test_data, capsys):
    rc = main(["score", str(test_data / "experiment_dir")])
    out = capsys.readouterr().out
    assert rc == 0
    assert "experiment_dir has no logs for the workload ogbg" in out
    assert "mnist is not scored under the 0.5 rules" in out
    assert "0.0000" in out
