"""Nothing lost, nothing executed: data folders and checkpoints (issue 16, parts 1 and 2).

* ``--data-dir DIR`` never deletes or overwrites what paceline did not make: datasets are
  built in ``DIR/<name>``, a folder is replaced only when it carries paceline's marker, a
  file given as ``--data-dir`` is one sentence and exit 2.
* A checkpoint holds tensors and plain data: a crafted pickle runs nothing when a trial is
  resumed, a corrupt or foreign checkpoint is one sentence naming it, and a resumed run still
  matches the uninterrupted one bit for bit.
* A kill during a write leaves ``.<file>.tmp<pid>``; it is removed when the trial starts again.
* ``--overwrite`` deletes only a trial directory paceline made.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from sdk.cli.main import main
from sdk.errors import PacelineError
from sdk.frameworks import checkpoints as ckpt
from sdk.frameworks.adapters import get_adapter
from sdk.registry import workloads
from sdk.rulesets import get_ruleset
from sdk.runner import RunOptions, raise_for_existing, train_once
from sdk.search_space import make_hyperparameters
from sdk.submission import load_submission
from sdk.trial_logs import STATUS_FILE, TrialLogger
from workloads.common import data_cache

HP = {"learning_rate": 1e-3, "one_minus_beta1": 0.1, "beta2": 0.999, "weight_decay": 0.0,
      "warmup_factor": 0.05, "dropout_rate": 0.0, "label_smoothing": 0.0}


def _dead_pid() -> int:
    """The id of a process that has ended."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _one_sentence(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _build(folder: Path) -> dict:
    (folder / "train.npz").write_bytes(b"data")
    return {"n": 1}


# ---- data folders -----------------------------------------------------------------------------
def test_a_users_data_dir_keeps_its_files_and_gets_a_dataset_folder_inside(tmp_path):
    mine = tmp_path / "datasets"
    (mine / "photos").mkdir(parents=True)
    (mine / "notes.txt").write_text("mine")
    (mine / "photos" / "cat.jpg").write_bytes(b"cat")
    folder = data_cache.prepare("ds", _build, str(mine))
    assert folder == mine / "ds" and data_cache.is_prepared(folder)
    assert (mine / "notes.txt").read_text() == "mine"
    assert (mine / "photos" / "cat.jpg").read_bytes() == b"cat"
    # rebuilding (--force) replaces paceline's own folder, still nothing else
    data_cache.prepare("ds", _build, str(mine), force=True)
    assert sorted(p.name for p in mine.iterdir()) == ["ds", "notes.txt", "photos"]


def test_paceline_data_prepare_into_a_users_folder_keeps_it(tmp_path, capsys):
    mine = tmp_path / "datasets"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    assert main(["data", "prepare", "mnist", "--data-dir", str(mine)]) == 0
    assert (mine / "notes.txt").read_text() == "mine"
    assert data_cache.is_prepared(mine / "mnist")


def test_a_foreign_folder_at_the_datasets_name_is_refused_not_deleted(tmp_path):
    theirs = tmp_path / "ds"
    theirs.mkdir()
    (theirs / "raw.bin").write_bytes(b"raw")
    for force in (False, True):
        with pytest.raises(PacelineError, match="paceline did not make"):
            data_cache.prepare("ds", _build, str(tmp_path), force=force)
    assert (theirs / "raw.bin").read_bytes() == b"raw"
    (tmp_path / "other").write_text("a file")  # a file where the dataset folder would go
    with pytest.raises(PacelineError, match="in the way"):
        data_cache.prepare("other", _build, str(tmp_path))
    assert (tmp_path / "other").read_text() == "a file"


def test_the_cache_root_is_held_to_the_same_rule(tmp_path, monkeypatch):
    monkeypatch.setenv("PACELINE_DATA_DIR", str(tmp_path))
    (tmp_path / "ds").mkdir()
    (tmp_path / "ds" / "mine.txt").write_text("mine")
    with pytest.raises(PacelineError, match="paceline did not make"):
        data_cache.prepare("ds", _build, recipe={"v": 1})
    assert (tmp_path / "ds" / "mine.txt").read_text() == "mine"


def test_a_file_as_data_dir_is_one_sentence_and_exit_2(tmp_path, capsys):
    path = tmp_path / "notes.txt"
    path.write_text("mine")
    with pytest.raises(PacelineError, match="is a file, not a folder"):
        data_cache.prepare("ds", _build, str(path))
    assert main(["data", "prepare", "mnist", "--data-dir", str(path)]) == 2
    assert "is a file" in _one_sentence(capsys.readouterr().err)
    assert main(["run", "--workload", "mnist", "--submission", "nadamw", "--no-progress",
                 "--max-global-steps", "1", "--experiment-dir", str(tmp_path / "exp"),
                 "--data-dir", str(path)]) == 2
    assert "is a file" in capsys.readouterr().err.strip().splitlines()[-1]
    assert path.read_text() == "mine"


def test_an_interrupted_build_is_removed_only_with_paceline_marker(tmp_path):
    dead = _dead_pid()
    ours = tmp_path / f".ds.partial{dead}"
    ours.mkdir()
    (ours / data_cache.OWNER).write_text(json.dumps({"dataset": "ds", "pid": dead,
                                                     "host": os.uname().nodename}))
    foreign = tmp_path / f".ds.partial{dead + 1}"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("mine")
    data_cache.prepare("ds", _build, str(tmp_path))
    assert not ours.exists()
    assert (foreign / "keep.txt").read_text() == "mine"


def test_a_failed_build_leaves_the_users_folder_as_it_was(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")

    def broken(folder: Path) -> dict:
        (folder / "half.npz").write_bytes(b"x")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        data_cache.prepare("ds", broken, str(tmp_path))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_data_dir_that_is_itself_a_prepared_dataset_is_read_as_before(tmp_path):
    legacy = tmp_path / "mnist-data"  # what `--data-dir DIR` built before: DIR/DONE
    legacy.mkdir()
    (legacy / "info.json").write_text(json.dumps({"name": "ds"}))
    (legacy / data_cache.MARKER).write_text("ok\n")
    calls = []
    folder = data_cache.prepare("ds", lambda f: calls.append(f) or {}, str(legacy))
    assert folder == legacy and not calls
    assert data_cache.dataset_dir("other", str(legacy)) == legacy / "other"


# ---- checkpoints: nothing a file brings runs ----------------------------------------------------
class _Payload:
    """Unpickling this object creates ``marker``: the shape of a code-execution attack."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):  # noqa: ANN204
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("framework", ["pytorch", "jax"])
def test_a_crafted_pickle_checkpoint_runs_no_code(framework, tmp_path):
    adapter = get_adapter(framework)
    marker = tmp_path / "pwned"
    path = tmp_path / adapter.checkpoint_name
    if framework == "pytorch":
        torch.save({"model_params": _Payload(marker)}, path)
    else:
        path.write_bytes(pickle.dumps({"model_params": _Payload(marker)}))
    with pytest.raises(PacelineError, match=str(path)) as caught:
        adapter.load(path)
    assert not marker.exists()
    assert "\n" not in str(caught.value)


def test_resuming_over_a_crafted_checkpoint_is_exit_2_and_runs_nothing(tmp_path, capsys):
    exp = tmp_path / "exp"
    trial = exp / "dev" / "external_tuning" / "nadamw" / "study_0" / "mnist_pytorch" / "trial_1"
    trial.mkdir(parents=True)
    marker = tmp_path / "pwned"
    torch.save({"model_params": _Payload(marker)}, trial / "checkpoint.pt")
    rc = main(["run", "--workload", "mnist", "--submission", "nadamw", "--no-progress",
               "--max-global-steps", "2", "--experiment-dir", str(exp), "--resume"])
    err = capsys.readouterr().err
    assert not marker.exists()
    assert rc == 2, err
    assert "checkpoint.pt" in err.strip().splitlines()[-1] and "Traceback" not in err


def _train(framework: str, trial: Path, steps: int, resume: bool = False) -> None:
    workload = workloads().create("mnist", "dev", framework)
    result = train_once(workload, load_submission("nadamw", framework, "external"),
                        make_hyperparameters(HP), 3, get_ruleset("0.5"),
                        RunOptions(max_global_steps=steps, tensorboard=False, threads=1,
                                   resume=resume), trial)
    assert result.global_step == steps


@pytest.fixture(scope="module")
def pytorch_checkpoint(tmp_path_factory) -> Path:
    trial = tmp_path_factory.mktemp("ckpt") / "trial"
    _train("pytorch", trial, 2)
    return trial / "checkpoint.pt"


def test_a_checkpoint_is_tensors_and_plain_data(pytorch_checkpoint):
    payload = torch.load(pytorch_checkpoint, weights_only=True)  # would refuse any object
    assert payload[ckpt.FORMAT_KEY] == ckpt.FORMAT_VERSION and payload["global_step"] == 2


def test_corrupt_truncated_and_foreign_checkpoints_are_one_sentence(pytorch_checkpoint,
                                                                    tmp_path):
    adapter = get_adapter("pytorch")
    blob = pytorch_checkpoint.read_bytes()
    cases = {
        "truncated": blob[: len(blob) // 2],
        "empty": b"",
        "garbage": os.urandom(4096),
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign")
    payload = adapter.load(pytorch_checkpoint)
    payload["global_step"] = "two"  # the right tag, a wrong type
    torch.save(payload, tmp_path / "mistyped")
    for name in [*cases, "foreign", "mistyped"]:
        with pytest.raises(PacelineError, match=str(tmp_path / name)) as caught:
            adapter.load(tmp_path / name)
        assert "\n" not in str(caught.value)
    jax_adapter = get_adapter("jax")
    (tmp_path / "bad.msgpack").write_bytes(b"\x81\xa1a\xc7\x05\x01junk")  # a bogus array
    with pytest.raises(PacelineError, match="bad.msgpack"):
        jax_adapter.load(tmp_path / "bad.msgpack")


def test_a_checkpoint_of_another_model_is_one_sentence(pytorch_checkpoint, tmp_path):
    adapter = get_adapter("pytorch")
    payload = adapter.load(pytorch_checkpoint)
    payload["model_params"] = {"not.a.layer": torch.zeros(2)}
    model = torch.nn.Linear(2, 2)
    with pytest.raises(PacelineError, match="does not fit"):
        adapter.restore(payload, model, None, {})


@pytest.mark.parametrize("framework", ["pytorch", "jax"])
def test_a_resumed_run_matches_the_uninterrupted_one(framework, tmp_path):
    adapter = get_adapter(framework)
    _train(framework, tmp_path / "whole", 6)
    _train(framework, tmp_path / "split", 3)
    path = tmp_path / "split" / adapter.checkpoint_name
    payload = adapter.load(path)  # reached --max-global-steps: let it go on to 6 steps
    payload["train_state"]["training_complete"] = False
    payload.update(status="running", reason="")
    del payload[ckpt.FORMAT_KEY]
    (ckpt.write_torch if framework == "pytorch" else ckpt.write_msgpack)(path, payload)
    stale = tmp_path / "split" / f".{adapter.checkpoint_name}.tmp{_dead_pid()}"
    stale.write_bytes(b"half a checkpoint")  # what a kill during the write leaves
    _train(framework, tmp_path / "split", 6, resume=True)
    assert not stale.exists()
    whole = adapter.load(tmp_path / "whole" / adapter.checkpoint_name)
    split = adapter.load(path)
    assert split["preemption_count"] == 1 and split["global_step"] == whole["global_step"]
    if framework == "pytorch":
        for key, value in whole["model_params"].items():
            assert torch.equal(value, split["model_params"][key]), key
    else:
        for a, b in zip(whole["model_params_leaves"], split["model_params_leaves"],
                        strict=True):
            np.testing.assert_array_equal(a, b)
        for a, b in zip(whole["optimizer_state_leaves"], split["optimizer_state_leaves"],
                        strict=True):
            np.testing.assert_array_equal(a, b)


def test_msgpack_keeps_dtypes_shapes_and_plain_values(tmp_path):
    payload = {name: None for name in ckpt.RUNNER_FIELDS}
    payload.update(train_state={"a": 1.5, "b": None}, global_step=3, eval_results=[(1, {})],
                   preemption_count=0, eval_rows=[{"x": np.float32(0.5)}], all_rows=[],
                   batches_consumed=3, total_duration=1.0,
                   leaves=[np.zeros((), np.int32), np.arange(6, dtype=np.float16).reshape(2, 3)])
    ckpt.write_msgpack(tmp_path / "c", ckpt.plain(payload, lambda x: x if isinstance(
        x, np.ndarray) else None, keys=(str,)))
    back = ckpt.read_msgpack(tmp_path / "c", ("leaves",))
    assert back["leaves"][0].shape == () and back["leaves"][0].dtype == np.int32
    assert back["leaves"][1].dtype == np.float16 and back["leaves"][1].shape == (2, 3)
    assert back["eval_rows"] == [{"x": 0.5}] and back["train_state"] == {"a": 1.5, "b": None}


def test_the_kits_own_helpers_go_along_and_no_other_class_comes_back(tmp_path):
    from baselines.self_tuning_example.tuner import NadamwPoint
    from self_tuning.guards import EndOfBudgetGuard
    from self_tuning.step_time import StepTimer

    timer = StepTimer()
    for seconds in (0.5, 0.25, 0.75):
        timer.add(seconds)
    point = NadamwPoint(0.1, 0.0, 1e-3, 0.1, 0.999, 0.0, 0.05)
    opt = {"timer": timer, "point": point, "guard": EndOfBudgetGuard()}
    for framework in ("pytorch", "jax"):
        adapter = get_adapter(framework)
        stored = ckpt.plain(opt, adapter._tensor if framework == "pytorch" else adapter._array)
        payload = {"model_params_leaves": [], "model_state_leaves": [],
                   "optimizer_state_leaves": [], "model_params": {}, "optimizer_state": stored,
                   "torch_rng": torch.get_rng_state() if framework == "pytorch" else None,
                   "train_state": {}, "global_step": 0,
                   "eval_results": [], "preemption_count": 0, "eval_rows": [], "all_rows": [],
                   "batches_consumed": 0, "total_duration": 0.0}
        path = tmp_path / adapter.checkpoint_name
        (ckpt.write_torch if framework == "pytorch" else ckpt.write_msgpack)(path, payload)
        back = adapter.load(path)["optimizer_state"]
        assert back["point"] == point and type(back["point"]) is NadamwPoint
        assert back["timer"].mean() == timer.mean() and type(back["guard"]) is EndOfBudgetGuard
        assert back["guard"].error is opt["guard"].error
        # a file naming any class that is not registered is refused, nothing is called
        payload["optimizer_state"] = {"x": {"__paceline_object__": "os.system",
                                            "state": {}}}
        (ckpt.write_torch if framework == "pytorch" else ckpt.write_msgpack)(path, payload)
        with pytest.raises(PacelineError, match=adapter.checkpoint_name):
            adapter.load(path)


@pytest.mark.parametrize("framework", ["pytorch", "jax"])
def test_a_self_tuner_mid_race_survives_a_plain_data_checkpoint(framework, tmp_path):
    from baselines.self_tuning_example.tuner import NadamwPoint, SelfTuner
    from self_tuning import BudgetView, JaxStore, SimulatedClock

    lam = np.linspace(0.1, 1.0, 16)

    def loss(w: np.ndarray) -> float:
        return float(0.5 * np.sum(lam * w * w))

    clock = SimulatedClock()
    view = BudgetView(100.0, ruleset_version="0.6", clock=clock)
    points = [NadamwPoint(0.0, 0.0, lr, 0.1, 0.999, 0.0, 0.05) for lr in (0.02, 2.5, 0.2, 1.0)]
    tuner = SelfTuner(points, view, JaxStore(), JaxStore(), 128)
    w = np.ones(16)
    for step in range(30):  # probe, then part of the first rung
        plan, w = tuner.plan(step, [], None, w, step, loss)
        if plan.arm is not None:
            w = w - plan.lr * lam * w
        clock.advance(0.5)
        view.finish_step()
    assert tuner.driver.race.running
    adapter = get_adapter(framework)
    array = adapter._tensor if framework == "pytorch" else adapter._array
    payload = {"model_params_leaves": [], "model_state_leaves": [], "optimizer_state_leaves": [],
               "model_params": {}, "optimizer_state": {"tuner": ckpt.plain(tuner, array)},
               "torch_rng": torch.get_rng_state() if framework == "pytorch" else None,
               "train_state": {}, "global_step": 30, "eval_results": [], "preemption_count": 0,
               "eval_rows": [], "all_rows": [], "batches_consumed": 30, "total_duration": 0.0}
    path = tmp_path / adapter.checkpoint_name
    (ckpt.write_torch if framework == "pytorch" else ckpt.write_msgpack)(path, payload)
    revived = adapter.load(path)["optimizer_state"]["tuner"]
    assert type(revived) is SelfTuner
    revived.budget.clock = clock
    a, _ = tuner.plan(30, [], None, w, 30, loss)
    b, _ = revived.plan(30, [], None, w, 30, loss)
    assert a == b


# ---- stale temp files and --overwrite ---------------------------------------------------------
def test_stale_temp_files_of_dead_writers_are_removed_when_a_trial_starts(tmp_path):
    dead, alive = _dead_pid(), os.getppid()
    stale = [tmp_path / f".checkpoint.pt.tmp{dead}", tmp_path / f".eval_measurements.csv.tmp{dead}"]
    kept = [tmp_path / f".checkpoint.pt.tmp{alive}", tmp_path / "notes.tmp1",
            tmp_path / f".tmp{dead}", tmp_path / "results.csv"]
    for path in stale + kept:
        path.write_text("x")
    TrialLogger(tmp_path, tensorboard=False)
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in kept)


def test_overwrite_deletes_only_a_trial_directory_paceline_made(tmp_path):
    theirs = tmp_path / "trial_1"
    theirs.mkdir()
    (theirs / "thesis.tex").write_text("mine")
    with pytest.raises(PacelineError, match="not a trial directory paceline made"):
        raise_for_existing(theirs, RunOptions(overwrite=True))
    assert (theirs / "thesis.tex").read_text() == "mine"
    ours = tmp_path / "trial_2"
    ours.mkdir()
    (ours / STATUS_FILE).write_text("{}")
    raise_for_existing(ours, RunOptions(overwrite=True))
    assert not ours.exists()


def test_tune_overwrite_spares_a_users_file_in_a_trial_folder(tmp_path):
    """`paceline tune --overwrite` deletes only trial folders paceline made."""
    from external_tuning.cli import _remove_experiment
    from sdk.errors import PacelineError

    folder = tmp_path / "exp" / "study_0" / "mnist_pytorch"
    (folder / "trial_1").mkdir(parents=True)
    (folder / "trial_1" / "hparams.json").write_text("{}")
    (folder / "my_notes.txt").write_text("mine")
    with pytest.raises(PacelineError, match="my_notes.txt"):
        _remove_experiment(tmp_path / "exp", ["mnist"], "pytorch")
    assert (folder / "my_notes.txt").read_text() == "mine"
    assert (folder / "trial_1" / "hparams.json").is_file()
    (folder / "my_notes.txt").unlink()
    _remove_experiment(tmp_path / "exp", ["mnist"], "pytorch")
    assert not folder.exists()
