"""Submissions see AlgoPerf's workload API and nothing else (sdk/workload_view.py).

A hostile submission (tests/submissions/hostile) tries every route from its workload to the
evaluation splits, the data folder and the trial's eval log; each is refused, while the
baselines and the public API keep working through the view.

    .venv/bin/python -m pytest -q tests/test_safety_workload_view.py
"""

from __future__ import annotations

import copy
import csv
import json
import pickle
from pathlib import Path

import pytest

from sdk import runner, spec
from sdk.cli.main import main
from sdk.workload_view import TrainMetricsLogger, WorkloadView, attach_train_logger
from tests.fakes import ClockWorkload, Costs, FakeClock, numbers

HOSTILE = Path(__file__).parent / "submissions" / "hostile" / "submission.py"


def _run(tmp_path: Path, *args: str) -> tuple[int, dict | None]:
    out = tmp_path / "summary.json"
    code = main(["run", "--workload", "mnist", "--framework", "pytorch", "--no-progress",
                 "--seed", "2", "--experiment-dir", str(tmp_path / "exp"), "--json", str(out),
                 *args])
    return code, (json.loads(out.read_text()) if out.exists() else None)


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def hostile_probe(tmp_path_factory) -> tuple[dict, dict, Path]:
    """One mnist trial of the hostile submission in probe mode: (report, summary, trial dir)."""
    tmp = tmp_path_factory.mktemp("hostile")
    report = tmp / "report.json"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOSTILE_MODE", "probe")
        mp.setenv("HOSTILE_REPORT", str(report))
        code, summary = _run(tmp, "--submission", str(HOSTILE), "--max-global-steps", "8")
    assert code == 0, "the hostile submission's trial should run to its step limit"
    trial = summary["trials"][0]
    return json.loads(report.read_text()), trial, Path(trial["trial_dir"])


def test_every_route_to_eval_data_and_logs_is_refused(hostile_probe):
    report, _, _ = hostile_probe
    leaks = {route: what for route, what in report.items()
             if isinstance(what, str) and not what.startswith("refused")}
    assert not leaks, f"routes a submission could use: {leaks}"
    # the refusals say why, in one sentence
    assert "not part of the AlgoPerf API" in report["_data"]
    assert "belongs to the runner" in report["eval_model"]
    assert "train-side metrics only" in report["metrics_logger(is_eval=True)"]


def test_the_public_api_still_works_through_the_view(hostile_probe):
    report, trial, trial_dir = hostile_probe
    assert report["api"]["step_hint"] > 0 and report["api"]["num_params"] > 0
    assert report["api"]["isinstance"] is True
    assert trial["status"] == "max_global_steps" and trial["global_step"] == 8
    # the train-side scalar reached measurements.csv; no forged eval value reached any log
    assert any(r.get("hostile_train_metric") == "1.0" for r in _rows(trial_dir / "measurements.csv"))
    evals = _rows(trial_dir / "eval_measurements.csv")
    assert len(evals) == trial["num_evals"]
    assert all(r["validation/accuracy"] != "1.0" for r in evals)


def test_an_eval_row_written_through_the_logger_fails_the_trial(tmp_path, monkeypatch):
    """The forgery of issue 16: before the view, this row made `paceline score` give 1.0."""
    monkeypatch.setenv("HOSTILE_MODE", "forge")
    code, summary = _run(tmp_path, "--submission", str(HOSTILE), "--max-global-steps", "8")
    trial = summary["trials"][0]
    assert trial["status"] == "failed" and "PermissionError" in trial["reason"]
    assert "train-side metrics only" in trial["reason"]
    trial_dir = Path(trial["trial_dir"])
    if (trial_dir / "eval_measurements.csv").exists():
        assert all(r["validation/accuracy"] != "0.999"
                   for r in _rows(trial_dir / "eval_measurements.csv"))
    assert not trial["reached_validation_target"]


class _SpyView(WorkloadView):
    """Records every attribute a submission reads through the view."""

    seen: set[str] = set()

    def __getattribute__(self, name: str):
        if not name.startswith("__"):
            _SpyView.seen.add(name)
        return super().__getattribute__(name)


def test_the_nadamw_baseline_trains_through_the_view(tmp_path, monkeypatch):
    _SpyView.seen = set()
    monkeypatch.setattr(runner, "WorkloadView", _SpyView)
    code, summary = _run(tmp_path, "--submission", "nadamw", "--max-global-steps", "400")
    assert code == 0
    trial = summary["trials"][0]
    assert trial["global_step"] == 400 and trial["best_validation_metric"] > 0.5
    assert {"model_fn", "loss_fn", "step_hint", "metrics_logger"} <= _SpyView.seen
    # nadamw logs its train loss at step 0 through the view's train-side logger
    rows = _rows(Path(trial["trial_dir"]) / "measurements.csv")
    assert any(r.get("loss") for r in rows if not r.get("validation/accuracy"))


# ---- the view itself (no training) ---------------------------------------------------------

def _view() -> tuple[WorkloadView, ClockWorkload]:
    clock = FakeClock()
    workload = ClockWorkload(clock, Costs(), numbers())
    workload.init_model_fn(None)
    return WorkloadView(workload), workload


def test_view_hides_private_names_and_keeps_its_own_attributes():
    view, workload = _view()
    assert view.num_train_examples == 10 and view.param_shapes == workload.param_shapes
    assert view.loss_type is spec.LossType.MEAN_SQUARED_ERROR
    assert view.has_reached_validation_target({"validation/loss": -1.0})
    for name in ("_build_input_queue", "_eval_iters", "_param_shapes", "_workload", "_own"):
        assert not hasattr(view, name)
    assert not any(n.startswith("_") for n in dir(view))
    view.cache = 3  # a submission's own attribute stays on the view
    assert view.cache == 3 and not hasattr(workload, "cache")
    with pytest.raises(AttributeError, match="may not set"):
        view._build_input_queue = None
    assert hash(view) == hash(view) and view == view  # a static jit argument


def test_view_cannot_be_copied_or_pickled_into_the_workload():
    view, _ = _view()
    assert copy.copy(view) is view and copy.deepcopy({"w": view})["w"] is view
    for attempt in (lambda: pickle.dumps(view), view.__getstate__, view.__reduce__):
        with pytest.raises(TypeError, match="cannot be pickled"):
            attempt()


def test_train_logger_passes_train_scalars_and_refuses_eval_rows():
    class Logger:
        rows: list = []

        def append_scalar_metrics(self, metrics, global_step, preemption_count=None,
                                  is_eval=False):
            self.rows.append((metrics, global_step, is_eval))

    view, _ = _view()
    assert view.metrics_logger is None  # before the runner attaches its logger
    real = Logger()
    attach_train_logger(view, real)
    assert isinstance(view.metrics_logger, TrainMetricsLogger)
    view.metrics_logger.append_scalar_metrics({"loss": 0.5}, 3)
    assert real.rows == [({"loss": 0.5}, 3, False)]
    with pytest.raises(PermissionError, match="train-side metrics only"):
        view.metrics_logger.append_scalar_metrics({"loss": 0.5}, 3, is_eval=True)
    with pytest.raises(PermissionError, match="accumulated_submission_time, test/accuracy"):
        view.metrics_logger.append_scalar_metrics(
            {"test/accuracy": 1.0, "accumulated_submission_time": 0.0}, 3)
    assert len(real.rows) == 1
