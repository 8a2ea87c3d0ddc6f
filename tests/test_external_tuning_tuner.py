"""The ask/tell Tuner: quasi-random and Bayesian search on a synthetic time-to-target.

    .venv/bin/python -m pytest tests/test_external_tuning_tuner.py -q
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from external_tuning import Observation, Tuner
from external_tuning.strategies.quasi_random import planned_points
from sdk.errors import PacelineError
from sdk.search_space import SearchSpace

SPACE = {"lr": {"min": 1e-4, "max": 1e-1, "scaling": "log"},
         "wd": {"min": 0.0, "max": 0.5, "scaling": "linear"},
         "nesterov": {"feasible_points": [True]}}
BUDGET = 20.0


def seconds(point: dict) -> float | None:
    """A bowl in log(lr) around 1e-2 and in wd around 0; slower than the budget is a miss."""
    t = 4.0 * (1.0 + 1.5 * (math.log10(point["lr"]) + 2.0) ** 2 + 4.0 * point["wd"])
    return t if t <= BUDGET else None


def drive(tuner: Tuner) -> Tuner:
    while not tuner.done:
        for s in tuner.ask():
            tuner.tell(s.index, seconds(s.hyperparameters), budget=BUDGET)
    return tuner


def test_quasi_random_asks_algoperfs_points_in_the_seeded_order() -> None:
    tuner = Tuner().configure(SPACE, search="quasi-random", num_trials=5, seed=3)
    asked = [s.hyperparameters for s in tuner.ask(5)]
    assert asked == planned_points(SearchSpace.from_json(SPACE), 5, seed=3)
    assert tuner.ask(1) == [] and tuner.remaining == 0 and not tuner.done
    for i, point in enumerate(asked):
        tuner.tell(i, seconds(point), budget=BUDGET)
    assert tuner.done
    best = tuner.best()
    hits = [seconds(p) for p in asked if seconds(p) is not None]
    assert best.time_to_target() == min(hits)
    assert [r.objective for r in tuner.ranking()] == sorted(r.objective for r in tuner.records)


def test_save_and_load_resume_where_the_tuner_stopped(tmp_path: Path) -> None:
    tuner = Tuner().configure(SPACE, num_trials=4, seed=1)
    first = tuner.ask(3)
    tuner.tell(first[0].index, 5.0, budget=BUDGET)
    tuner.save(tmp_path / "tuner.json")
    back = Tuner.load(tmp_path / "tuner.json")
    assert [r.index for r in back.pending] == [1, 2]
    assert back.records[0].objective == tuner.records[0].objective
    assert back.ask(5)[0].hyperparameters == tuner.ask(1)[0].hyperparameters
    assert back.remaining == 0


def test_mistakes_end_in_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(PacelineError, match="configure"):
        Tuner().ask()
    tuner = Tuner().configure(SPACE, num_trials=2)
    s = tuner.ask()[0]
    with pytest.raises(PacelineError, match="no trial 5"):
        tuner.tell(5, 1.0, budget=BUDGET)
    with pytest.raises(PacelineError, match="budget"):
        tuner.tell(s.index, 1.0)
    with pytest.raises(PacelineError, match="does not track"):
        tuner.tell(s.index, Observation.from_time(1.0, BUDGET, workload="other"))
    tuner.tell(s.index, 1.0, budget=BUDGET)
    with pytest.raises(PacelineError, match="told already"):
        tuner.tell(s.index, 1.0, budget=BUDGET)
    with pytest.raises(PacelineError, match="list of fixed points"):
        Tuner().configure([{"lr": 0.1}, {"lr": 0.01}], search="bayesian")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(PacelineError, match="not valid JSON"):
        Tuner.load(tmp_path / "bad.json")


def test_a_list_space_gives_at_most_its_points() -> None:
    tuner = Tuner().configure([{"lr": 0.1}, {"lr": 0.01}], num_trials=5)
    assert [s.hyperparameters["lr"] for s in tuner.ask(5)] == [0.1, 0.01]
    assert tuner.config.num_trials == 2


def test_shared_trials_complete_when_every_workload_is_told() -> None:
    tuner = Tuner().configure(SPACE, num_trials=1, workloads=["a", "b"])
    s = tuner.ask()[0]
    record = tuner.tell(s.index, Observation.from_time(5.0, 20.0, workload="a"))
    assert not record.complete and tuner.best() is None
    record = tuner.tell(s.index, Observation.from_time(None, 10.0, workload="b"))
    assert record.complete
    assert record.objective == pytest.approx((math.log(5 / 20) + math.log(4.0)) / 2)


def test_bayesian_search_improves_on_its_quasi_random_start_and_is_deterministic() -> None:
    tuner = drive(Tuner().configure(SPACE, search="bayesian", num_trials=6, seed=0,
                                    initial_trials=3))
    sources = [r.source for r in tuner.records]
    assert sources == ["quasi-random"] * 3 + ["bayesian"] * 3
    initial = planned_points(SearchSpace.from_json(SPACE), 3, seed=0)
    assert [r.hyperparameters for r in tuner.records[:3]] == initial
    start = min(r.objective for r in tuner.records[:3])
    assert tuner.best().objective < start  # the model found something better than the start
    for r in tuner.records:
        assert 1e-4 <= r.hyperparameters["lr"] <= 1e-1 and r.hyperparameters["nesterov"] is True
    # The same history gives the same next point: a resumed study proposes what the
    # uninterrupted one did.
    fresh = Tuner.from_json(tuner.to_json())
    assert fresh._strategy.suggest(fresh.records[:4], 1) == [tuner.records[4].hyperparameters]


def test_only_a_bayesian_search_can_be_given_more_trials() -> None:
    quasi = Tuner().configure(SPACE, num_trials=3)
    with pytest.raises(PacelineError, match="fixed set"):
        quasi.extend(5)
    bayes = Tuner().configure(SPACE, search="bayesian", num_trials=2, initial_trials=4)
    bayes.ask(2)
    assert bayes.remaining == 0
    bayes.extend(4)
    assert bayes.remaining == 2 and len(bayes.ask(2)) == 2  # still its quasi-random start
