"""Warm-starting a Bayesian search from earlier studies (external_tuning/warm_start.py).

Synthetic studies on two workloads whose best learning rates differ; no training.

    .venv/bin/python -m pytest tests/test_external_tuning_warm_start.py -q
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from test_external_tuning_support import SPACE, tune_args, write_submission, write_synthetic_trial

from external_tuning import Tuner
from external_tuning.warm_start import portfolio, prior_design, project
from sdk.cli.main import main
from sdk.errors import PacelineError
from sdk.scoring.targets import scoring_rules
from sdk.search_space import SearchSpace

RATES = [3e-4, 1e-3, 3e-3, 1e-2, 3e-2]
BEST = {"wa": 1e-3, "wb": 1e-2}


def seconds(lr: float, workload: str) -> float:
    t = 5.0 * math.exp(1.5 * math.log10(lr / BEST[workload]) ** 2)
    return t if t < 20 else math.inf


def point(lr: float) -> dict:
    return {"learning_rate": lr, "one_minus_beta1": 0.1, "beta2": 0.999, "weight_decay": 0.1,
            "warmup_factor": 0.05, "label_smoothing": 0.0, "dropout_rate": 0.0}


def make_studies(root: Path, workloads: tuple[str, ...] = ("wa", "wb")) -> Path:
    for w in workloads:
        for i, lr in enumerate(RATES):
            write_synthetic_trial(root / "study_0" / f"{w}_pytorch" / f"trial_{i + 1}",
                                  point(lr), seconds(lr, w))
    return root


def design(root: Path, count: int, space: dict | None = None, exclude: tuple = ()) -> list:
    found = prior_design([root], SearchSpace.from_json(space or SPACE), scoring_rules("0.5"),
                         count, exclude)
    return [p["learning_rate"] for p in found.points]


def test_the_portfolio_covers_each_workload_with_its_own_best(tmp_path: Path) -> None:
    root = make_studies(tmp_path / "prior")
    # 3e-3 is the best compromise (second best on both); then each workload's own best.
    assert design(root, 1) == [3e-3]
    assert sorted(design(root, 3)) == [1e-3, 3e-3, 1e-2]
    # Only one workload studied (or the other left out): its ranking, best first.
    assert design(root, 3, exclude=("wb",)) == [1e-3, 3e-3, 3e-4]


def test_points_outside_the_new_space_are_skipped_and_fixed_values_taken(
        tmp_path: Path) -> None:
    root = make_studies(tmp_path / "prior")
    narrow = {**SPACE, "learning_rate": {"min": 2e-3, "max": 3e-2, "scaling": "log"},
              "warmup_factor": {"feasible_points": [0.1]}}
    found = prior_design([root], SearchSpace.from_json(narrow), scoring_rules("0.5"), 5)
    assert [p["learning_rate"] for p in found.points][0] == 3e-3
    assert {p["learning_rate"] for p in found.points} == {3e-3, 1e-2, 3e-2}
    assert all(p["warmup_factor"] == 0.1 for p in found.points)
    assert found.outside == 2 and "2 outside this search space skipped" in found.describe()


def test_portfolio_and_project_by_hand() -> None:
    pct = {"a": {"x": 0.1, "y": 0.4, "z": 0.9}, "b": {"x": 0.9, "y": 0.4, "z": 0.1}}
    assert portfolio(pct, ["x", "y", "z"], 2) == ["y", "x"]
    assert portfolio(pct, ["x", "y", "z"], 5) == ["y", "x", "z"]
    assert portfolio({}, ["x"], 2) == []
    space = SearchSpace.from_json(SPACE)
    assert project(point(1e-3), space) == point(1e-3)
    assert project(point(1.0), space) is None  # beyond the range
    assert project({**point(1e-3), "label_smoothing": 0.3}, space) is None  # not feasible
    assert project({k: v for k, v in point(1e-3).items() if k != "learning_rate"}, space) is None


def test_a_tuner_asks_the_warm_points_first_and_keeps_them_in_its_state(
        tmp_path: Path) -> None:
    warm = [point(3e-3), point(1e-2)]
    tuner = Tuner().configure(SPACE, search="bayesian", num_trials=6, seed=0,
                              initial_trials=3, prior=warm)
    first = tuner.ask(3)
    assert [s.hyperparameters for s in first[:2]] == warm
    assert [r.source for r in tuner.records] == ["warm start", "warm start", "quasi-random"]
    tuner.save(tmp_path / "t.json")
    again = Tuner.load(tmp_path / "t.json")
    assert again.config.prior == tuple(warm)
    assert json.loads((tmp_path / "t.json").read_text())["config"]["prior"] == warm
    with pytest.raises(PacelineError, match="no use for them"):
        Tuner().configure(SPACE, search="quasi-random", num_trials=3, prior=warm)
    with pytest.raises(PacelineError, match="outside the search space"):
        Tuner().configure(SPACE, search="bayesian", num_trials=6, prior=[point(1.0)])


def test_paceline_tune_plans_the_warm_start_and_refuses_it_where_it_means_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    sub = write_submission(tmp_path)
    prior = make_studies(tmp_path / "prior")
    args = tune_args(tmp_path, sub, "--trials", "6", "--studies", "1", "--search", "bayesian",
                     "--initial-trials", "3", "--warm-start", str(prior), "--dry-run",
                     "--json", "-")
    assert main(args) == 0
    captured = capsys.readouterr()
    trials = json.loads(captured.out)["studies"][0]["trials"]
    assert [t["source"] for t in trials[:3]] == ["warm start"] * 3
    assert sorted(t["hyperparameters"]["learning_rate"] for t in trials[:3]) == [1e-3, 3e-3,
                                                                                 1e-2]
    assert "warm start: the first 3 trial(s)" in captured.err
    assert "the model learns from their 10 result(s)" in captured.err
    assert main([*args, "--no-transfer"]) == 0
    assert "learns from" not in capsys.readouterr().err

    assert main(tune_args(tmp_path, sub, "--warm-start", str(prior), "--dry-run")) == 2
    assert "no use for them" in capsys.readouterr().err
    assert main(tune_args(tmp_path, sub, "--search", "bayesian", "--warm-start",
                          str(tmp_path / "nowhere"), "--dry-run")) == 2
    err = capsys.readouterr().err
    assert "is not a folder" in err and err.count("\n") == 1


def test_a_resumed_experiment_keeps_the_points_it_chose(tmp_path: Path) -> None:
    import argparse
    from types import SimpleNamespace

    from external_tuning.cli import _warm_start

    chosen = (point(3e-3),)
    related = ({"workload": "wa", "point": point(3e-3), "objective": -1.0},)
    saved = SimpleNamespace(warm_start=(str(tmp_path / "gone"),), prior=chosen,
                            related=related)
    args = argparse.Namespace(warm_start=[str(tmp_path / "gone")], initial_trials=None,
                              transfer=True)
    # The folder is gone (or has grown): the ledger's points are used, nothing is re-read.
    space = SearchSpace.from_json(SPACE)
    assert _warm_start(args, space, None, 6, saved) == {"prior": chosen, "related": related}
    args.transfer = False  # --no-transfer: the same first points, nothing for the model
    assert _warm_start(args, space, None, 6, saved) == {"prior": chosen, "related": ()}
    args.transfer = True
    args.warm_start = [str(tmp_path / "other")]
    with pytest.raises(PacelineError, match="is not a folder"):
        _warm_start(args, space, None, 6, saved)


def test_the_model_learns_from_every_configuration_the_earlier_studies_ran(
        tmp_path: Path) -> None:
    root = make_studies(tmp_path / "prior")
    found = prior_design([root], SearchSpace.from_json(SPACE), scoring_rules("0.5"), 2)
    assert len(found.related) == 2 * len(RATES)  # every configuration, on each workload
    assert [r["workload"] for r in found.related] == ["wa"] * 5 + ["wb"] * 5
    by_rate = {r["point"]["learning_rate"]: r["objective"] for r in found.related
               if r["workload"] == "wa"}
    assert by_rate[1e-3] == pytest.approx(math.log(5.0 / 20.0), abs=0.05)  # the fast one
    assert by_rate[3e-2] >= 0.0  # a miss: censored, at least the budget
    assert "learns from their 10 result(s)" in found.describe()
    narrow = {**SPACE, "learning_rate": {"min": 2e-3, "max": 3e-2, "scaling": "log"}}
    inside = prior_design([root], SearchSpace.from_json(narrow), scoring_rules("0.5"), 2)
    assert {r["point"]["learning_rate"] for r in inside.related} == {3e-3, 1e-2, 3e-2}


def test_related_results_steer_the_model_where_the_own_trials_say_little() -> None:
    """Two earlier workloads agree that the best learning rate is 1e-3 (with their own
    offsets); the new workload's five own trials lie far from it. The first model point goes
    near 1e-3 with the related results, and its workload parameter never leaks into a point."""
    from external_tuning.observations import TrialRecord
    from external_tuning.strategies.bayesian import TASK, BayesianSearch

    space = SearchSpace.from_json({"learning_rate": {"min": 1e-4, "max": 1e-1,
                                                     "scaling": "log"},
                                   "warmup_factor": {"min": 0.0, "max": 0.2,
                                                     "scaling": "linear"}})

    def value(lr: float, offset: float) -> float:
        return 0.5 * (math.log10(lr) + 3.0) ** 2 + offset

    related = tuple({"workload": w, "point": {"learning_rate": lr, "warmup_factor": 0.1},
                     "objective": value(lr, offset)}
                    for w, offset in (("wa", -1.0), ("wb", 0.5))
                    for lr in (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1))
    own = [TrialRecord(i, {"learning_rate": lr, "warmup_factor": 0.1},
                       objective=value(lr, 0.2))
           for i, lr in enumerate((3e-2, 5e-2, 8e-2, 1e-1, 1.2e-4))]
    search = BayesianSearch(space, 8, seed=1, initial_trials=5, related=related, task="wc")
    first = search.suggest(own, 2)
    assert all(set(p) == {"learning_rate", "warmup_factor"} for p in first)
    assert all(abs(math.log10(p["learning_rate"]) + 3.0) < 0.2 for p in first)
    alone = BayesianSearch(space, 8, seed=1, initial_trials=5, task="wc").suggest(own, 2)
    assert not any(abs(math.log10(p["learning_rate"]) + 3.0) < 0.2 for p in alone)
    assert first == BayesianSearch(space, 8, seed=1, initial_trials=5, related=related,
                                   task="wc").suggest(own, 2)  # the same history, same points
    with pytest.raises(PacelineError, match="uses for itself"):
        BayesianSearch(SearchSpace.from_json({TASK: {"min": 0.0, "max": 1.0,
                                                            "scaling": "linear"}}), 4)


def test_nothing_inside_the_space_leaves_the_quasi_random_start(tmp_path: Path) -> None:
    root = make_studies(tmp_path / "prior")
    far = {**SPACE, "learning_rate": {"min": 0.1, "max": 1.0, "scaling": "log"}}
    found = prior_design([root], SearchSpace.from_json(far), scoring_rules("0.5"), 5)
    assert found.points == () and "stay quasi-random" in found.describe()
    tuner = Tuner().configure(far, search="bayesian", num_trials=4, initial_trials=2,
                              prior=found.points)
    assert set(tuner.strategy.initial_origins) == {"quasi-random"}
