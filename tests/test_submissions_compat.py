"""Real AlgoPerf-style submissions run unmodified; broken input gets one clear sentence."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from sdk.cli.main import main
from sdk.errors import SubmissionError
from sdk.submission import load_submission

SUBMISSIONS = Path(__file__).parent / "submissions"


def run_cli(tmp_path, *args):
    out = tmp_path / "summary.json"
    code = main(["run", "--experiment-dir", str(tmp_path / "exp"), "--json", str(out),
                 "--seed", "3", "--no-progress", *args])
    return code, (json.loads(out.read_text()) if out.exists() else None)


@pytest.mark.parametrize("framework", ["pytorch", "jax"])
def test_algoperf_v06_style_submission_runs_unmodified(tmp_path, framework):
    folder = "algoperf_pytorch" if framework == "pytorch" else "algoperf_jax"
    code, summary = run_cli(tmp_path, "--workload", "mnist", "--framework", framework,
                            "--submission", str(SUBMISSIONS / folder / "submission.py"),
                            "--max-global-steps", "30")
    assert code == 0
    trial = summary["trials"][0]
    assert trial["api_version"] == "0.6" and trial["global_step"] == 30
    assert trial["hyperparameters"]  # read from the tuning_search_space.json beside it
    trial_dir = Path(trial["trial_dir"])
    assert (trial_dir / "eval_measurements.csv").is_file()
    if framework == "pytorch":
        module = sys.modules["paceline_submission_submission"]
        assert module.SEEN_TRAIN_STATE and all(module.SEEN_TRAIN_STATE)


def test_v05_style_submission_gets_the_v05_api(tmp_path):
    code, summary = run_cli(tmp_path, "--workload", "mnist",
                            "--submission", str(SUBMISSIONS / "v05_pytorch" / "submission.py"),
                            "--max-global-steps", "10")
    assert code == 0
    assert summary["trials"][0]["api_version"] == "0.5"
    module = sys.modules["paceline_submission_submission"]
    assert module.INIT_DROPOUT == [0.1]  # dropout_rate from the hyperparameters, at init


def test_package_submission_with_relative_imports(tmp_path):
    path = SUBMISSIONS / "pkg_style" / "algos" / "momentum" / "submission.py"
    code, summary = run_cli(tmp_path, "--workload", "mnist", "--submission", str(path),
                            "--max-global-steps", "5")
    assert code == 0 and summary["trials"][0]["global_step"] == 5


def test_algoperf_enums_are_paceline_enums():
    from sdk import compat, spec

    with compat.aliases():
        from algoperf import spec as algoperf_spec
        from algorithmic_efficiency import spec as ae_spec
    assert algoperf_spec.LossType is spec.LossType is ae_spec.LossType


def test_unknown_algoperf_module_is_a_clear_import_error():
    from sdk import compat

    with compat.aliases(), pytest.raises(ModuleNotFoundError, match="paceline"):
        import algoperf.workloads.imagenet_resnet.workload  # noqa: F401


def test_get_batch_size_is_retried_with_the_base_name():
    sub = load_submission("nadamw", "pytorch", "external")
    assert sub.batch_size("imagenet_resnet_silu") == 512  # listed itself
    assert sub.batch_size("imagenet_resnet_large_bn_init") == 1024  # base name's size
    with pytest.raises(SubmissionError, match="does not support"):
        sub.batch_size("cifar")


def test_broken_submission_is_one_sentence(tmp_path, capsys):
    code, _ = run_cli(tmp_path, "--workload", "mnist",
                      "--submission", str(SUBMISSIONS / "broken_import" / "submission.py"))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("paceline run: Could not import submission")
    assert "this_module_does_not_exist" in err[-1] and "Traceback" not in "\n".join(err)


def test_missing_function_is_reported(tmp_path, capsys):
    code, _ = run_cli(tmp_path, "--workload", "mnist", "--ruleset", "self",
                      "--submission", str(SUBMISSIONS / "missing_fn" / "submission.py"))
    assert code == 2
    assert "does not define update_params" in capsys.readouterr().err


def test_check_lists_every_problem(capsys):
    code = main(["check", str(SUBMISSIONS / "missing_fn" / "submission.py")])
    err = capsys.readouterr().err
    assert code == 2
    assert "does not define update_params" in err
    assert "init_optimizer_state() lacks parameter(s) rng" in err


def test_check_accepts_a_good_submission(capsys):
    folder = SUBMISSIONS / "algoperf_pytorch"
    code = main(["check", str(folder / "submission.py"), "--tuning-search-space",
                 str(folder / "tuning_search_space.json")])
    assert code == 0
    assert "OK (API v0.6; uses prepare_for_eval, train_state)" in capsys.readouterr().out


def test_unknown_workload_suggests_the_right_name(tmp_path, capsys):
    code, _ = run_cli(tmp_path, "--workload", "mnits", "--submission", "nadamw")
    err = capsys.readouterr().err
    assert code == 2 and "Unknown workload 'mnits'" in err and "mnist" in err


@pytest.mark.parametrize("space, message", [
    ({"lr": {"min": 1, "max": 0.1, "scaling": "log"}}, "'lr': min (1) is larger than max"),
    ({"lr": {"min": 0.1, "max": 1}}, "'lr' is missing scaling"),
    ({"lr": {"feasible_points": []}}, "feasible_points must be a non-empty list"),
    ([{"lr": 1}, {"beta": 2}], "point 2 lacks ['lr'] and adds ['beta']"),
])
def test_bad_search_space_is_one_sentence(tmp_path, capsys, space, message):
    path = tmp_path / "space.json"
    path.write_text(json.dumps(space))
    code, _ = run_cli(tmp_path, "--workload", "mnist", "--submission", "nadamw",
                      "--tuning-search-space", str(path))
    assert code == 2
    assert message in capsys.readouterr().err


def test_search_space_that_is_not_json(tmp_path, capsys):
    path = tmp_path / "space.json"
    path.write_text("{'lr': 1}")
    code, _ = run_cli(tmp_path, "--workload", "mnist", "--submission", "nadamw",
                      "--tuning-search-space", str(path))
    assert code == 2 and "not valid JSON" in capsys.readouterr().err


def test_v05_style_jax_pmap_submission_runs_unmodified(tmp_path):
    code, summary = run_cli(tmp_path, "--workload", "mnist", "--framework", "jax",
                            "--submission", str(SUBMISSIONS / "v05_jax" / "submission.py"),
                            "--max-global-steps", "60")
    assert code == 0
    trial = summary["trials"][0]
    assert trial["api_version"] == "0.5" and trial["global_step"] == 60
    assert trial["best_validation_metric"] > 0.3  # it really trained through pmap
