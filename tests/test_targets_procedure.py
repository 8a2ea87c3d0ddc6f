"""The target-setting procedure: its arithmetic on hand-made runs, and the whole procedure on
MNIST with a few steps per run (PyTorch and JAX), including resuming and held-out variants.

    .venv/bin/python -m pytest tests/test_targets_procedure.py -q
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from sdk.cli.main import main
from sdk.errors import PacelineError
from sdk.registry import WorkloadEntry, workloads
from workloads.mnist.pytorch import MnistPyTorchDev
from workloads.target_setting import procedure as ts


def _record(kind: str, best: float | None, test: float | None, status: str = "max_global_steps",
            algorithm: str = "nadamw", trial: int = 1) -> ts.TrialRecord:
    return ts.TrialRecord(kind=kind, algorithm=algorithm, trial=trial, rng_seed=0,
                          hyperparameters={"learning_rate": 0.1}, status=status,
                          global_step=10, best_validation=best, test_at_best=test,
                          submission_time_sec=1.0, eval_time_sec=0.1, total_duration_sec=1.2,
                          trial_dir="/nowhere/reruns/trial_1")


def _plan(**kw: object) -> ts.Plan:
    base = dict(workload="mnist", framework="pytorch", base=None, algorithms=["nadamw"],
                trials=1, seeds=5, seed=0, budget_factor=4 / 3, runtime_sec=15.0, steps=3000,
                step_time_sec=0.005, eval_time_sec=0.02, eval_period_sec=0.2, budget_sec=20.0,
                step_hint=4000, probe={})
    base.update(kw)
    return ts.Plan(**base)


# ---- arithmetic ---------------------------------------------------------------------------
def test_target_is_the_median_and_test_target_the_worst_reaching_run() -> None:
    subject = ts.subject_for("mnist", "pytorch")  # accuracy, maximised
    reruns = [_record("rerun", 0.90, 0.85), _record("rerun", 0.93, 0.80),
              _record("rerun", 0.91, 0.88), _record("rerun", 0.95, 0.86),
              _record("rerun", 0.89, 0.70)]
    numbers, how = ts.derive_numbers(subject, _plan(), reruns)
    assert numbers.validation_target_value == pytest.approx(0.91)
    # runs at 0.91, 0.93, 0.95 reach 0.91; the worst of their test values is 0.80 (the 0.70
    # belongs to a run that missed the validation target)
    assert numbers.test_target_value == pytest.approx(0.80)
    assert how["reached_validation_target"] == [False, True, True, True, False]
    assert (numbers.max_allowed_runtime_sec, numbers.eval_period_time_sec,
            numbers.step_hint) == (20.0, 0.2, 4000)
    assert numbers.metric_minimized is False


def test_minimised_metrics_take_the_other_direction() -> None:
    class Loss:
        target_metric_name, metric_minimized = "loss", True
        test_target_value = 0.3  # the rules set a test target (finewebedu_lm's set none)

    subject = ts.Subject("mnist", "pytorch", None, Loss(), None)  # type: ignore[arg-type]
    reruns = [_record("rerun", 0.30, 0.33), _record("rerun", 0.20, 0.25),
              _record("rerun", 0.25, 0.31)]
    numbers, _ = ts.derive_numbers(subject, _plan(), reruns)
    assert numbers.validation_target_value == pytest.approx(0.25)
    assert numbers.test_target_value == pytest.approx(0.31)  # max of 0.25, 0.31


def test_no_finite_rerun_is_a_clear_error() -> None:
    subject = ts.subject_for("mnist", "pytorch")
    with pytest.raises(PacelineError, match="finite validation"):
        ts.derive_numbers(subject, _plan(), [_record("rerun", None, None, "diverged")])


def test_best_point_skips_diverged_and_failed_runs() -> None:
    runs = [_record("search", 0.99, 0.9, status="diverged", algorithm="momentum"),
            _record("search", None, None, status="failed", algorithm="adamw"),
            _record("search", 0.90, 0.9, algorithm="nadamw"),
            _record("search", 0.92, 0.9, algorithm="nesterov")]
    assert ts.pick_best(runs, minimized=False).algorithm == "nesterov"
    assert [r["algorithm"] for r in ts.algorithm_ranking(runs, False)] == ["nesterov", "nadamw"]
    with pytest.raises(PacelineError):
        ts.pick_best(runs[:2], minimized=False)


def test_rounding_never_makes_a_target_harder() -> None:
    assert ts.round_easier(0.91534567891, minimized=False) == 0.915345
    assert ts.round_easier(0.12373512, minimized=True) == 0.123736
    assert ts.round_easier(30.84912345, minimized=False) == 30.8491
    assert ts.round_easier(0.915, minimized=False) == 0.915


def test_eval_period_keeps_evals_under_a_tenth_of_wall_time() -> None:
    period = ts.eval_period_for(eval_time=0.5, budget=60.0)
    assert period >= 4.5 and 0.5 / (0.5 + period) <= 0.10
    # cheap evals: at most 100 per budget
    assert ts.eval_period_for(eval_time=0.001, budget=60.0) == pytest.approx(0.6)


def test_best_eval_and_timing_from_eval_rows() -> None:
    rows = [
        {"global_step": 1, "accumulated_submission_time": 2.0, "accumulated_eval_time": 1.0,
         "validation/accuracy": 0.1, "test/accuracy": 0.12},
        {"global_step": 101, "accumulated_submission_time": 3.0, "accumulated_eval_time": 1.2,
         "validation/accuracy": 0.8, "test/accuracy": 0.75},
        {"global_step": 201, "accumulated_submission_time": 4.0, "accumulated_eval_time": 1.4,
         "validation/accuracy": 0.7, "test/accuracy": 0.79},
    ]
    assert ts.best_eval(rows, "accuracy", minimized=False) == (0.8, 0.75)
    step, evals = ts.timing_from_rows(rows, 201, 4.0)
    assert step == pytest.approx(0.01)  # the first (compiling) step is left out
    assert evals == pytest.approx(0.2)  # so is the first eval


def test_budget_factor_reads_fractions() -> None:
    assert ts.parse_factor("4/3") == pytest.approx(4 / 3)
    assert ts.format_factor(4 / 3) == "4/3" and ts.format_factor(1.5) == "3/2"
    with pytest.raises(PacelineError):
        ts.parse_factor("fast")


# ---- the whole procedure on MNIST -----------------------------------------------------------
def _targets(tmp_path: Path, *extra: str) -> dict:
    out = tmp_path / "targets.json"
    code = main(["targets", *extra, "--experiment-dir", str(tmp_path / "runs"), "--json",
                 str(out), "--probe-seconds", "1", "--threads", "1"])
    assert code == 0
    return json.loads(out.read_text())["workloads"]


def test_mnist_end_to_end_and_resume(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    args = ["mnist", "--steps", "40", "--trials", "1", "--seeds", "3",
            "--algorithms", "nadamw,momentum"]
    record = _targets(tmp_path, *args)["mnist"]
    trials = record["trials"]
    assert [(t["kind"], t["algorithm"]) for t in trials] == [
        ("search", "nadamw"), ("search", "momentum"),
        ("rerun", record["best"]["algorithm"]), ("rerun", record["best"]["algorithm"]),
        ("rerun", record["best"]["algorithm"])]
    assert all(t["global_step"] == 40 and t["status"] == "max_global_steps" for t in trials)
    search = [t for t in trials if t["kind"] == "search"]
    assert record["best"]["best_validation"] == max(t["best_validation"] for t in search)
    reruns = [t for t in trials if t["kind"] == "rerun"]
    assert len({t["rng_seed"] for t in reruns}) == 3  # three different seeds
    v05 = record["numbers"]["0.5"]
    median = statistics.median(t["best_validation"] for t in reruns)
    assert v05["validation_target_value"] == pytest.approx(median, abs=1e-6)
    reaching = [t["test_at_best"] for t in reruns if t["best_validation"] >= median]
    assert v05["test_target_value"] == pytest.approx(min(reaching), abs=1e-6)
    runtime = record["procedure"]["runtime_sec"]
    assert v05["max_allowed_runtime_sec"] == pytest.approx(4 / 3 * runtime, abs=0.06)
    assert v05["step_hint"] == int(4 / 3 * 40)
    assert record["numbers"]["0.6"] == v05  # MNIST's numbers are the same in both versions
    assert "--steps 40" in record["command"] and "--budget-factor 4/3" in record["command"]
    assert "best: " in capsys.readouterr().out

    # a second call without --resume refuses to mix runs; with --resume it reuses them all
    assert main(["targets", *args, "--experiment-dir", str(tmp_path / "runs")]) == 2
    assert "--resume" in capsys.readouterr().err
    stamps = {p: p.stat().st_mtime for p in (tmp_path / "runs").rglob("paceline_trial.json")}
    again = _targets(tmp_path, *args, "--resume")["mnist"]
    assert again["numbers"] == record["numbers"]
    assert {p: p.stat().st_mtime for p in stamps} == stamps  # nothing was rerun


def test_jax_end_to_end(tmp_path: Path) -> None:
    record = _targets(tmp_path, "mnist", "--framework", "jax", "--steps", "30", "--trials",
                      "1", "--seeds", "1", "--algorithms", "adamw,nesterov")["mnist"]
    assert record["framework"] == "jax"
    assert {t["algorithm"] for t in record["trials"] if t["kind"] == "search"} == {
        "adamw", "nesterov"}
    assert record["numbers"]["0.5"]["validation_target_value"] == pytest.approx(
        record["trials"][-1]["best_validation"], abs=1e-6)


class MnistHeldOutDev(MnistPyTorchDev):
    """A stand-in held-out variant of MNIST (same model) for the variant rules."""

    name = "mnist_heldout_test"


@pytest.fixture
def variant() -> str:
    name = MnistHeldOutDev.name
    workloads().register(WorkloadEntry(
        name=name, base="mnist", scored=False,
        classes={"dev": {"pytorch": f"{__name__}:MnistHeldOutDev"}}))
    yield name
    from sdk.registry import _WORKLOADS

    _WORKLOADS.entries.pop(name, None)


def test_variants_use_two_algorithms_and_the_base_budget(tmp_path: Path, variant: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import workloads.calibration_record as cr

    # base and variant in one call: the variant takes the base's fresh numbers and ranking
    records = _targets(tmp_path, "mnist", variant, "--steps", "20", "--trials", "1",
                       "--seeds", "1")
    base, record = records["mnist"], records[variant]
    assert list(records) == ["mnist", variant]
    assert record["base"] == "mnist" and base["base"] is None
    ranked = [r["algorithm"] for r in base["algorithm_ranking"]]
    assert len(base["procedure"]["algorithms"]) == 4
    assert record["procedure"]["algorithms"] == ranked[:2]
    keep = ("max_allowed_runtime_sec", "eval_period_time_sec", "step_hint")
    assert [record["numbers"]["0.5"][k] for k in keep] == [base["numbers"]["0.5"][k]
                                                           for k in keep]
    assert base["numbers"]["0.5"]["step_hint"] != MnistPyTorchDev.numbers_for("0.5").step_hint

    # alone, a variant falls back to the code's base numbers and NAdamW + Nesterov
    monkeypatch.setattr(cr, "read_record", lambda name: None)
    subject = ts.subject_for(variant, "pytorch")
    assert subject.base_numbers == MnistPyTorchDev.numbers_for("0.5")
    assert ts.default_algorithms(subject) == ts.PROCEDURE.variant_fallback


def test_runs_side_by_side_give_the_same_records(tmp_path: Path) -> None:
    """`--jobs 2` runs the search and the reruns in worker processes: same runs, same order,
    same metrics; the record says which clock timed them."""
    args = ["mnist", "--steps", "30", "--trials", "1", "--seeds", "2",
            "--algorithms", "nadamw,momentum"]
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one = _targets(tmp_path / "one", *args)["mnist"]
    two = _targets(tmp_path / "two", *args, "--jobs", "2")["mnist"]

    def key(record: dict) -> list:
        return [(t["kind"], t["algorithm"], t["trial"], t["rng_seed"], t["global_step"],
                 t["best_validation"]) for t in record["trials"]]

    assert key(one) == key(two)
    assert one["machine"]["clock"] == "dev" and "--clock dev" in one["command"]
