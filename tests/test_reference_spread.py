"""Reference timings carry their spread over studies, and a run is placed inside or outside it."""

from __future__ import annotations

import math

import pytest

from sdk.references import Spread, dev_eval_periods, reference_spread

DATA = {"baselines": {
    "nadamw": {
        "mnist": {"time_to_target_sec": 10.0, "study_times": [9.0, 10.0, 12.0]},
        "ogbg": {"time_to_target_sec": 40.0, "study_times": [40.0, None, 38.0]},
        "wmt": {"time_to_target_sec": None, "study_times": [None, None]},
    },
    "old": {"mnist": {"time_to_target_sec": 7.5}},
}}


def test_the_spread_is_read_from_study_times():
    spread = reference_spread(DATA)
    assert spread["nadamw"]["mnist"] == Spread(10.0, 9.0, 12.0, 3, 0)
    assert spread["nadamw"]["ogbg"] == Spread(40.0, 38.0, 40.0, 3, 1)
    assert spread["nadamw"]["wmt"].misses == 2
    assert spread["old"]["mnist"] == Spread(7.5, 7.5, 7.5, 1, 0)  # files without study_times
    assert set(reference_spread(DATA, ["wmt"])["nadamw"]) == {"wmt"}


def test_a_run_is_placed_against_the_spread():
    mnist = Spread(10.0, 9.0, 12.0, 3, 0)
    assert mnist.place(9.5) == "inside"
    assert mnist.place(8.0) == "faster"
    assert mnist.place(13.0) == "slower"
    assert mnist.place(math.inf) == "slower"
    some_missed = Spread(40.0, 38.0, 40.0, 3, 1)
    assert some_missed.place(55.0) == "inside"  # a study of the reference missed too
    assert some_missed.place(math.inf) == "inside"
    never = Spread(math.inf, math.inf, math.inf, 2, 2)
    assert never.place(30.0) == "faster"
    assert "[9.0-12.0]" in mnist.text() and "n=3" in mnist.text()
    assert never.text().startswith("miss")
    assert some_missed.text() == "40.0 [38.0-40.0] (n=3, 1 missed)"
    assert Spread(math.inf, 21.7, 21.7, 3, 2).text() == "miss [21.7] (n=3, 2 missed)"


def test_times_at_the_same_evaluation_are_not_told_apart():
    """Times are read at evaluations: half an evaluation period either side of the range is
    still the evaluation a study reached the target at (a step's cost apart under the dev
    clock); a whole period before the fastest study is an evaluation earlier."""
    mnist = reference_spread(DATA, ["mnist"], {"mnist": 2.0})["nadamw"]["mnist"]
    assert mnist.eval_period == 2.0
    assert mnist.place(8.9) == "inside"  # 0.1 s before the fastest study: the same eval
    assert mnist.place(12.9) == "inside"
    assert mnist.place(7.0) == "faster"  # one evaluation earlier
    assert mnist.place(14.0) == "slower"
    assert Spread(10.0, 9.0, 12.0, 3, 0).place(8.9) == "faster"  # period unknown: exact


def test_the_dev_evaluation_periods_come_from_the_rules_version():
    periods = dev_eval_periods(["mnist", "ogbg", "no_such_workload"], "0.5", "pytorch")
    assert set(periods) == {"mnist", "ogbg"} and all(p > 0 for p in periods.values())
    # the 2026 rules give each framework its own dev budget, and so its own period
    jax = dev_eval_periods(["librispeech_deepspeech"], "a100-2026", "jax")
    torch = dev_eval_periods(["librispeech_deepspeech"], "a100-2026", "pytorch")
    assert jax != torch


def test_reference_show_prints_each_entry_with_its_spread_clock_and_command(tmp_path, capsys):
    import json

    from sdk.cli.main import main

    path = tmp_path / "dev_external_v0.5.json"  # two builds added up: one before the dev clock
    path.write_text(json.dumps({
        "scale": "dev", "ruleset": "external", "ruleset_version": "0.5", "framework": "pytorch",
        "clock": "dev", "command": "paceline reference build --baselines nadamw",
        "baselines": {
            "nadamw": {"mnist": {"time_to_target_sec": 10.0, "study_times": [9.0, 10.0, 12.0],
                                 "target": 0.89, "budget_sec": 20.0, "clock": "dev",
                                 "command": "paceline reference build --baselines nadamw"}},
            "momentum": {"mnist": {"time_to_target_sec": None, "study_times": [None],
                                   "target": 0.89, "budget_sec": 20.0, "clock": "wall",
                                   "command": "paceline reference build --threads 1"}}}}))
    assert main(["reference", "show", "--file", str(path)]) == 0
    out = capsys.readouterr().out
    rows = {tuple(line.split()[:2]): line for line in out.splitlines()
            if line.startswith("mnist")}
    assert "10.0 [9.0-12.0] (n=3)" in rows["mnist", "nadamw"] and " dev " in rows[
        "mnist", "nadamw"]
    assert "miss (n=1)" in rows["mnist", "momentum"] and " wall " in rows["mnist", "momentum"]
    assert "[1] paceline reference build --threads 1" in out  # commands listed once each
    assert "[2] paceline reference build --baselines nadamw" in out
    assert "measurement" not in out  # nothing flagged, no column for it
    data = json.loads(path.read_text())
    data["baselines"]["nadamw"]["mnist"]["untrusted_trials"] = 2
    path.write_text(json.dumps(data))
    assert main(["reference", "show", "--file", str(path)]) == 0
    out = capsys.readouterr().out
    assert "CHECK: 2 flagged" in next(line for line in out.splitlines()
                                      if line.startswith("mnist") and "nadamw" in line)


def test_a_reader_that_leaves_early_ends_the_command_quietly():
    """`paceline reference show | head -1`: the pipe closes before the table is written."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "sdk.cli.main", "reference", "show",
                             "--variants"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before the command writes anything
    err = proc.stderr.read().decode()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 141
    assert "Traceback" not in err and "BrokenPipe" not in err


def test_seed_noise_pools_log_spreads_of_the_shipped_entries_and_extra_repeats(
        tmp_path, monkeypatch):
    import json

    from sdk.references import seed_noise

    (tmp_path / "dev_external_v0.5.json").write_text(json.dumps(DATA))
    (tmp_path / "dev_leaderboard_self_v0.6.json").write_text(json.dumps({"entries": {}}))
    (tmp_path / "official_external_v0.5.json").write_text(json.dumps(
        {"baselines": {"b": {"ogbg": {"study_times": [1.0, 100.0]}}}}))
    monkeypatch.setattr("sdk.references.reference_dirs", lambda: [tmp_path])
    logs = [math.log(t) for t in (9.0, 10.0, 12.0)]
    mean = sum(logs) / 3
    mnist = seed_noise("mnist")
    assert mnist is not None and mnist.dof == 2
    assert mnist.std == pytest.approx(math.sqrt(sum((x - mean) ** 2 for x in logs) / 2))
    ogbg = seed_noise("ogbg")  # one miss among three: one degree of freedom; official ignored
    assert ogbg is not None and ogbg.dof == 1
    assert ogbg.std == pytest.approx(abs(math.log(40.0) - math.log(38.0)) / math.sqrt(2))
    assert seed_noise("wmt") is None  # missed in every study: nothing to measure
    pooled = seed_noise("wmt", extra=[[5.0, 5.0 * math.e], [3.0, math.inf], [7.0]])
    assert pooled is not None and pooled.dof == 1
    assert pooled.std == pytest.approx(math.sqrt(0.5))
    assert pooled.source == "configurations run more than once (1)"
    both = seed_noise("mnist", extra=[[5.0, 5.0 * math.e]])
    assert both is not None and both.dof == 3
    assert both.source == ("the shipped reference timings (2) and configurations run more "
                           "than once (1)")
