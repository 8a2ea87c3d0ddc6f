"""`paceline freeze` on synthetic studies whose best configurations are known.

Two workloads: ``wa`` is fastest at lr 1e-3, ``wb`` at lr 1e-2, and no single learning rate
is good at both, so the best frozen list holds one point for each.

    .venv/bin/python -m pytest tests/test_external_tuning_freeze.py -q
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from test_external_tuning_support import write_synthetic_trial

from sdk.cli.main import main
from sdk.search_space import SearchSpace

RATES = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1]
BEST = {"wa": -3.0, "wb": -2.0}


def seconds(lr: float, workload: str, rng: np.random.Generator, scale: float = 1.0) -> float:
    t = scale * 6.0 * math.exp(2.0 * (math.log10(lr) - BEST[workload]) ** 2)
    t *= math.exp(0.05 * rng.standard_normal())
    return t if t < 20 else math.inf


def make_studies(root: Path, studies: int = 3, rates: dict | None = None,
                 scale: float = 1.0) -> Path:
    rng = np.random.default_rng(0)
    for s in range(studies):
        for w in ("wa", "wb"):
            for i, lr in enumerate((rates or {}).get(w, RATES)):
                write_synthetic_trial(root / f"study_{s}" / f"{w}_pytorch" / f"trial_{i + 1}",
                                      {"lr": lr, "wd": 0.1}, seconds(lr, w, rng, scale))
    return root


def freeze(*args: str) -> int:
    return main(["freeze", *args, "--samples", "100"])


def test_freeze_keeps_one_point_per_workload_and_explains_why(
        tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    root = make_studies(tmp_path / "sub")
    out, why = tmp_path / "space.json", tmp_path / "why.json"
    assert freeze(str(root), "--points", "5", "--out", str(out), "--json", str(why)) == 0
    space = SearchSpace.load(out)  # a valid search space for an official run
    assert space.is_list and sorted(p["lr"] for p in space.points) == [1e-3, 1e-2]
    result = json.loads(why.read_text())
    assert result["expected_score"] == pytest.approx(1.0, abs=0.02)
    assert result["alternatives"]["best_single_point"] < result["expected_score"] - 0.1
    deciders = {p["hyperparameters"]["lr"]: p["workloads"] for p in result["points"]}
    assert deciders[1e-3]["wa"]["decides_studies"] > 0.9
    assert deciders[1e-2]["wb"]["decides_studies"] > 0.9
    assert [s["helps"] for s in result["steps"][:1]] != [[]]
    text = capsys.readouterr().out
    assert "Why these points" in text and "a list of 2 point(s)" in text


def test_one_point_allowed_takes_the_best_compromise(tmp_path: Path) -> None:
    root = make_studies(tmp_path / "sub")
    out, why = tmp_path / "space.json", tmp_path / "why.json"
    assert freeze(str(root), "--points", "1", "--out", str(out), "--json", str(why)) == 0
    assert [p["lr"] for p in SearchSpace.load(out).points] == [3e-3]  # between the two optima
    assert json.loads(why.read_text())["expected_score"] < 0.95


def test_a_box_is_a_valid_dict_space_around_the_good_points(tmp_path: Path) -> None:
    root = make_studies(tmp_path / "sub")
    out, why = tmp_path / "box.json", tmp_path / "why.json"
    assert freeze(str(root), "--points", "5", "--box", "--out", str(out), "--json",
                  str(why)) == 0
    box = SearchSpace.load(out)
    assert not box.is_list
    lr = next(p for p in box.parameters if p.name == "lr")
    assert lr.scaling == "log" and lr.min <= 1e-3 and lr.max >= 1e-2 and lr.max <= 0.1
    result = json.loads(why.read_text())
    assert 0.0 < result["box"]["expected_score"] <= result["expected_score"] + 1e-9
    assert result["frozen"] == box.to_json()


def test_faster_competitors_lower_the_expected_score(tmp_path: Path) -> None:
    root = make_studies(tmp_path / "sub")
    rival = make_studies(tmp_path / "rivals" / "rival", scale=0.5)
    why = tmp_path / "why.json"
    assert freeze(str(root), "--out", str(tmp_path / "s.json"), "--reference", str(rival),
                  "--json", str(why)) == 0
    result = json.loads(why.read_text())
    assert 0.3 < result["expected_score"] < 0.9  # twice as slow as the rival: ratio ~2
    assert result["simulation"]["reference"] == "--reference submissions"


def test_workloads_that_tried_different_points_are_bridged_by_the_model(
        tmp_path: Path) -> None:
    # As after a Bayesian study per workload: no configuration ran on both workloads.
    root = make_studies(tmp_path / "sub", rates={"wa": RATES[::2], "wb": RATES[1::2]})
    why = tmp_path / "why.json"
    assert freeze(str(root), "--points", "3", "--out", str(tmp_path / "s.json"), "--json",
                  str(why)) == 0
    result = json.loads(why.read_text())
    sources = {o["source"] for p in result["points"] for o in p["workloads"].values()}
    assert "predicted" in sources
    assert result["expected_score"] > 0.6


def test_bad_inputs_end_in_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert freeze(str(tmp_path / "missing"), "--out", str(tmp_path / "o.json")) == 2
    assert "does not exist" in capsys.readouterr().err
    root = make_studies(tmp_path / "sub", studies=1)
    for hp in root.rglob("hparams.json"):
        hp.unlink()
    assert freeze(str(root), "--out", str(tmp_path / "o.json")) == 2
    assert "No external-tuning trial" in capsys.readouterr().err
    assert freeze(str(root), "--points", "0", "--out", str(tmp_path / "o.json")) == 2
    assert "--points must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "o.json").exists()


def test_replaying_the_official_v06_logs_gives_the_published_score(reference_logs: Path) -> None:
    """shampoo's five points against the baseline: the studies as they ran score what
    `paceline score` (and the published leaderboard, exact integral) gives, and the simulated
    expectation is close to it."""
    from external_tuning.evidence import load_evidence
    from external_tuning.freeze import Freezer
    from sdk.scoring.targets import scoring_rules
    from sdk.scoring.time_to_target import load_submissions_times

    logs = reference_logs / "algoperf_v06" / "logs" / "external_tuning"
    rules = scoring_rules("0.6")
    evidence = load_evidence([logs / "shampoo"], rules)
    assert len(evidence.points) == 5 and len(evidence.workloads) == 8
    baseline = load_submissions_times([logs / "baseline"], rules)[0].times
    freezer = Freezer(evidence, rules.r_max, rules.num_studies, samples=200, reference=baseline)
    points = [freezer.candidate(p) for p in evidence.points.values()]
    assert freezer.observed_score(points) == pytest.approx(0.6239, abs=5e-4)
    assert freezer.score(points).score == pytest.approx(0.6239, abs=0.05)


def test_one_lucky_hit_among_noisy_neighbours_is_not_a_sure_hit(tmp_path: Path) -> None:
    # Configurations that ran several times hit in about half their seeds; one that ran once
    # hit. A new run of it is drawn from the model (its run weighed against its neighbours'
    # by the seed noise the model sees), not taken as a sure hit.
    from external_tuning.evidence import load_evidence
    from external_tuning.freeze import Freezer
    from sdk.scoring import scoring_rules

    root = tmp_path / "sub"
    runs = {1e-4: [math.inf] * 4, 3e-4: [6.0, math.inf, 7.0, math.inf],
            1e-3: [math.inf, 6.0, math.inf, 6.5], 1e-2: [math.inf] * 4, 3e-3: [5.0]}
    for i, (lr, times) in enumerate(runs.items(), start=1):
        for s, t in enumerate(times):
            write_synthetic_trial(root / f"study_{s}" / "wa_pytorch" / f"trial_{i}",
                                  {"lr": lr, "wd": 0.1}, t)
    freezer = Freezer(load_evidence([root], scoring_rules("0.5")), r_max=4.0,
                      studies=3, samples=400)
    lucky = freezer.candidate({"lr": 3e-3, "wd": 0.1})
    assert lucky.source["wa"] == "observed x1, drawn from the model"
    assert 0.05 < np.isfinite(lucky.time["wa"]).mean() < 0.9
    steady = freezer.candidate({"lr": 1e-3, "wd": 0.1})
    assert steady.source["wa"] == "observed x4"


def one_study_of_near_misses(root: Path) -> Path:
    """One study, no configuration repeated: a smooth valley of hits between misses."""
    times = [math.inf, 15.0, 12.0, 11.0, 13.0, math.inf, math.inf]
    for i, (lr, t) in enumerate(zip(RATES, times, strict=True), start=1):
        write_synthetic_trial(root / "study_0" / "wa_pytorch" / f"trial_{i}",
                              {"lr": lr, "wd": 0.1}, t)
    return root


def test_a_seed_noise_floor_keeps_one_study_from_taking_its_hits_for_sure_ones(
        tmp_path: Path) -> None:
    # One study shows no seed noise (nothing ran twice): the GP fits its hits almost exactly
    # and a new run of the best point reaches the target every time. With the seed noise that
    # repeated runs elsewhere show, the same model leaves room for a miss.
    from external_tuning.evidence import load_evidence
    from external_tuning.freeze import Freezer
    from sdk.references import SeedNoise
    from sdk.scoring import scoring_rules

    evidence = load_evidence([one_study_of_near_misses(tmp_path / "sub")], scoring_rules("0.5"))
    reached = {}
    for floor in (None, 0.5):
        noise = {"wa": SeedNoise(floor, 10, "a test")} if floor else {}
        freezer = Freezer(evidence, r_max=4.0, studies=3, samples=400, noise=noise)
        best = freezer.candidate({"lr": 3e-3, "wd": 0.1})
        model = freezer.model("wa")
        assert model is not None and model.fitted_noise_std < 0.2
        assert model.noise_std == pytest.approx(floor or model.fitted_noise_std, rel=0.01)
        reached[floor] = float(np.isfinite(best.time["wa"]).mean())
    assert reached[None] > 0.98 and reached[0.5] < 0.9


def test_the_floor_pools_the_studies_repeats_with_the_shipped_reference_timings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from external_tuning.evidence import load_evidence
    from external_tuning.freeze import seed_noise_floors
    from sdk.scoring import scoring_rules

    monkeypatch.setattr("sdk.references.reference_dirs", lambda: [tmp_path / "refs"])
    (tmp_path / "refs").mkdir()
    root = one_study_of_near_misses(tmp_path / "sub")
    evidence = load_evidence([root], scoring_rules("0.5"))
    assert seed_noise_floors(evidence) == {}  # nothing repeated, no reference: no floor
    (tmp_path / "refs" / "dev_external_v0.5.json").write_text(json.dumps(
        {"baselines": {"b": {"wa": {"study_times": [10.0, 10.0 * math.e]}}}}))
    write_synthetic_trial(root / "study_1" / "wa_pytorch" / "trial_1",
                          {"lr": RATES[3], "wd": 0.1}, 11.0 / math.e)  # a repeat
    floor = seed_noise_floors(load_evidence([root], scoring_rules("0.5")))["wa"]
    # times are read at the evaluations (every second): 11.25 and 4.25 s, not 11 and 11/e
    assert floor.dof == 2 and floor.std == pytest.approx(math.sqrt(0.5), rel=0.03)
    assert "reference timings (1)" in floor.source and "more than once (1)" in floor.source


def test_freeze_reports_the_seed_noise_and_can_go_without_the_floor(
        tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sdk.references.reference_dirs", lambda: [tmp_path / "refs"])
    (tmp_path / "refs").mkdir()
    (tmp_path / "refs" / "dev_external_v0.5.json").write_text(json.dumps(
        {"baselines": {"b": {"wa": {"study_times": [10.0, 10.0 * math.e]}}}}))
    root = one_study_of_near_misses(tmp_path / "sub")
    for extra, floor in (((), math.sqrt(0.5)), (("--no-noise-floor",), None)):
        why = tmp_path / "why.json"
        assert freeze(str(root), "--out", str(tmp_path / "s.json"), "--json", str(why),
                      *extra) == 0
        noise = json.loads(why.read_text())["seed_noise"]["wa"]
        assert noise["floor"] == (pytest.approx(floor) if floor else None)
        assert noise["used"] == pytest.approx(max(floor or 0.0, noise["estimated"]), rel=0.01)
    assert "Seed noise in log time" in capsys.readouterr().out
