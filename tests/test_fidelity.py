"""Fidelity statistics on hand-made numbers, and official times read from the shared logs.

    .venv/bin/python -m pytest -q tests/test_fidelity.py
"""

from __future__ import annotations

import csv
import json
import math

import pytest

from sdk.cli.main import main
from sdk.scoring.fidelity import fidelity, format_report, kendall_tau, pairwise_decisions

INF = math.inf

# Hand-made: dev and official agree on hits in 6 of 8 (entry, workload) pairs.
DEV = {"a": {"w1": 10.0, "w2": 5.0}, "b": {"w1": 20.0, "w2": INF},
       "c": {"w1": 30.0, "w2": 7.0}, "d": {"w1": INF, "w2": INF}}
OFFICIAL = {"a": {"w1": 100.0, "w2": 50.0}, "b": {"w1": 300.0, "w2": 60.0},
            "c": {"w1": 200.0, "w2": 70.0}, "d": {"w1": 400.0, "w2": INF},
            "only_official": {"w1": 1.0, "w2": 1.0}}
FRAMEWORKS = {"a": "jax", "b": "jax", "c": "pytorch", "d": "pytorch"}


def test_kendall_tau_known_values():
    assert kendall_tau([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(4 / 6)  # one swap of 6
    assert kendall_tau([1, 2], [2, 1]) == -1.0
    assert math.isnan(kendall_tau([1.0], [2.0]))


def test_pairwise_decisions_count_ties_as_a_verdict():
    # (a, b): dev tie, official b wins -> disagree; (a, c), (b, c): c wins on both sides
    assert pairwise_decisions({"a": 0.0, "b": 0.0, "c": 0.5},
                              {"a": 0.1, "b": 0.2, "c": 0.9}) == (2, 3, 1)


def test_per_workload_agreement_and_tau():
    report = fidelity(DEV, OFFICIAL, ["w1", "w2"], FRAMEWORKS)
    w1, w2 = report.workloads
    # w1: d misses at dev only; a, b, c reach on both sides, official order a < c < b
    assert (w1.agree, w1.pairs, w1.dev_hits, w1.official_hits, w1.both_hit) == (3, 4, 3, 4, 3)
    assert w1.tau == pytest.approx(1 / 3)  # (a,b), (a,c) concordant; (b,c) discordant
    # w2: b misses at dev only; a, c reach on both sides in the same order
    assert (w2.agree, w2.pairs, w2.both_hit) == (3, 4, 2)
    assert w2.tau == pytest.approx(1.0)
    assert (report.agree, report.hit_pairs) == (6, 8)
    assert report.agreement == pytest.approx(0.75)


def test_overall_scores_tau_pairwise_and_framework_hits():
    report = fidelity(DEV, OFFICIAL, ["w1", "w2"], FRAMEWORKS)
    # dev and official both rank a > c > b > d (exact scores 1, .6, .33, 0 and 1, .77, .63, 0)
    order = sorted(report.entries, key=lambda e: -report.dev_scores[e])
    assert order == sorted(report.entries, key=lambda e: -report.official_scores[e])
    assert order == ["a", "c", "b", "d"]
    assert report.score_tau == pytest.approx(1.0)
    assert (report.pairs_agree, report.pairs, report.dev_ties) == (6, 6, 0)
    assert report.hits_by_framework["jax"] == {"entries": 2, "pairs": 4, "dev_hits": 3,
                                               "official_hits": 4, "not_run": 0}
    assert report.hits_by_framework["pytorch"]["dev_hits"] == 2
    assert report.unmatched_official == ["only_official"]
    text = format_report(report, DEV, OFFICIAL)
    assert "Hit/miss agreement: 6/8" in text and "jax entries (2): 3 hits dev, 4 official" in text
    assert json.dumps(report.to_json())  # plain JSON, no NaN or inf


def test_a_workload_not_run_at_dev_is_left_out_of_agreement_but_missed_in_the_score():
    dev = {**DEV, "e": {"w1": 10.0}}  # e has no dev run of w2 (no dev implementation)
    official = {**OFFICIAL, "e": {"w1": 100.0, "w2": 50.0}}
    report = fidelity(dev, official, ["w1", "w2"], {**FRAMEWORKS, "e": "jax"})
    w1, w2 = report.workloads
    assert (w1.pairs, w1.not_run) == (5, 0)
    assert (w2.pairs, w2.agree, w2.not_run) == (4, 3, 1)
    assert report.hits_by_framework["jax"]["not_run"] == 1
    assert report.dev_scores["e"] < report.dev_scores["a"]  # w2 counts as a miss in the score


def test_no_common_entry_is_one_sentence():
    from sdk.errors import PacelineError

    with pytest.raises(PacelineError, match="matched by folder name"):
        fidelity({"x": {"w": 1.0}}, {"y": {"w": 1.0}}, ["w"])


# --- the official times come from the published logs -------------------------------------

CALIBRATION = ["schedule_free_adamw_v2", "ademamix", "schedule_free_adamw", "nadamw_baselinev05",
               "lion", "nadamw_resnet", "schedule_free_adamw_jax",
               "muon_torch_replicated_jax_hps"]
WORKLOADS = ["fastmri", "ogbg", "criteo1tb"]


def _reference_times(logs) -> dict[str, dict[str, float]]:
    path = logs / "reference_outputs" / "rolling_a100_self_tuning" / "time_to_targets.csv"
    with open(path, newline="") as f:
        return {row["submission"]: {w: float(row[w]) for w in WORKLOADS}
                for row in csv.DictReader(f)}


def test_fidelity_command_reads_official_times_from_the_logs(reference_logs, tmp_path):
    """A dev leaderboard file with made-up dev times for the calibration set, compared with
    the rolling A100 logs: official times equal the reference scorer's table."""
    from sdk.dev_leaderboard import FORMAT, ranks, scores_of

    dev = {name: {w: 10.0 + i + j for j, w in enumerate(WORKLOADS)}
           for i, name in enumerate(CALIBRATION)}
    dev["lion"]["ogbg"] = INF
    scores = scores_of(dev, WORKLOADS)
    place = ranks(scores)
    data = {"format": FORMAT, "scale": "dev", "ruleset": "self", "ruleset_version": "0.6",
            "command": "hand-made for the test", "workloads": WORKLOADS, "official": None,
            "entries": {n: {"framework": "jax" if "jax" in n or "nadamw" in n else "pytorch",
                            "upstream": {"repository": "unknown", "commit": "unknown",
                                         "path": n},
                            "command": "none", "status": "ran", "reason": "",
                            "dev_score": scores[n], "dev_rank": place[n],
                            "workloads": {w: {"time_to_target_sec": None if t == INF else t,
                                              "study_times": [None if t == INF else t]}
                                          for w, t in times.items()}}
                        for n, times in dev.items()}}
    path = tmp_path / "dev_leaderboard_self_v0.6.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "fidelity.json"
    logs = reference_logs / "rolling_a100_scoring_branch" / "logs" / "self_tuning"
    targets = reference_logs / "workload_targets" / "workload_targets_latest_9wl.json"
    assert main(["leaderboard", "fidelity", str(path), "--official", str(logs),
                 "--official-targets", str(targets), "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["entries"] == sorted(CALIBRATION)
    expected = _reference_times(reference_logs)
    for name in CALIBRATION:
        for w in WORKLOADS:
            got = result["official_times"][name][w]
            want = expected[name][w]
            assert (got is None) == math.isinf(want), (name, w)
            if got is not None:
                assert got == pytest.approx(want, rel=1e-9), (name, w)
    assert result["workloads"][1]["workload"] == "ogbg"
    assert result["hit_pairs"] == len(CALIBRATION) * len(WORKLOADS)


def test_fidelity_command_bad_official_folder_is_one_sentence(tmp_path, capsys):
    assert main(["leaderboard", "fidelity", str(tmp_path), "--official",
                 str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert "is not a folder of official logs" in err and "Traceback" not in err
