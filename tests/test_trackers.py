"""TensorBoard HParams, target and submission-time axis; `--wandb` with a stand-in wandb.

    .venv/bin/python -m pytest tests/test_trackers.py -q
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

from sdk.cli.main import main
from sdk.trial_logs import TrialLogger

HPARAMS = {"learning_rate": 0.01, "beta1": 0.9, "warmup": "linear"}
META = {"workload.workload_name": "mnist", "workload.target_metric_name": "accuracy",
        "workload.validation_target_value": 0.89, "paceline.metric_minimized": False,
        "paceline.framework": "pytorch", "paceline.submission": "my_sgdm", "rng_seed": 42}
EVALS = [(10, 1.5, 0.5), (20, 3.25, 0.9), (30, 4.0, 0.85)]  # step, seconds, accuracy


def _accumulator(path: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(path), size_guidance={"tensors": 0, "scalars": 0})
    acc.Reload()
    return acc


def _log_trial(trial_dir: Path, flags: dict | None = None) -> None:
    logger = TrialLogger(trial_dir)
    logger.write_json("hparams.json", HPARAMS)
    logger.write_json("meta_data_0.json", META)
    logger.write_json("flags_0.json", flags or {"ruleset": "external"})
    for step, seconds, acc in EVALS:
        logger.append_scalar_metrics({"validation/accuracy": acc, "score": seconds,
                                      "accumulated_submission_time": seconds}, step,
                                     is_eval=True)
    logger.close()


def test_event_files_hold_hparams_target_and_time_axis(tmp_path):
    from tensorboard.plugins.hparams import metadata

    trial = tmp_path / "study_0" / "mnist_pytorch" / "trial_1"
    _log_trial(trial)
    acc = _accumulator(trial)
    scalars = acc.Tags()["scalars"]
    by_time = acc.Scalars("by_time/validation/accuracy")
    assert [e.step for e in by_time] == [1500, 3250, 4000]  # submission time in ms
    assert [e.value for e in by_time] == pytest.approx([0.5, 0.9, 0.85])
    assert [e.value for e in acc.Scalars("target/validation_accuracy")] == \
        pytest.approx([0.89] * 3)
    assert "by_time/target/validation_accuracy" in scalars
    assert acc.Scalars("hparams/best_validation_accuracy")[-1].value == pytest.approx(0.9)
    assert acc.Scalars("hparams/last_validation_accuracy")[-1].value == pytest.approx(0.85)
    assert acc.Scalars("hparams/time_to_target_sec")[-1].value == pytest.approx(3.25)
    content = acc.PluginTagToContent("hparams")
    start = metadata.parse_session_start_info_plugin_data(
        content[metadata.SESSION_START_INFO_TAG])
    assert start.hparams["learning_rate"].number_value == pytest.approx(0.01)
    assert start.hparams["warmup"].string_value == "linear"
    assert start.hparams["workload"].string_value == "mnist"
    assert start.hparams["study"].string_value == "study_0"
    experiment = metadata.parse_experiment_plugin_data(content[metadata.EXPERIMENT_TAG])
    assert "hparams/best_validation_accuracy" in {m.name.tag for m in experiment.metric_infos}
    assert "custom_scalars__config__" in acc.PluginTagToContent("custom_scalars")


class _FakeRun:
    def __init__(self, calls: list, kwargs: dict) -> None:
        self.calls, self.kwargs, self.summary = calls, kwargs, {}
        calls.append(("init", kwargs))

    def log(self, row: dict, step: int) -> None:
        self.calls.append(("log", step, dict(row)))

    def finish(self) -> None:
        self.calls.append(("finish", dict(self.summary)))


@pytest.fixture
def fake_wandb(monkeypatch):
    calls: list = []
    module = types.ModuleType("wandb")
    module.init = lambda **kwargs: _FakeRun(calls, kwargs)
    monkeypatch.setitem(sys.modules, "wandb", module)
    return calls


def test_wandb_gets_the_same_scalars_and_hparams(tmp_path, fake_wandb):
    _log_trial(tmp_path / "trial_1", flags={"wandb": True, "ruleset": "external"})
    kinds = [c[0] for c in fake_wandb]
    assert kinds == ["init", "log", "log", "log", "finish"]
    config = fake_wandb[0][1]["config"]
    assert config["learning_rate"] == 0.01 and config["target"] == 0.89
    assert fake_wandb[0][1]["project"] == "paceline"
    step, row = fake_wandb[2][1], fake_wandb[2][2]
    assert step == 20 and row["validation/accuracy"] == 0.9
    assert row["target/validation_accuracy"] == 0.89
    assert fake_wandb[-1][1]["hparams/time_to_target_sec"] == pytest.approx(3.25)


def test_no_wandb_call_without_the_flag(tmp_path, fake_wandb):
    _log_trial(tmp_path / "trial_1")
    assert fake_wandb == []


def test_wandb_flag_without_wandb_is_one_sentence(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "wandb", None)  # import wandb raises ImportError
    for command in ("run", "tune"):
        rc = main([command, "--workload", "mnist", "--submission", "nadamw", "--wandb",
                   "--experiment-dir", str(tmp_path)])
        err = capsys.readouterr().err
        assert rc == 2 and "--wandb needs the wandb package" in err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_run_with_wandb_and_tensorboard(tmp_path, fake_wandb):
    rc = main(["run", "--workload", "mnist", "--submission", "nadamw", "--no-progress",
               "--seed", "1", "--max-global-steps", "20", "--wandb",
               "--experiment-dir", str(tmp_path)])
    assert rc == 0
    trial = tmp_path / "dev" / "external_tuning" / "nadamw" / "study_0" / "mnist_pytorch" / \
        "trial_1"
    acc = _accumulator(trial)
    assert "by_time/validation/accuracy" in acc.Tags()["scalars"]
    assert "target/validation_accuracy" in acc.Tags()["scalars"]
    assert [c[0] for c in fake_wandb][0] == "init" and fake_wandb[-1][0] == "finish"
    assert fake_wandb[0][1]["config"]["workload"] == "mnist"
