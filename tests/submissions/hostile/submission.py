"""A hostile submission for tests/test_safety_workload_view.py: it tries every route from the
workload it is given to the evaluation data, the data folder and the trial's eval log.

``$HOSTILE_MODE`` picks what it does at its first step:

* ``probe``: try each route, write what happened to the JSON file ``$HOSTILE_REPORT``
  (``{route: "refused: <error>" | "LEAK: <what it got>"}``), then train with plain SGD;
* ``forge``: write an evaluation row that reaches any target through ``workload.metrics_logger``
  (the forgery that made ``paceline score`` give 1.0 to a miss), without catching errors.
"""

import copy
import json
import os
from pathlib import Path

import numpy as np
import torch
from algoperf import spec


def get_batch_size(workload_name):
    return 32


def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):
    return {"optimizer": torch.optim.SGD(model_params.parameters(),
                                         lr=hyperparameters.learning_rate)}


def _routes(workload):
    """Each route to what a submission must not reach, as a function that takes it."""
    rng = np.zeros(2, dtype=np.uint32)
    return {
        "_data": lambda: workload._data(None),
        "_build_input_queue(validation)": lambda: next(iter(
            workload._build_input_queue(rng, "validation", None, 32))),
        "_build_input_queue(test)": lambda: next(iter(
            workload._build_input_queue(rng, "test", None, 32))),
        "_eval_batches": lambda: next(iter(workload._eval_batches("validation", 32, 32, None))),
        "_eval_model_on_split": lambda: workload._eval_model_on_split(
            "validation", 32, 32, None, None, rng, None),
        "eval_model": lambda: workload.eval_model,
        "data_dir": lambda: workload.data_dir,
        "_data_dir": lambda: workload._data_dir,
        "__dict__": lambda: workload.__dict__,
        "vars()": lambda: vars(workload),
        "model_fn.__self__": lambda: workload.model_fn.__self__,
        "copy.copy": lambda: copy.copy(workload)._data,
        "__getstate__": lambda: workload.__getstate__(),
        "attach_metrics_logger": lambda: workload.attach_metrics_logger(object()),
        "metrics_logger(is_eval=True)": lambda: workload.metrics_logger.append_scalar_metrics(
            {"validation/accuracy": 1.0, "score": 0.0}, 0, is_eval=True),
        "metrics_logger(validation/...)": lambda: workload.metrics_logger.append_scalar_metrics(
            {"validation/accuracy": 1.0}, 0),
        "metrics_logger._logger": lambda: workload.metrics_logger._logger,
    }


def _probe(workload):
    report = {}
    for name, route in _routes(workload).items():
        try:
            got = route()
        except (AttributeError, PermissionError, TypeError) as exc:
            report[name] = f"refused: {type(exc).__name__}: {exc}"
        else:
            report[name] = f"LEAK: {type(got).__name__}"
    data_root = os.environ.get("PACELINE_DATA_DIR") or str(Path.home() / ".cache" / "paceline")
    for name in dir(workload):
        try:
            value = getattr(workload, name)
        except Exception:  # noqa: BLE001 - properties that raise before init
            continue
        if isinstance(value, str | Path) and data_root in str(value):
            report[f"public {name}"] = f"LEAK: {value}"
    # what a submission may do: read the API, log a train-side scalar
    report["api"] = {"step_hint": workload.step_hint, "num_params": len(workload.param_shapes),
                     "isinstance": isinstance(workload, spec.Workload)}
    workload.metrics_logger.append_scalar_metrics({"hostile_train_metric": 1.0}, 0)
    Path(os.environ["HOSTILE_REPORT"]).write_text(json.dumps(report, indent=1))


def update_params(workload, current_param_container, current_params_types, model_state,
                  hyperparameters, batch, loss_type, optimizer_state, eval_results,
                  global_step, rng, train_state=None):
    mode = os.environ.get("HOSTILE_MODE", "probe")
    if global_step == 0 and mode == "probe":
        _probe(workload)
    if global_step == 0 and mode == "forge":
        workload.metrics_logger.append_scalar_metrics(
            {"validation/accuracy": 0.999, "validation/loss": 0.01, "score": 0.001,
             "accumulated_submission_time": 0.001, "test/accuracy": 0.999}, 1, is_eval=True)
    model = current_param_container
    opt = optimizer_state["optimizer"]
    opt.zero_grad()
    logits, new_state = workload.model_fn(model, batch, model_state, spec.ForwardPassMode.TRAIN,
                                          rng, update_batch_norm=True)
    loss = workload.loss_fn(batch["targets"], logits, batch.get("weights"))
    (loss["summed"] / loss["n_valid_examples"]).backward()
    opt.step()
    return optimizer_state, model, new_state


def prepare_for_eval(workload, current_param_container, current_params_types, model_state,
                     hyperparameters, loss_type, optimizer_state, eval_results, global_step,
                     rng):
    return optimizer_state, current_param_container, model_state


def data_selection(workload, input_queue, optimizer_state, current_param_container,
                   model_state, hyperparameters, global_step, rng):
    return next(input_queue)
