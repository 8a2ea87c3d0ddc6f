"""The self-tuning protocol end to end on MNIST: v0.5- and v0.6-style submissions built on the
helpers, and the schedule-free and helper-built baselines in both frameworks.

The trial clock is sped up with --speed-factor (the budget stays mnist's; each CPU second
counts 1/X), so a whole self-tuning run (race, decay, guard) takes seconds; --threads 1 keeps
the runs quick on a busy machine. JAX runs need budgets that cover
their compilation, so they are longer and marked slow (``make test-slow``).
"""

from __future__ import annotations

import csv
import json
import textwrap
from pathlib import Path

import pytest

from sdk.cli.main import main
from sdk.rulesets import get_ruleset
from workloads.mnist import workload as mnist_workload

SPEED = 0.05  # MNIST dev: external budget 1 s, eval period 0.01 s
HELPER_SPEED = 0.25  # MNIST dev: external budget 5 s, eval period 0.05 s
JAX_SPEED = 0.5  # external budget 10 s: compilation is timed

@pytest.fixture(autouse=True)
def _unreachable_targets(monkeypatch):  # noqa: ANN001, ANN202
    """These tests are about how a run ends at the budget: guards and budgets must end it,
    not the targets (a fast machine reaches mnist's targets within these budgets)."""
    from dataclasses import replace

    numbers = replace(mnist_workload.DEV_NUMBERS, validation_target_value=1.01,
                      test_target_value=1.01)
    monkeypatch.setattr(mnist_workload, "DEV_NUMBERS", numbers)


V05_STYLE = '''
"""v0.5 style: imports algorithmic_efficiency, no train_state, no prepare_for_eval."""
import torch
from algorithmic_efficiency import spec
from self_tuning import BudgetView, EndOfBudgetGuard, TimeSchedule, warmup_cosine


def get_batch_size(workload_name):
    return 32


def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):
    return {"optimizer": torch.optim.Adam(model_params.parameters()),
            "budget": BudgetView.for_workload(workload, hyperparameters),
            "guard": EndOfBudgetGuard(),
            "schedule": TimeSchedule(warmup_cosine(0.05), peak=3e-3),
            "lrs": []}


def update_params(workload, current_param_container, current_params_types, model_state,
                  hyperparameters, batch, loss_type, optimizer_state, eval_results,
                  global_step, rng):
    snap = optimizer_state["budget"].observe(global_step, eval_results)
    optimizer_state["guard"].check(snap)
    lr = optimizer_state["schedule"].lr(snap, end_sec=optimizer_state["guard"].horizon_sec(snap))
    opt = optimizer_state["optimizer"]
    for group in opt.param_groups:
        group["lr"] = lr
    opt.zero_grad()
    logits, new_state = workload.model_fn(current_param_container, batch, model_state,
                                          spec.ForwardPassMode.TRAIN, rng, True)
    loss = workload.loss_fn(batch["targets"], logits, batch.get("weights"))
    (loss["summed"] / loss["n_valid_examples"]).backward()
    opt.step()
    optimizer_state["budget"].finish_step()
    optimizer_state["lrs"].append((snap.elapsed_sec, snap.budget_sec, lr, snap.source))
    return optimizer_state, current_param_container, new_state


def data_selection(workload, input_queue, optimizer_state, current_param_container,
                   model_state, hyperparameters, global_step, rng):
    return next(input_queue)
'''

# v0.6 style: the same algorithm, importing algoperf and reading train_state.
V06_STYLE = (V05_STYLE
             .replace("v0.5 style: imports algorithmic_efficiency, no train_state, no "
                      "prepare_for_eval.", "v0.6 style: algoperf, train_state.")
             .replace("from algorithmic_efficiency import spec", "from algoperf import spec")
             .replace("global_step, rng):\n    snap = optimizer_state[\"budget\"].observe("
                      "global_step, eval_results)",
                      "global_step, rng, train_state=None):\n    snap = optimizer_state["
                      "\"budget\"].observe(global_step, eval_results, train_state)"))


def _run(tmp: Path, submission: str, *args: str, speed: float = SPEED) -> dict:
    out = tmp / "summary.json"
    code = main(["run", "--workload", "mnist", "--submission", submission, "--ruleset", "self",
                 "--no-progress", "--no-tensorboard", "--no-checkpoints", "--threads", "1",
                 "--seed", "3", "--speed-factor", str(speed), "--experiment-dir", str(tmp / "exp"),
                 "--json", str(out), *args])
    assert code == 0
    return json.loads(out.read_text())["trials"][0]


def _rows(trial: dict, name: str = "eval_measurements.csv") -> list[dict[str, str]]:
    with open(Path(trial["trial_dir"]) / name) as f:
        return list(csv.DictReader(f))


def _check_self_tuning_trial(trial: dict, version: str, speed: float = SPEED) -> None:
    # --speed-factor X divides the trial's clock by X: the budget stays mnist's 20 s
    budget = 20.0 * get_ruleset(version).self_tuning_budget_multiplier
    assert trial["ruleset"] == "self" and trial["ruleset_version"] == version
    assert trial["budget_sec"] == pytest.approx(budget)
    assert Path(trial["trial_dir"]).parts[-3:] == ("study_0", f"mnist_{trial['framework']}",
                                                    "trial_1")
    assert not (Path(trial["trial_dir"]) / "hparams.json").exists()  # no hyperparameters
    # the guard ended the run while the final evaluation still counted
    assert trial["status"] == "training_complete", trial
    last = float(_rows(trial)[-1]["score"])
    assert 0.85 * budget < last < budget


@pytest.mark.parametrize(("style", "version", "api"), [(V05_STYLE, "0.5", "0.5"),
                                                       (V06_STYLE, "0.6", "0.6")])
def test_helper_built_submissions_of_both_api_generations_run(tmp_path, style, version, api):
    path = tmp_path / "helper_submission.py"
    path.write_text(textwrap.dedent(style))
    # a budget of a few seconds whose eval period (0.05 s) leaves the guard steps to measure
    trial = _run(tmp_path, str(path), "--ruleset-version", version, speed=HELPER_SPEED)
    assert trial["api_version"] == api
    _check_self_tuning_trial(trial, version, HELPER_SPEED)
    assert trial["best_validation_metric"] > 0.5  # it trained


@pytest.mark.parametrize(("baseline", "framework", "version"), [
    ("schedule_free_adamw", "pytorch", "0.5"),
    ("self_tuning_example", "pytorch", "0.6"),
    pytest.param("schedule_free_adamw", "jax", "0.6", marks=pytest.mark.slow),
    pytest.param("self_tuning_example", "jax", "0.5", marks=pytest.mark.slow),
    pytest.param("self_tuning_example", "pytorch", "0.5", marks=pytest.mark.slow),
    pytest.param("nadamw", "jax", "0.6", marks=pytest.mark.slow),
])
def test_self_tuning_baselines_run_the_protocol(tmp_path, baseline, framework, version):
    speed = JAX_SPEED if framework == "jax" else SPEED
    trial = _run(tmp_path, baseline, "--framework", framework, "--ruleset-version", version,
                 speed=speed)
    if baseline == "nadamw":  # no guard: the runner's budget ends it
        assert trial["status"] == "budget_exhausted" and trial["num_evals"] > 1
        return
    _check_self_tuning_trial(trial, version, speed)
    assert trial["best_validation_metric"] > 0.5
    if baseline == "self_tuning_example":
        logged = [r for r in _rows(trial, "measurements.csv") if r.get("race/winner")]
        assert len(logged) == 1  # the race ended once, within the budget
        assert 0 < float(logged[0]["race/end_sec"]) < trial["budget_sec"]


def test_external_modules_of_schedule_free_adamw_run(tmp_path):
    out = tmp_path / "summary.json"
    assert main(["run", "--workload", "mnist", "--submission", "schedule_free_adamw",
                 "--no-progress", "--no-tensorboard", "--threads", "1", "--seed", "1",
                 "--max-global-steps", "20", "--experiment-dir", str(tmp_path),
                 "--json", str(out)]) == 0
    trial = json.loads(out.read_text())["trials"][0]
    assert trial["status"] == "max_global_steps"
    hparams = json.loads((Path(trial["trial_dir"]) / "hparams.json").read_text())
    assert hparams["beta2"] in (0.9955, 0.62918)


def test_the_example_has_no_external_tuning_module(tmp_path, capsys):
    assert main(["run", "--workload", "mnist", "--submission", "self_tuning_example",
                 "--experiment-dir", str(tmp_path)]) == 2
    assert "no pytorch submission for the external-tuning ruleset" in capsys.readouterr().err


def test_the_pytorch_example_checkpoints_its_whole_state(tmp_path):
    import warnings

    from sdk.frameworks.adapters import get_adapter

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["run", "--workload", "mnist", "--submission", "self_tuning_example",
                     "--ruleset", "self", "--no-progress", "--no-tensorboard", "--threads", "1",
                     "--max-global-steps", "40", "--experiment-dir", str(tmp_path)]) == 0
    assert not [w for w in caught if "cannot be checkpointed" in str(w.message)]
    ckpt = next(tmp_path.rglob("checkpoint.pt"))
    saved = get_adapter("pytorch").load(ckpt)["optimizer_state"]  # weights_only=True
    assert {"tuner", "optimizer_0", "optimizer_3"} <= set(saved)
    assert len(saved["tuner"].probe) == saved["tuner"].n_probe  # the probe batches went along
