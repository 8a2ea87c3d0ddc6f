"""Helpers shared by the external-tuning tests (no tests here).

A test submission wraps AlgoPerf's NAdamW baseline and can sleep in every step (so a trial
lasts a predictable time on any machine), raise for large learning rates, and record the
thread limits of the process it runs in.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

SPACE = {
    "learning_rate": {"min": 3e-4, "max": 3e-2, "scaling": "log"},
    "one_minus_beta1": {"min": 0.02, "max": 0.2, "scaling": "log"},
    "beta2": {"feasible_points": [0.999]},
    "weight_decay": {"min": 0.01, "max": 0.3, "scaling": "log"},
    "warmup_factor": {"feasible_points": [0.05]},
    "label_smoothing": {"feasible_points": [0.0, 0.1]},
    "dropout_rate": {"feasible_points": [0.0]},
}

SUBMISSION = '''"""NAdamW for tests: sleeps per step, fails on purpose, records thread limits."""
import json
import os
import time

from baselines.nadamw import pytorch_external as base
from baselines.nadamw.pytorch_external import data_selection, get_batch_size, prepare_for_eval

SLEEP = {sleep!r}
FAIL_ABOVE = {fail_above!r}
RECORD = {record!r}


def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):
    if RECORD:
        import torch

        with open(RECORD, "a") as f:
            f.write(json.dumps({{"pid": os.getpid(), "omp": os.environ.get("OMP_NUM_THREADS"),
                                "torch": torch.get_num_threads()}}) + "\\n")
    return base.init_optimizer_state(workload, model_params, model_state, hyperparameters, rng)


def update_params(workload, current_param_container, current_params_types, model_state,
                  hyperparameters, batch, loss_type, optimizer_state, eval_results,
                  global_step, rng):
    time.sleep(SLEEP)
    if FAIL_ABOVE is not None and hyperparameters.learning_rate > FAIL_ABOVE:
        raise RuntimeError("exploded on purpose")
    return base.update_params(workload, current_param_container, current_params_types,
                              model_state, hyperparameters, batch, loss_type, optimizer_state,
                              eval_results, global_step, rng)
'''


def write_space(folder: Path, space: Any = None) -> Path:
    path = folder / "space.json"
    path.write_text(json.dumps(SPACE if space is None else space))
    return path


def write_submission(folder: Path, sleep: float = 0.0, fail_above: float | None = None,
                     record: Path | None = None, name: str = "test_nadamw") -> Path:
    path = folder / f"{name}.py"
    path.write_text(SUBMISSION.format(sleep=sleep, fail_above=fail_above,
                                      record=str(record) if record else None))
    return path


def tune_args(tmp: Path, submission: Path, *extra: str, steps: int = 30) -> list[str]:
    """`paceline tune` arguments for a short mnist study under ``tmp``."""
    return ["tune", "--workload", "mnist", "--submission", str(submission),
            "--tuning-search-space", str(write_space(tmp)), "--experiment-dir",
            str(tmp / "exp"), "--experiment-name", "study", "--seed", "7",
            "--max-global-steps", str(steps), "--threads", "1", "--no-tensorboard",
            "--no-progress", *extra]


def state(root: Path) -> dict[str, Any]:
    return json.loads((root / "paceline_tune.json").read_text())


def records(root: Path) -> list[dict[str, Any]]:
    return [r for g in state(root)["groups"] for r in g["tuner"]["records"]]


def write_synthetic_trial(folder: Path, hparams: dict[str, Any], seconds_to_target: float,
                          budget: float = 20.0, target: float = 0.9, period: float = 1.0) -> None:
    """A dev-scale trial folder whose accuracy curve reaches ``target`` at the given time."""
    from sdk.trial_logs import rows_to_csv

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hparams.json").write_text(json.dumps(hparams))
    (folder / "meta_data_0.json").write_text(json.dumps({
        "workload.target_metric_name": "accuracy", "workload.validation_target_value": target,
        "paceline.scale": "dev", "paceline.metric_minimized": False,
        "paceline.budget_sec": budget}))
    rows, t, step = [], 0.25, 1
    while t < budget:
        if math.isfinite(seconds_to_target):
            value = target * min(1.0, t / seconds_to_target) ** 0.5
        else:
            value = 0.8 * target * min(1.0, t / budget) ** 0.5
        rows.append({"score": t, "accumulated_submission_time": t, "global_step": step,
                     "validation/accuracy": value})
        if value >= target:
            break
        t, step = t + period, step + 50
    (folder / "eval_measurements.csv").write_text(rows_to_csv(rows))
