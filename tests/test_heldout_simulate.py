"""`paceline heldout` end to end on a small experiment: a stand-in family of one base workload
(MNIST with a target reached at the first eval) and two variants (one easy, one whose target
no run can reach), against a folder of synthetic competitor logs.
"""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import pytest

from sdk.cli.main import main
from sdk.registry import _WORKLOADS, WorkloadEntry, workloads
from workloads.mnist.pytorch import MnistPyTorchDev
from workloads.mnist.workload import DEV_NUMBERS


def _with_target(value: float):
    return classmethod(lambda cls, version: replace(DEV_NUMBERS, validation_target_value=value,
                                                    test_target_value=value))


class EasyMnist(MnistPyTorchDev):
    name = "mnist"
    numbers_for = _with_target(0.0)


class MnistEasy(MnistPyTorchDev):
    name = "mnist_easy"
    numbers_for = _with_target(0.0)


class MnistImpossible(MnistPyTorchDev):
    name = "mnist_impossible"
    numbers_for = _with_target(1.5)  # accuracy never exceeds 1


@pytest.fixture
def mnist_family():
    """Swap the registry's mnist for the stand-in family; restore it afterwards."""
    registry = workloads()
    original = registry.entry("mnist")
    for name, cls in (("mnist", "EasyMnist"), ("mnist_easy", "MnistEasy"),
                      ("mnist_impossible", "MnistImpossible")):
        registry.register(WorkloadEntry(
            name=name, classes={"dev": {"pytorch": f"{__name__}:{cls}"}},
            base=None if name == "mnist" else "mnist", scored=False,
            prepare=original.prepare, official_variant=True))
    yield
    registry.register(original)
    for name in ("mnist_easy", "mnist_impossible"):
        _WORKLOADS.entries.pop(name, None)


def _write_trial(root: Path, workload: str, target: float, rows: list[tuple[float, float]]):
    trial = root / "study_0" / f"{workload}_pytorch" / "trial_1"
    trial.mkdir(parents=True)
    with open(trial / "eval_measurements.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["global_step", "score", "accumulated_submission_time",
                    "validation/accuracy"])
        for i, (t, acc) in enumerate(rows, start=1):
            w.writerow([i * 10, t, t, acc])
    (trial / "meta_data_0.json").write_text(json.dumps({
        "paceline.scale": "dev", "workload.target_metric_name": "accuracy",
        "workload.validation_target_value": target, "paceline.metric_minimized": False,
        "paceline.budget_sec": 20.0}))


@pytest.fixture
def rival_logs(tmp_path: Path) -> Path:
    root = tmp_path / "competitors" / "rival"
    _write_trial(root, "mnist", 0.0, [(2.0, 0.5), (4.0, 0.9)])
    _write_trial(root, "mnist_easy", 0.0, [(2.0, 0.5)])
    _write_trial(root, "mnist_impossible", 1.5, [(2.0, 0.5), (4.0, 1.6)])  # synthetic
    return tmp_path / "competitors"


def _run(tmp_path: Path, *extra: str) -> int:
    return main(["heldout", "--submission", "nadamw", "--workloads", "mnist",
                 "--max-global-steps", "3", "--no-checkpoints", "--no-tensorboard",
                 "--experiment-dir", str(tmp_path / "exp"), "--seed", "0", "--draws", "200",
                 "--threads", "1", *extra])


def test_simulation_reports_the_risk_of_a_missed_variant(mnist_family, rival_logs, tmp_path,
                                                         capsys):
    out = tmp_path / "heldout.json"
    assert _run(tmp_path, "--reference", str(rival_logs), "--json", str(out)) == 0
    text = capsys.readouterr().out
    assert "Verdict: at risk on mnist (zeroed in 50% of draws: mnist_impossible missed its " \
           "target)" in text

    data = json.loads(out.read_text())
    me = "nadamw (this run)"
    assert data["competitors"] == ["rival"]
    mnist = data["workloads"]["mnist"]
    assert mnist["reached_target"] is True
    assert mnist["p_zeroed"] == 0.5
    assert 0.3 < mnist["p_zeroed_sampled"] < 0.7
    variants = {v["name"]: v for v in mnist["variants"]}
    assert variants["mnist_easy"]["reached_target"] is True
    assert variants["mnist_easy"]["zeroes_base"] is False
    assert variants["mnist_impossible"]["reached_target"] is False
    assert variants["mnist_impossible"]["zeroes_base"] is True
    # one base workload, the fastest on it: score 1 without the rule, 1/2 expected with it
    assert data["score_without_rule"][me] == pytest.approx(1.0)
    assert data["expected_score_with_rule"][me] == pytest.approx(0.5)

    # the trials are ordinary AlgoPerf-layout logs, one per workload
    root = Path(data["experiment"])
    for name in ("mnist", "mnist_easy", "mnist_impossible"):
        assert (root / "study_0" / f"{name}_pytorch" / "trial_1" /
                "eval_measurements.csv").is_file()

    # draws resample the recorded timings: a rerun with --resume trains nothing new
    stamp = (root / "study_0" / "mnist_pytorch" / "trial_1" / "eval_measurements.csv"
             ).stat().st_mtime_ns
    assert _run(tmp_path, "--reference", str(rival_logs), "--resume", "--draws", "50") == 0
    assert (root / "study_0" / "mnist_pytorch" / "trial_1" / "eval_measurements.csv"
            ).stat().st_mtime_ns == stamp


def test_existing_trials_need_resume_or_overwrite(mnist_family, rival_logs, tmp_path, capsys):
    assert _run(tmp_path, "--reference", str(rival_logs)) == 0
    capsys.readouterr()
    assert _run(tmp_path, "--reference", str(rival_logs)) == 2
    assert "--resume" in capsys.readouterr().err


def test_official_scale_logs_are_not_compared_with_a_dev_run(mnist_family, tmp_path, capsys):
    official = tmp_path / "official" / "someone" / "study_0" / "mnist_jax" / "trial_1"
    official.mkdir(parents=True)
    (official / "eval_measurements.csv").write_text(
        "global_step,score,validation/accuracy\n10,5.0,0.99\n")
    assert _run(tmp_path, "--reference", str(tmp_path / "official")) == 2
    assert "official-scale" in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [
    (["--workloads", "ogbg_gelu"], "is a variant of ogbg"),
    (["--workloads", "mnist", "--reference", "nadamw,nonesuch"], "neither a folder"),
    (["--workloads", "mnist", "--random-changes", "0"], "positive knob counts"),
])
def test_bad_input_is_one_sentence(mnist_family, tmp_path, capsys, argv, message):
    code = main(["heldout", "--submission", "nadamw", "--experiment-dir", str(tmp_path),
                 "--max-global-steps", "1", "--no-tensorboard", *argv])
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_reference_build_times_the_official_variants(mnist_family, tmp_path, monkeypatch,
                                                     capsys):
    out = tmp_path / "dev_external_v0.5_variants.json"
    assert main(["reference", "build", "--baselines", "nadamw", "--variants", "--workload",
                 "mnist", "--max-global-steps", "3", "--experiment-dir", str(tmp_path / "ref"),
                 "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    timed = data["baselines"]["nadamw"]
    assert set(timed) == {"mnist_easy", "mnist_impossible"}
    assert timed["mnist_easy"]["time_to_target_sec"] is not None
    assert timed["mnist_impossible"]["time_to_target_sec"] is None

    # a simulation compares with those shipped times and trains no reference itself
    base = json.loads(json.dumps(data))
    base["baselines"]["nadamw"] = {"mnist": {**timed["mnist_easy"], "target": 0.0}}
    import heldout.competitors as comp

    monkeypatch.setattr(comp, "shipped", lambda *a: [(tmp_path / "base.json", base),
                                                     (out, data)])
    capsys.readouterr()
    assert _run(tmp_path, "--no-reference-runs") == 0
    text = capsys.readouterr().out
    assert "against nadamw" in text
    assert not (tmp_path / "exp" / "dev" / "heldout" / "external_tuning" / "reference").exists()


def test_reference_builds_for_different_baselines_add_up(mnist_family, tmp_path):
    out = tmp_path / "ref.json"
    common = ["--workload", "mnist", "--max-global-steps", "2", "--threads", "1",
              "--experiment-dir", str(tmp_path / "ref"), "--out", str(out)]
    assert main(["reference", "build", "--baselines", "nadamw", *common]) == 0
    assert main(["reference", "build", "--baselines", "momentum", *common]) == 0
    data = json.loads(out.read_text())
    assert set(data["baselines"]) == {"nadamw", "momentum"}
    assert "nadamw" in data["baselines"]["nadamw"]["mnist"]["command"]
    assert "momentum" in data["baselines"]["momentum"]["mnist"]["command"]
    common_ogbg = [*common[:1], "ogbg", *common[2:]]
    assert main(["reference", "build", "--baselines", "nadamw", *common_ogbg]) == 0
    assert set(json.loads(out.read_text())["baselines"]["nadamw"]) == {"mnist", "ogbg"}
    assert main(["reference", "build", "--baselines", "adamw", "--replace", *common]) == 0
    assert set(json.loads(out.read_text())["baselines"]) == {"adamw"}


def test_a_build_counts_and_names_the_trials_that_flagged_their_measurement(
        mnist_family, tmp_path, monkeypatch, capsys):
    import sdk.clock

    out = tmp_path / "ref.json"

    def build(folder: str, *extra: str) -> int:
        assert main(["reference", "build", "--baselines", "nadamw", "--workload", "mnist",
                     "--max-global-steps", "2", "--jobs", "1", "--studies", "2",
                     "--experiment-dir", str(tmp_path / folder), "--out", str(out),
                     *extra]) == 0
        return json.loads(out.read_text())["baselines"]["nadamw"]["mnist"]["untrusted_trials"]

    assert build("quiet") == 0
    assert "flagged" not in capsys.readouterr().err
    with monkeypatch.context() as m:
        m.setattr(sdk.clock, "trust_problems", lambda *a: ["the machine drifted"])
        assert build("drifting") == 2
    err = capsys.readouterr().err
    assert "trial_1: the machine drifted" in err and "--retime-flagged" in err
    # the machine is itself again: the flagged trials are moved aside (kept) and timed again
    assert build("drifting", "--retime-flagged") == 0
    aside = list((tmp_path / "drifting" / "flagged").rglob("paceline_trial.json"))
    assert len(aside) == 2 and "2 flagged trial(s) of nadamw moved" in capsys.readouterr().err


def test_each_entry_records_the_clock_it_was_timed_with(mnist_family, tmp_path):
    out = tmp_path / "ref.json"  # a file made before the dev clock: no "clock" anywhere
    out.write_text(json.dumps({
        "scale": "dev", "ruleset": "external", "ruleset_version": "0.5", "framework": "pytorch",
        "command": "paceline reference build --baselines momentum --threads 1",
        "baselines": {"momentum": {"mnist": {"time_to_target_sec": 9.0, "study_times": [9.0],
                                             "budget_sec": 20.0, "target": 0.89}}}}))
    assert main(["reference", "build", "--baselines", "nadamw", "--workload", "mnist",
                 "--max-global-steps", "2", "--experiment-dir", str(tmp_path / "ref"),
                 "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    old, new = data["baselines"]["momentum"]["mnist"], data["baselines"]["nadamw"]["mnist"]
    assert (data["clock"], new["clock"], old["clock"]) == ("dev", "dev", "wall")
    assert old["command"] == "paceline reference build --baselines momentum --threads 1"


def test_self_tuning_ruleset(mnist_family, rival_logs, tmp_path):
    out = tmp_path / "self.json"
    assert _run(tmp_path, "--reference", str(rival_logs), "--ruleset", "self",
                "--json", str(out)) == 0
    data = json.loads(out.read_text())
    assert data["ruleset"] == "self"
    assert Path(data["experiment"]).parts[-2] == "self_tuning"
    assert data["workloads"]["mnist"]["p_zeroed"] == 0.5
