"""How far a disagreeing dev run was from its target (sdk/scoring/disagreements.py)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sdk.scoring.disagreements import (
    Disagreement,
    dev_best,
    disagreements,
    format_disagreements,
)
from sdk.scoring.targets import Target
from sdk.scoring.time_to_target import StudyTime, SubmissionTimes, TrialTime, WorkloadTime

ACC = Target("w", "accuracy", 0.8, False, 100.0, "test")
LOSS = Target("v", "loss", 0.5, True, 100.0, "test")


def _trial(best: float, time: float = math.inf) -> TrialTime:
    return TrialTime("trial_1", Path("."), 5, None, time, best, 100.0)


def _workload(target: Target, *study_bests: list[float]) -> WorkloadTime:
    studies = tuple(StudyTime(f"study_{i}", tuple(_trial(b) for b in bests), None)
                    for i, bests in enumerate(study_bests))
    return WorkloadTime(target.workload, "pytorch", target, studies, math.inf)


def test_shortfall_is_signed_by_the_metric_direction():
    assert Disagreement("e", "w", False, True, ACC, 0.72).shortfall == pytest.approx(0.1)
    assert Disagreement("e", "w", True, False, ACC, 0.88).shortfall == pytest.approx(-0.1)
    assert Disagreement("e", "v", False, True, LOSS, 0.55).shortfall == pytest.approx(0.1)
    assert Disagreement("e", "v", True, False, LOSS, 0.45).shortfall == pytest.approx(-0.1)
    assert math.isnan(Disagreement("e", "w", False, True, ACC, math.nan).shortfall)


def test_dev_best_is_the_median_over_studies_of_each_studys_best():
    # accuracy: each study's best trial (0.7, 0.6, 0.9), then the median
    assert dev_best(_workload(ACC, [0.5, 0.7], [0.6], [0.9, math.nan])) == pytest.approx(0.7)
    # loss: the lowest per study
    assert dev_best(_workload(LOSS, [0.9, 0.6], [0.7])) == pytest.approx(0.65)
    assert math.isnan(dev_best(_workload(ACC, [math.nan])))


def test_only_disagreeing_pairs_run_at_dev_are_listed():
    times = SubmissionTimes("a", workloads={"w": _workload(ACC, [0.78]),
                                            "v": _workload(LOSS, [0.4])})
    dev_table = {"a": {"w": math.inf, "v": 10.0}, "b": {"w": 5.0}}
    official = {"a": {"w": 50.0, "v": 20.0}, "b": {"w": math.inf}}
    rows = disagreements({"a": times}, dev_table, official, ["a", "b"], ["w", "v", "x"])
    # a/w: dev miss, official hit; a/v agrees; b has no dev logs (a dev leaderboard file)
    assert [(d.entry, d.workload, d.dev_hit, d.official_hit) for d in rows] == [
        ("a", "w", False, True)]
    assert rows[0].shortfall == pytest.approx(0.025)
    text = format_disagreements(rows)
    assert "+2.5%" in text and "within 5%: 1" in text and "within 1% of the target: 0 of 1" in text


def test_no_disagreement_is_one_sentence():
    assert format_disagreements([]).startswith("Dev and official agree")
