"""Every shipped reference-timings file (``baselines/reference_timings``) is what its name
says, holds what `paceline run` can compare with, and was timed against today's targets.

    .venv/bin/python -m pytest tests/test_shipped_references.py -q

A retargeted workload whose entries were not rebuilt fails here, naming the command to
rerun, instead of being left out of every comparison in silence ("other targets").
"""

from __future__ import annotations

import math
import statistics
from pathlib import Path

import pytest

from sdk.references import file_name, load_reference, made_by

FOLDER = Path(__file__).resolve().parents[1] / "baselines" / "reference_timings"
FILES = sorted(p for p in FOLDER.glob("dev_*_v*.json") if "leaderboard" not in p.name)
MIN_STUDIES = 3  # issue #14: at least three seeds per baseline and workload
NOT_REBUILT: dict[str, str] = {}  # file -> why it still holds entries of an earlier clock


def _entries(path: Path):
    data = load_reference(path)
    for baseline, per_workload in data["baselines"].items():
        for workload, entry in per_workload.items():
            yield data, f"{path.name}: {baseline} on {workload}", workload, entry


def _seconds(t: float | None) -> float:
    return math.inf if t is None else float(t)


def test_reference_files_ship():
    assert FILES, f"no reference-timings files under {FOLDER}"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_the_header_matches_the_file_name(path):
    data = load_reference(path)
    kind = "variants" if path.stem.endswith("_variants") else ""
    assert file_name(data["scale"], data["ruleset"], data["ruleset_version"], kind) == path.name
    assert data["baselines"], f"{path.name} times no baseline"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_entry_is_a_median_over_its_studies_within_its_budget(path):
    for _, where, _, entry in _entries(path):
        studies = [_seconds(t) for t in entry["study_times"]]
        assert studies, f"{where}: no study times"
        assert all(t <= entry["budget_sec"] for t in studies if math.isfinite(t)), where
        assert statistics.median(studies) == _seconds(entry["time_to_target_sec"]), where
        assert entry["command"].startswith("paceline reference build"), where


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_entry_was_timed_against_the_current_dev_target(path):
    from sdk.registry import workloads

    stale = []
    for data, where, workload, entry in _entries(path):
        framework = workloads().entry(workload).frameworks("dev")[0]
        numbers = workloads().workload_class(workload, "dev", framework).numbers_for(
            data["ruleset_version"])
        if entry["target"] != numbers.validation_target_value:
            stale.append(f"{where} (target {entry['target']}, now "
                         f"{numbers.validation_target_value}; rerun: {entry['command']})")
    assert not stale, "timed against other targets: " + "; ".join(stale)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_entry_has_its_spread_under_the_dev_clock(path):
    problems = [f"{where}: timed before the dev clock" for data, where, _, entry
                in _entries(path) if made_by(data, entry)[1] != "dev"]
    problems += [f"{where}: fewer than {MIN_STUDIES} studies" for _, where, _, entry
                 in _entries(path) if len(entry["study_times"]) < MIN_STUDIES]
    if path.name in NOT_REBUILT:
        assert problems, f"{path.name} is rebuilt: take it out of NOT_REBUILT"
        pytest.xfail(NOT_REBUILT[path.name])
    assert not problems, "; ".join(problems)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_entry_holds_a_trial_that_flagged_its_own_measurement(path):
    flagged = [f"{where}: {entry['untrusted_trials']} trial(s)" for _, where, _, entry
               in _entries(path) if entry.get("untrusted_trials")]
    assert not flagged, ("built from trials whose measurement flagged itself (rerun them as "
                         "`paceline reference build` says): " + "; ".join(flagged))
