"""Bayesian search end to end on the mnist dev workload, early stopping, shared configurations.

    .venv/bin/python -m pytest tests/test_external_tuning_bayesian.py -q
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from test_external_tuning_support import SPACE, records, state, tune_args, write_submission

from external_tuning.strategies.quasi_random import planned_points
from external_tuning.study import tuner_seed
from sdk import registry
from sdk.cli.main import main
from sdk.search_space import SearchSpace
from workloads.mnist.pytorch import MnistPyTorchDev
from workloads.mnist.workload import DEV_NUMBERS


def test_bayesian_search_runs_end_to_end_and_its_study_freezes(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    sub = write_submission(tmp_path)
    summary = tmp_path / "summary.json"
    args = tune_args(tmp_path, sub, "--search", "bayesian", "--studies", "1", "--trials", "4",
                     "--initial-trials", "2", "--json", str(summary), steps=40)
    assert main(args) == 0
    root = tmp_path / "exp" / "study"
    saved = state(root)
    assert saved["config"]["search"] == "bayesian" and saved["config"]["early_stopping"]
    recs = records(root)
    assert len(recs) == 4 and all(r["objective"] is not None for r in recs)
    space = SearchSpace.from_json(SPACE)
    config = SimpleNamespace(search="bayesian", seed=7)
    initial = planned_points(space, 2, tuner_seed(config, 0, ("mnist",)))
    assert [r["hyperparameters"] for r in recs[:2]] == initial
    assert [r["source"] for r in recs] == ["quasi-random"] * 2 + ["bayesian"] * 2
    for r in recs[2:]:  # the model's points: in the space, new
        hp = r["hyperparameters"]
        assert 3e-4 <= hp["learning_rate"] <= 3e-2 and 0.02 <= hp["one_minus_beta1"] <= 0.2
        assert hp["beta2"] == 0.999 and hp["label_smoothing"] in (0.0, 0.1)
        assert hp not in initial
        assert (root / "study_0" / "mnist_pytorch" / f"trial_{r['index'] + 1}" /
                "eval_measurements.csv").is_file()
    data = json.loads(summary.read_text())
    assert len(data["configurations"]) == 4
    capsys.readouterr()

    out = tmp_path / "frozen.json"
    assert main(["freeze", str(root), "--points", "2", "--out", str(out), "--samples",
                 "50", "--sim-studies", "3"]) == 0
    frozen = SearchSpace.load(out)
    assert frozen.is_list and 1 <= len(frozen.points) <= 2
    assert all(p in [r["hyperparameters"] for r in recs] for p in frozen.points)
    assert "Why these points" in capsys.readouterr().out


def test_early_stopping_ends_a_hopeless_trial_as_a_miss(tmp_path: Path) -> None:
    sub = write_submission(tmp_path, sleep=0.005)
    hopeless = [{**planned_points(SearchSpace.from_json(SPACE), 1, 0)[0],
                 "learning_rate": 1e-12}]
    (tmp_path / "hopeless.json").write_text(json.dumps(hopeless))
    args = tune_args(tmp_path, sub, "--studies", "1", "--trials", "1", "--early-stopping",
                     "--speed-factor", "0.15", steps=100000)
    args[args.index("--tuning-search-space") + 1] = str(tmp_path / "hopeless.json")
    assert main(args) == 0
    obs = records(tmp_path / "exp" / "study")[0]["observations"]["mnist"]
    assert obs["status"] == "stopped_early", obs
    assert "validation accuracy" in obs["reason"] and obs["time_to_target"] is None
    assert obs["curve"][-1][0] < obs["budget"]  # it did not spend the whole budget


class EasyMnist(MnistPyTorchDev):
    """mnist with a lower target: a second workload for shared searches."""

    name = "mnist_easy"

    @classmethod
    def numbers_for(cls, version: str):  # noqa: ANN206
        return replace(DEV_NUMBERS, validation_target_value=0.3, test_target_value=0.3)


@pytest.fixture
def easy_workload(monkeypatch: pytest.MonkeyPatch) -> str:
    registry.workloads().names()  # load the plugins first
    entry = registry.WorkloadEntry(name="mnist_easy",
                                   classes={"dev": {"pytorch": f"{__name__}:EasyMnist"}},
                                   scored=False)
    monkeypatch.setitem(registry._WORKLOADS.entries, "mnist_easy", entry)
    return "mnist_easy"


def test_a_shared_search_runs_every_configuration_on_every_workload(
        tmp_path: Path, easy_workload: str) -> None:
    sub = write_submission(tmp_path)
    args = tune_args(tmp_path, sub, "--workload", easy_workload, "--search", "bayesian",
                     "--shared", "--studies", "1", "--trials", "3", "--initial-trials", "2",
                     "--no-early-stopping", steps=40)
    assert main(args) == 0
    root = tmp_path / "exp" / "study"
    saved = state(root)
    assert [g["workloads"] for g in saved["groups"]] == [["mnist", easy_workload]]
    for r in records(root):
        assert set(r["observations"]) == {"mnist", easy_workload}
        per = [r["observations"][w] for w in ("mnist", easy_workload)]
        assert r["objective"] == pytest.approx(sum(_objective(o) for o in per) / 2)
        for w in ("mnist", easy_workload):
            hp = root / "study_0" / f"{w}_pytorch" / f"trial_{r['index'] + 1}" / "hparams.json"
            assert json.loads(hp.read_text()) == r["hyperparameters"]


def _objective(obs: dict) -> float:
    from external_tuning.observations import Observation, objective

    value = objective(Observation.from_json(obs))
    assert math.isfinite(value)
    return value
