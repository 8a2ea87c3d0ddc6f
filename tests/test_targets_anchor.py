"""Dev targets anchored on the reference's official runs (`paceline targets --anchor`).

    .venv/bin/python -m pytest tests/test_targets_anchor.py -q
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from sdk.cli.main import main
from workloads.target_setting import anchor_runs
from workloads.target_setting.anchor import (
    OfficialAnchor,
    Run,
    anchored_target,
    error_of,
    official_anchor,
    read_run,
    value_of,
)

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "algoperf_reference_logs"
BASELINE = SHARED / "rolling_a100_scoring_branch" / "logs" / "self_tuning" / "nadamw_baselinev05"


def write_trial(folder: Path, curve: list[tuple[float, float]], metric: str, target: float,
                budget: float) -> Path:
    """An official-style trial folder: meta_data_0.json and eval_measurements.csv."""
    folder.mkdir(parents=True)
    (folder / "meta_data_0.json").write_text(json.dumps({
        "workload.target_metric_name": metric, "workload.validation_target_value": target,
        "workload.max_allowed_runtime_sec": budget}))
    with open(folder / "eval_measurements.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["global_step", "accumulated_submission_time", f"validation/{metric}"])
        for i, (t, v) in enumerate(curve):
            w.writerow([i * 10, t, v])
    return folder


def anchor(shares: tuple[float | None, ...], bests: tuple[float, ...], metric: str = "accuracy",
           target: float = 0.8) -> OfficialAnchor:
    return OfficialAnchor("w", "jax", metric, target, 100.0, shares, bests)


@pytest.mark.parametrize("metric, value, error", [
    ("accuracy", 0.75, 0.25), ("ssim", 0.7, 0.3), ("mean_average_precision", 0.28, 0.72),
    ("bleu", 30.0, 70.0), ("wer", 0.12, 0.12), ("loss", 0.1237, 0.1237), ("ppl", 22.3, 22.3),
])
def test_error_is_the_distance_from_a_perfect_score(metric: str, value: float,
                                                    error: float) -> None:
    assert error_of(value, metric) == pytest.approx(error)
    assert value_of(error_of(value, metric), metric) == pytest.approx(value)


def test_the_median_share_counts_a_miss_as_later_than_any_hit() -> None:
    assert anchor((0.9, 0.8, None), (0.81, 0.82, 0.79)).share == 0.9
    assert anchor((0.9, None, None), (0.81, 0.79, 0.79)).share is None
    assert anchor((0.2, 0.6), (0.9, 0.9)).share == pytest.approx(0.4)


def test_a_reached_target_becomes_what_the_dev_runs_reach_at_the_same_share() -> None:
    runs = [Run(50.0, ((10.0, 0.5), (20.0, 0.6), (30.0, 0.7), (50.0, 0.9))),
            Run(50.0, ((10.0, 0.55), (20.0, 0.65), (30.0, 0.62), (50.0, 0.8))),
            Run(50.0, ((10.0, 0.4), (20.0, 0.5), (30.0, 0.66), (50.0, 0.95)))]
    got = anchored_target(anchor((0.6, 0.5, 0.7), (0.82, 0.83, 0.81)), runs, "accuracy",
                          (0.9, None))
    # share 0.6 of 50 s = 30 s: best so far 0.7, 0.65, 0.66 -> median 0.66
    assert got.rule == "share" and got.validation_target == 0.66
    assert got.per_run == [0.7, 0.65, 0.66] and got.test_target is None
    # and each dev run reaches 0.66 at: 30 s, 50 s, 30 s of its 50 s budget
    assert got.dev_shares == [0.6, 1.0, 0.6]
    assert got.as_record(anchor((0.6,), (0.82,)))["dev_shares"] == [0.6, 1.0, 0.6]


def test_the_share_point_is_read_between_the_evals_around_it() -> None:
    # evals 13 s apart (finewebedu_lm holds ten a budget): at 43% of 120 s = 51.6 s the
    # last eval before lies at 39 s; the curve passes 51.6 s between 39 s and 52 s
    run = Run(120.0, ((13.0, 236.0), (26.0, 128.0), (39.0, 83.0), (52.0, 62.0)))
    assert run.best_by(51.6, True) == 83.0
    assert run.best_at(51.6, True) == pytest.approx(83.0 - 21.0 * 12.6 / 13.0)
    assert run.best_at(39.0, True) == 83.0 and run.best_at(200.0, True) == 62.0
    assert run.best_at(5.0, True) is None
    # the best so far, not the value: a worse eval after the time does not pull it back
    bumpy = Run(30.0, ((10.0, 0.5), (20.0, 0.7), (30.0, 0.6)))
    assert bumpy.best_at(25.0, False) == pytest.approx(0.7)
    got = anchored_target(anchor((0.43,), (0.9,), "ppl", 50.0), [run], "ppl", (60.0, None))
    assert got.per_run[0] == pytest.approx(run.best_at(51.6, True))


def test_a_missed_target_lies_as_far_beyond_the_dev_best_as_officially() -> None:
    # officially the best WER 0.2 against a target of 0.1: half the error
    runs = [Run(40.0, ((20.0, 0.5), (40.0, 0.4))), Run(40.0, ((20.0, 0.45), (40.0, 0.44)))]
    got = anchored_target(anchor((None, None), (0.2, 0.2), "wer", 0.1), runs, "wer",
                          (0.3, 0.33))
    assert got.rule == "gap"
    assert got.validation_target == pytest.approx(0.21, abs=1e-5)  # median best 0.42 x 0.5
    assert got.test_target == pytest.approx(0.231, abs=1e-5)  # test/validation ratio 1.1 kept
    assert got.validation_target < min(r.best_by(40.0, True) for r in runs)


def test_targets_are_rounded_towards_easier() -> None:
    runs = [Run(10.0, ((5.0, 0.123456789),))]
    got = anchored_target(anchor((0.5,), (0.9,)), runs, "accuracy", (0.9, 0.85))
    assert got.validation_target == 0.123456 and got.validation_target <= 0.123456789


def test_an_eval_beyond_the_budget_is_not_a_hit(tmp_path: Path) -> None:
    trial = write_trial(tmp_path / "study_0" / "ogbg_jax" / "trial_1",
                        [(10.0, 0.1), (60.0, 0.25), (120.0, 0.3)], "mean_average_precision",
                        0.28, 100.0)
    run = read_run(trial, "mean_average_precision")
    assert run.budget_sec == 100.0 and run.first_reaching(0.28, False) is None
    assert run.best_by(100.0, False) == 0.25


def test_official_anchor_reads_every_study(tmp_path: Path) -> None:
    for k, curve in enumerate([[(10, 0.1), (40, 0.29)], [(10, 0.2), (80, 0.3)],
                               [(10, 0.1), (90, 0.2)]]):
        write_trial(tmp_path / f"study_{k}" / "ogbg_jax" / "trial_1", curve,
                    "mean_average_precision", 0.28, 100.0)
    got = official_anchor(tmp_path, "ogbg", 1.0)
    assert got.framework == "jax" and got.shares == (0.4, 0.8, None)
    assert got.bests == (0.29, 0.3, 0.2) and got.share == 0.8
    assert got.error_ratio == pytest.approx(0.72 / 0.71)
    # a self-tuning run has 1.5 times the logged budget: the eval at 120 s now counts
    self_tuning = official_anchor(tmp_path, "ogbg", 1.5)
    assert self_tuning.shares == (pytest.approx(0.4 / 1.5), pytest.approx(0.8 / 1.5), None)


def test_a_study_with_several_trials_is_refused(tmp_path: Path) -> None:
    from sdk.errors import PacelineError

    for n in (1, 2):
        write_trial(tmp_path / "study_0" / "ogbg_jax" / f"trial_{n}", [(1, 0.3)],
                    "mean_average_precision", 0.28, 10.0)
    with pytest.raises(PacelineError, match="one trial per study"):
        official_anchor(tmp_path, "ogbg", 1.5)


@pytest.mark.skipif(not BASELINE.is_dir(), reason=f"the shared reference logs are absent "
                                                  f"({BASELINE})")
def test_the_published_baseline_anchors_as_measured() -> None:
    """The 2026 A100 round: the NAdamW baseline reaches ogbg at 24% of its self-tuning budget
    (1.5 x the logged 11,303 s; median of 29%, 24%, 21%) and misses the Conformer's WER
    0.0859 with a median best of 0.146."""
    ogbg = official_anchor(BASELINE, "ogbg", 1.5)
    assert ogbg.share == pytest.approx(4089.8 / (1.5 * 11303), abs=1e-3)
    conformer = official_anchor(BASELINE, "librispeech_conformer", 1.5)
    assert conformer.share is None and conformer.error_ratio == pytest.approx(0.590, abs=1e-3)
    assert math.isclose(conformer.target, 0.085884)


@pytest.mark.parametrize("extra, message", [
    (["--anchor", "no/such/folder"], "is not a folder of official logs"),
    (["--anchor", ".", "--algorithms", "nadamw"], "leave out"),
])
def test_bad_anchor_input_is_one_sentence(extra: list[str], message: str, tmp_path: Path,
                                          capsys: pytest.CaptureFixture) -> None:
    code = main(["targets", "ogbg", *extra, "--experiment-dir", str(tmp_path / "exp")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "exp").exists()


def test_logs_without_the_workload_are_one_sentence(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture) -> None:
    write_trial(tmp_path / "logs" / "study_0" / "fastmri_jax" / "trial_1", [(1, 0.7)], "ssim",
                0.72, 10.0)
    code = main(["targets", "ogbg", "--anchor", str(tmp_path / "logs"),
                 "--experiment-dir", str(tmp_path / "exp")])
    err = capsys.readouterr().err
    assert code == 2 and "no official trial of ogbg" in err and not (tmp_path / "exp").exists()


def test_the_reference_runs_as_paceline_run_would(tmp_path: Path) -> None:
    """The dev runs are `paceline run` of the NAdamW baseline, self-tuning, whole budgets."""
    import argparse

    args = argparse.Namespace(seeds=3, seed=7, jobs=2, experiment_dir=str(tmp_path),
                              ruleset_version="a100-2026", data_dir=None, threads=None,
                              clock="dev", resume=True, overwrite=False)
    argv = anchor_runs.run_arguments(args, ["ogbg", "wmt"], "jax")
    joined = " ".join(argv)
    assert "--submission nadamw --ruleset self --ruleset-version a100-2026" in joined
    assert "--framework jax" in joined and "--studies 3 --seed 7" in joined
    assert "--workload ogbg --workload wmt" in joined and argv[-1] == "--resume"
    assert "--experiment-name anchor/a100-2026" in joined and "--whole-budget" in argv


def test_whole_budget_runs_ignore_the_targets(tmp_path: Path) -> None:
    """`paceline run --whole-budget` (and `leaderboard run --whole-budget`, which passes it
    on) trains past the targets: the runner's ignore_targets."""
    import argparse

    from sdk.cli import leaderboard_cmd, run_cmd
    from sdk.run_context import prepare

    parser = argparse.ArgumentParser()
    run_cmd.configure(parser)
    base = ["--workload", "mnist", "--submission", "nadamw", "--experiment-dir", str(tmp_path)]
    assert prepare(parser.parse_args([*base, "--whole-budget"])).options.ignore_targets
    assert not prepare(parser.parse_args(base)).options.ignore_targets

    class Entry:
        submission, framework, name = tmp_path / "submission.py", "pytorch", "x"

    lb = argparse.ArgumentParser()
    leaderboard_cmd.configure(lb)
    args = lb.parse_args(["run", str(tmp_path), "--whole-budget"])
    assert "--whole-budget" in leaderboard_cmd._run_argv(Entry(), args, ["mnist"], 0, tmp_path)


def test_the_record_keeps_the_earlier_procedure_as_provenance() -> None:
    previous = {"command": "paceline targets ogbg --trials 2", "numbers": {
        "0.5": {"validation_target_value": 0.668, "test_target_value": 0.62},
        "0.6": {"validation_target_value": 0.668, "test_target_value": 0.62}}}
    target = anchored_target(anchor((0.4,), (0.3,), "mean_average_precision", 0.28),
                             [Run(10.0, ((4.0, 0.5), (10.0, 0.6)))], "mean_average_precision",
                             (0.668, 0.62))
    record = anchor_runs.anchor_record(previous, anchor((0.4,), (0.3,)), target,
                                       "paceline targets ogbg --anchor L", [Path("t1")])
    assert record["target_setting_command"] == "paceline targets ogbg --trials 2"
    assert record["command"] == "paceline targets ogbg --anchor L"
    assert {n["validation_target_value"] for n in record["numbers"].values()} == {0.5}
    assert record["anchor"]["rule"] == "share" and record["anchor"]["dev_trials"] == ["t1"]
    assert previous["numbers"]["0.5"]["validation_target_value"] == 0.668  # not mutated


def test_anchor_mode_derives_and_writes_from_the_reference_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """The whole `--anchor ... --write` path, the dev runs replaced by written trial folders:
    official share 40% (median of 30%, 40%, miss; the logged budget 100 s x 1.5 under the 2026
    rules) -> the dev runs' best by 40% of 50 s."""
    from workloads import calibration_record
    from workloads.target_setting import cli as cli_targets

    logs = tmp_path / "logs"
    for k, curve in enumerate([[(45, 0.3)], [(60, 0.29), (135, 0.3)], [(75, 0.2)]]):
        write_trial(logs / f"study_{k}" / "ogbg_jax" / "trial_1", curve,
                    "mean_average_precision", 0.28, 100.0)
    dev = [write_trial(tmp_path / "dev" / f"study_{k}" / "ogbg_jax" / "trial_1",
                       [(10, 0.3 + k / 100), (20, 0.5 + k / 100), (50, 0.7)],
                       "mean_average_precision", 0.668, 50.0) for k in range(3)]
    seen: dict[str, object] = {}
    monkeypatch.setattr(anchor_runs, "run_reference",
                        lambda argv: seen.update(argv=argv) or {"ogbg": dev})
    monkeypatch.setattr(calibration_record, "read_record", lambda name: {
        "command": "paceline targets ogbg --trials 2",
        "numbers": {"0.5": {"validation_target_value": 0.668, "test_target_value": 0.622}}})
    monkeypatch.setattr(cli_targets, "write",
                        lambda name, record, sync: seen.update(name=name, record=record,
                                                               sync=sync))
    code = main(["targets", "ogbg", "--anchor", str(logs), "--ruleset-version", "a100-2026",
                 "--seeds", "3", "--experiment-dir", str(tmp_path / "exp"), "--write",
                 "--json", str(tmp_path / "anchored.json")])
    assert code == 0, capsys.readouterr().err
    derived = json.loads((tmp_path / "anchored.json").read_text())["workloads"]["ogbg"]
    assert derived["rule"] == "share" and derived["validation_target"] == 0.51
    from sdk.registry import workloads

    shipped = workloads().workload_class("ogbg", "dev", "jax").numbers_for("0.5")
    assert derived["previous"]["validation_target_value"] == shipped.validation_target_value
    out = capsys.readouterr().out
    assert "at 40% of its budget" in out and " -> 0.51, test target" in out
    assert "CHECK" not in out  # the runs carry no doubtful measurement
    record = seen["record"]
    assert seen["name"] == "ogbg" and record["anchor"]["rule"] == "share" and not seen["sync"]
    assert record["numbers"]["0.5"]["validation_target_value"] == 0.51  # median of .5,.51,.52
    assert "--anchor" in record["command"] and "--framework jax" in " ".join(seen["argv"])


def test_a_run_whose_measurement_is_doubtful_is_named(tmp_path: Path) -> None:
    """A reference run flagged by its own measurement check (47% of a core: two trials on one
    core) is named, so the target is not taken on trust; the verdict is read from the trial's
    final record (its status file), as `paceline reference build` reads it."""
    from sdk.trial_record import TrialResult, measurement_doubt, write_status

    trial = write_trial(tmp_path / "t", [(10, 0.5)], "accuracy", 0.8, 50.0)
    assert measurement_doubt(trial) is None  # no status file: nothing flagged
    problem = "the trial got 47% of a core, too busy a machine for CPU time to hold"
    result = TrialResult(
        workload="w", framework="jax", scale="dev", ruleset="self", ruleset_version="0.5",
        api_version="0.5", study=0, trial=1, budget_sec=50.0, target_metric="accuracy",
        validation_target=0.8, test_target=None, reached_validation_target=False,
        reached_test_target=False, time_to_target_sec=None, test_time_to_target_sec=None,
        best_validation_metric=0.5, global_step=10, submission_time_sec=10.0,
        eval_time_sec=1.0, logging_time_sec=0.0, total_duration_sec=11.0, num_evals=1,
        status="budget_exhausted", measurement_trusted=False, measurement_note=problem)
    write_status(trial, "budget_exhausted", "", result)
    assert measurement_doubt(trial) == problem
    result.measurement_trusted = True
    write_status(trial, "budget_exhausted", "", result)
    assert measurement_doubt(trial) is None
