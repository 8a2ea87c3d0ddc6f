"""`paceline check` reports every problem at once, located where the user can fix it.

Each test writes a small SGD-with-momentum submission (AlgoPerf style, PyTorch) into tmp_path
and checks the lines ``paceline check`` prints; ``--smoke`` runs a handful of mnist dev steps.

    .venv/bin/python -m pytest tests/test_check_cmd.py -q
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

from sdk.cli.main import main

SUBMISSION = '''"""SGD with momentum, written from scratch as a user would."""
import torch
from algoperf import spec


def get_batch_size(workload_name):
    {batch_size}


def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):
    del model_state, rng
    hparams = hyperparameters
    return {{"optimizer": torch.optim.SGD(model_params.parameters(),
                                          lr=hparams.learning_rate,
                                          momentum=hparams.momentum)}}


def update_params(workload, current_param_container, current_params_types, model_state,
                  hyperparameters, batch, loss_type, optimizer_state, eval_results,
                  global_step, rng):
    {step_hook}
    model = current_param_container
    opt = optimizer_state["optimizer"]
    opt.zero_grad()
    logits, new_state = workload.model_fn(model, batch, model_state,
                                          spec.ForwardPassMode.TRAIN, rng,
                                          update_batch_norm=True)
    loss = workload.loss_fn(batch["targets"], logits, batch.get("weights"),
                            label_smoothing=getattr(hyperparameters, "label_smoothing", 0.0))
    (loss["summed"] / loss["n_valid_examples"]).backward()
    opt.step()
    return optimizer_state, model, new_state


def data_selection(workload, input_queue, optimizer_state, current_param_container,
                   model_state, hyperparameters, global_step, rng):
    return next(input_queue)
'''
SPACE = {"learning_rate": {"min": 0.01, "max": 0.1, "scaling": "log"},
         "momentum": {"feasible_points": [0.9]}}


def write(folder: Path, space: dict | list | None = SPACE, batch_size: str = "return 16",
          step_hook: str = "pass", name: str = "submission.py") -> Path:
    """A submission file in ``folder`` and, unless ``space`` is None, its sibling space."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(SUBMISSION.format(batch_size=batch_size, step_hook=step_hook))
    if space is not None:
        (folder / "tuning_search_space.json").write_text(json.dumps(space))
    return path


def check(*argv: str) -> tuple[int, list[str], str]:
    """``paceline check ARGV``: exit status, the stderr lines, and stdout."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(["check", *argv])
    lines = err.getvalue().splitlines()
    assert "Traceback" not in err.getvalue()
    assert all(line.startswith("paceline check: ") for line in lines), lines
    return rc, lines, out.getvalue()


def test_a_good_submission_passes_with_notes_on_stdout(tmp_path: Path) -> None:
    rc, lines, out = check(str(write(tmp_path)))
    assert rc == 0 and lines == []
    assert "OK" in out


def test_every_search_space_error_is_listed(tmp_path: Path) -> None:
    space = tmp_path / "space.json"
    space.write_text(json.dumps({"learning_rate": {"min": 1, "max": 0.1, "scaling": "log"},
                                 "momentum": {"min": 0.5}}))
    rc, lines, _ = check(str(write(tmp_path / "sub", space=None)),
                         "--tuning-search-space", str(space))
    assert rc == 2
    assert any("'learning_rate': min (1) is larger than max" in line for line in lines), lines
    assert any("'momentum' is missing max, scaling" in line for line in lines), lines


def test_a_hyperparameter_the_space_lacks_is_an_error(tmp_path: Path) -> None:
    space = {"learning_rate": {"min": 0.01, "max": 0.1, "scaling": "log"},
             "weight_decay": {"feasible_points": [0.0]}}
    rc, lines, out = check(str(write(tmp_path, space=space)))
    assert rc == 2
    [line] = lines
    assert f"momentum ({tmp_path / 'submission.py'}:15)" in line, line
    assert "AttributeError" in line
    assert "learning_rate" not in line and "label_smoothing" not in line  # defined / optional
    assert "defines weight_decay, which the submission never reads" in out  # a note only


def test_self_tuning_notes_reads_of_the_missing_hyperparameters(tmp_path: Path) -> None:
    rc, lines, out = check(str(write(tmp_path, space=None)), "--ruleset", "self")
    assert rc == 0 and lines == []
    assert "hyperparameters is None" in out and "learning_rate" in out and "momentum" in out


def test_get_batch_size_is_asked_about_every_dev_workload(tmp_path: Path) -> None:
    batch = 'if workload_name == "ogbg":\n        raise KeyError(workload_name)\n    return 16'
    rc, lines, _ = check(str(write(tmp_path, batch_size=batch)))
    assert rc == 2
    [line] = lines
    assert line.startswith("paceline check: workload ogbg: get_batch_size('ogbg') failed"), line


def test_a_syntax_error_names_the_users_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path)
    text = path.read_text().replace("    del model_state, rng\n", "    hp = = 1\n")
    path.write_text(text)
    lineno = text.splitlines().index("    hp = = 1") + 1
    rc, lines, _ = check(str(path))
    assert rc == 2
    line = next(line for line in lines if "SyntaxError" in line)
    assert line.startswith(f"paceline check: {path}:{lineno}:10: SyntaxError: "), line


def test_an_import_error_names_the_users_line(tmp_path: Path) -> None:
    path = write(tmp_path)
    path.write_text(path.read_text().replace("import torch\n", "import torch\nimport nope_x\n"))
    rc, lines, _ = check(str(path))
    assert rc == 2
    assert any(f"(at {path}:3)" in line and "nope_x" in line for line in lines), lines


def test_the_sibling_search_space_is_used_and_named(tmp_path: Path) -> None:
    path = write(tmp_path, space={"learning_rate": {"min": 0.1, "max": 0.01, "scaling": "log"},
                                  "momentum": {"feasible_points": [0.9]}})
    sibling = tmp_path / "tuning_search_space.json"
    rc, lines, out = check(str(path))
    assert rc == 2
    assert f"using the search space {sibling}" in out
    assert any(str(sibling) in line and "larger than max" in line for line in lines), lines


def test_smoke_reports_a_submission_that_raises_at_step_3(tmp_path: Path) -> None:
    hook = 'if global_step == 3:\n        raise RuntimeError("broke at step 3")'
    rc, lines, _ = check(str(write(tmp_path, step_hook=hook)), "--smoke", "--smoke-steps", "6")
    assert rc == 2
    [line] = lines
    assert "--smoke" in line and "broke at step 3" in line and "step 3" in line, line


def test_smoke_passes_on_the_nadamw_baseline() -> None:
    rc, lines, out = check("nadamw", "--smoke", "--smoke-steps", "5")
    assert rc == 0 and lines == []
    assert "--smoke: 5 steps on mnist dev ran" in out


LINT_CASES = '''
def helper(h, key):
    return h._asdict()[key]


def get_batch_size(workload_name):
    return 8


def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):
    hp = hyperparameters
    d = hp._asdict()
    alpha = d["alpha"]
    beta = d.get("beta", 1)
    if hasattr(hp, "gamma"):
        alpha = hp.gamma
    try:
        beta = hp.eps
    except AttributeError:
        beta = 1e-8
    zeta = helper(hp, "zeta")
    omega = getattr(hp, "omega", 0)
    return {"a": alpha, "b": beta, "z": zeta, "o": omega}


def update_params(workload, current_param_container, current_params_types, model_state,
                  hyperparameters, batch, loss_type, optimizer_state, eval_results,
                  global_step, rng):
    {update_body}
    return optimizer_state, current_param_container, model_state


def data_selection(workload, input_queue, optimizer_state, current_param_container,
                   model_state, hyperparameters, global_step, rng):
    return next(input_queue)
'''


def test_reads_through_aliases_helpers_and_guards(tmp_path: Path) -> None:
    from sdk.submission import load_submission
    from sdk.submission_lint import hyperparameter_reads

    path = tmp_path / "lint.py"
    path.write_text(LINT_CASES.replace("{update_body}", "pass"))
    reads = hyperparameter_reads(load_submission(str(path)))
    assert sorted(reads.required()) == ["alpha", "zeta"]  # the rest have a default or a guard
    assert reads.names() == {"alpha", "beta", "gamma", "eps", "zeta", "omega"}
    assert reads.complete
    path.write_text(LINT_CASES.replace("{update_body}", 'optimizer_state["h"] = hyperparameters'))
    assert not hyperparameter_reads(load_submission(str(path))).complete  # stored: lost track
