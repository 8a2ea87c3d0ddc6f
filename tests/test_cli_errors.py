"""Every bad input the probe of issue 16 found ends in one sentence and exit 2, before any work.

Each case was a traceback, or was silently accepted, or did its work before failing, until
issue 16 (the few marked as guards were already refused); ``{tmp}`` in a command line is the
test's temporary folder. Files the kit reads are fuzzed in ``tests/test_fuzz_inputs.py``.

    .venv/bin/python -m pytest tests/test_cli_errors.py -q
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
from pathlib import Path

import pytest
from test_external_tuning_support import write_synthetic_trial

from sdk.cli.main import main
from sdk.experiment import trial_dir_for
from tests.test_scoring_support import curve_rows, write_trial


def cli(*argv: str) -> tuple[int, str, str]:
    """``paceline ARGV`` in this process: exit status, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(list(argv))
    return rc, out.getvalue(), err.getvalue()


def one_sentence(rc: int, err: str, *words: str) -> str:
    """The error line of a run that must end in exit 2, checked to name ``words``."""
    assert rc == 2, err
    assert "Traceback" not in err
    line = err.strip().splitlines()[-1]  # run/tune print a 'paceline: ...' start line first
    assert line.startswith("paceline "), err
    for word in words:
        assert word in line, line
    return line


def _in(tmp: Path, argv: tuple[str, ...]) -> list[str]:
    return [a.replace("{tmp}", str(tmp)) for a in argv]


RUN = ("run", "--submission", "nadamw", "--experiment-dir", "{tmp}/exp")

# ---- flags, checked before anything is imported or trained ---------------------------------

FLAG_CASES = {
    "threads_negative": ((*RUN, "--threads", "-1"), ["--threads", "at least 1"]),
    "trials_absurd": ((*RUN, "--trials", "100000000"), ["--trials", "at most"]),
    "max_global_steps_zero": ((*RUN, "--max-global-steps", "0"), ["--max-global-steps"]),
    "max_global_steps_negative": ((*RUN, "--max-global-steps=-5"), ["--max-global-steps"]),
    "speed_factor_inf": ((*RUN, "--speed-factor", "inf"), ["--speed-factor", "finite"]),
    "speed_factor_nan": ((*RUN, "--speed-factor", "nan"), ["--speed-factor"]),
    "resume_and_overwrite": ((*RUN, "--resume", "--overwrite"),
                             ["--resume and --overwrite"]),
    "heldout_draws_zero": (("heldout", "--submission", "nadamw", "--draws", "0"), ["--draws"]),
    "heldout_resume_and_overwrite": (("heldout", "--submission", "nadamw", "--variants",
                                      "random", "--resume", "--overwrite", "--experiment-dir",
                                      "{tmp}/exp"), ["--resume and --overwrite"]),
    # refused before issue 16 too (after importing the submission); kept as guards
    "tune_workers_zero": (("tune", "--submission", "nadamw", "--workers", "0"), ["--workers"]),
    "studies_zero": ((*RUN, "--studies", "0"), ["--studies"]),
    "freeze_samples_low": (("freeze", "{tmp}", "--out", "{tmp}/o.json", "--samples", "3"),
                           ["--samples", "at least 10"]),
    "targets_runtime_negative": (("targets", "mnist", "--runtime=-3"), ["--runtime"]),
    # finewebedu_lm is a workload of the a100-2026 rules only; the default rules are v0.5
    "workload_outside_the_rules": ((*RUN, "--workload", "finewebedu_lm"),
                                   ["finewebedu_lm", "not a workload of the v0.5 rules",
                                    "--ruleset-version a100-2026"]),
}


@pytest.mark.parametrize("case", FLAG_CASES.values(), ids=FLAG_CASES.keys())
def test_bad_flags_are_one_sentence_before_any_work(tmp_path: Path, case) -> None:  # noqa: ANN001
    argv, words = case
    one_sentence(*cli(*_in(tmp_path, argv))[::2], *words)
    assert not (tmp_path / "exp").exists()  # nothing ran


# ---- output paths, checked up front ---------------------------------------------------------

OUTPUT_CASES = {
    "experiment_dir_in_proc": ((*RUN, "--experiment-dir", "/proc/x"), ["/proc"]),
    "experiment_dir_is_a_file": ((*RUN, "--experiment-dir", "{tmp}/file"), ["is a file"]),
    "json_in_missing_folder": ((*RUN, "--json", "/nonexistent/dir/out.json"),
                               ["/nonexistent/dir", "does not exist"]),
    "json_is_a_folder": ((*RUN, "--json", "{tmp}"), ["is a folder"]),
    "json_in_proc": ((*RUN, "--json", "/proc/out.json"), ["/proc"]),
    "tune_json_missing_folder": (("tune", "--submission", "nadamw", "--json",
                                  "{tmp}/no/out.json"), ["does not exist"]),
    "heldout_draw_json": (("heldout", "draw", "--json", "{tmp}/no/d.json"), ["does not exist"]),
    "score_html_missing_folder": (("score", "{tmp}/algo", "--html", "{tmp}/no/r.html"),
                                  ["Cannot write the HTML report"]),
    "score_plot_is_a_folder": (("score", "{tmp}/algo", "--plot", "{tmp}"), ["is a folder"]),
    "freeze_out_in_proc": (("freeze", "{tmp}/algo", "--out", "/proc/x/s.json"), ["/proc"]),
    "targets_json_missing_folder": (("targets", "mnist", "--json", "{tmp}/no/t.json",
                                     "--experiment-dir", "{tmp}/exp"), ["does not exist"]),
    "data_dir_is_a_file": (("data", "prepare", "mnist", "--data-dir", "{tmp}/file"),
                           ["is a file"]),
}


@pytest.mark.parametrize("case", OUTPUT_CASES.values(), ids=OUTPUT_CASES.keys())
def test_unwritable_outputs_are_one_sentence_before_any_work(tmp_path: Path, case) -> None:  # noqa: ANN001
    argv, words = case
    (tmp_path / "file").write_text("not a folder")
    write_trial(tmp_path / "algo", "ogbg_jax", 1, curve_rows([10.0], [0.3], "mean_average_precision"))
    one_sentence(*cli(*_in(tmp_path, argv))[::2], *words)
    assert not (tmp_path / "exp").exists()


# ---- search spaces ----------------------------------------------------------------------------

SPACE_CASES = {
    "binary": (b"\x89PNG\r\n\x1a\n\x00\xff", ["not UTF-8"]),
    "name_with_a_space": (json.dumps({"learning rate": {"min": 1e-4, "max": 1e-2,
                                                        "scaling": "log"}}).encode(),
                          ["'learning rate'", "not a Python identifier"]),
    "name_is_a_keyword": (json.dumps([{"class": 1}]).encode(), ["'class'"]),
    "name_is_private": (json.dumps([{"_fields": 1}]).encode(), ["'_fields'"]),
    "deeply_nested": (b"[" * 100_000 + b"]" * 100_000, ["too deep"]),
    "nested_past_the_limit": (b'{"lr": {"feasible_points": ' + b"[" * 70 + b"1"
                              + b"]" * 70 + b"}}", ["too deep"]),
    "name_twice": (b'{"lr": {"feasible_points": [1]}, "lr": {"feasible_points": [2]}}',
                   ["'lr' twice"]),
    "truncated": (b'{"lr": {"min": 1e-4, "max"', ["not valid JSON"]),
}


@pytest.mark.parametrize("case", SPACE_CASES.values(), ids=SPACE_CASES.keys())
def test_bad_search_spaces_are_one_sentence(tmp_path: Path, case) -> None:  # noqa: ANN001
    content, words = case
    space = tmp_path / "space.json"
    space.write_bytes(content)
    for argv in ((*RUN, "--tuning-search-space", str(space)),
                 ("check", "nadamw", "--tuning-search-space", str(space))):
        one_sentence(*cli(*_in(tmp_path, argv))[::2], str(space), *words)


def test_a_search_space_folder_is_one_sentence(tmp_path: Path) -> None:
    one_sentence(*cli(*_in(tmp_path, (*RUN, "--tuning-search-space", "{tmp}")))[::2],
                 "does not exist")


# ---- files read on --resume ---------------------------------------------------------------

RESUME = (*RUN, "--experiment-name", "x", "--seed", "0", "--resume", "--max-global-steps", "1")
RESULT_WITHOUT_FIELDS = json.dumps({"finished": True, "result": {"workload": "mnist"}})
RESUME_CASES = {
    "status_binary": ("paceline_trial.json", b"\xff\xfe\x00", ["paceline_trial.json",
                                                               "not UTF-8"]),
    "status_a_list": ("paceline_trial.json", b"[1, 2]", ["paceline_trial.json", "JSON object"]),
    "status_result_broken": ("paceline_trial.json", RESULT_WITHOUT_FIELDS.encode(),
                             ["paceline_trial.json", "recorded result"]),
    "status_result_wrong_type": ("paceline_trial.json", json.dumps(
        {"finished": True, "result": "done"}).encode(), ["'result' must be a JSON object"]),
    "hparams_truncated": ("hparams.json", b'{"learning_rate": 0.0', ["hparams.json",
                                                                     "not valid JSON"]),
    "hparams_a_number": ("hparams.json", b"3", ["hparams.json", "JSON object"]),
    "hparams_bad_name": ("hparams.json", b'{"learning rate": 0.1}', ["'learning rate'"]),
}


@pytest.mark.parametrize("case", RESUME_CASES.values(), ids=RESUME_CASES.keys())
def test_broken_trial_files_on_resume_are_one_sentence(tmp_path: Path, case) -> None:  # noqa: ANN001
    name, content, words = case
    trial = trial_dir_for(tmp_path / "exp" / "x", 0, "mnist", "pytorch", 1)
    trial.mkdir(parents=True)
    (trial / name).write_bytes(content)
    one_sentence(*cli(*_in(tmp_path, RESUME))[::2], *words)
    assert sorted(p.name for p in trial.iterdir()) == [name]  # nothing trained or rewritten


TUNE = ("tune", "--workload", "mnist", "--submission", "nadamw", "--studies", "1",
        "--trials", "2", "--dry-run", "--experiment-dir", "{tmp}/exp")
LEDGER_CASES = {
    "binary": (b"\x00\x01\xff", ["paceline_tune.json", "not UTF-8"]),
    "truncated": (b'{"format": 1, "config": {', ["paceline_tune.json", "not valid JSON"]),
    "groups_not_a_list": (b'{"format": 1, "config": {}, "groups": 5}',
                          ["paceline_tune.json", "not a paceline tuning state"]),
    "config_not_an_object": (b'{"format": 1, "config": [], "groups": []}',
                             ["paceline_tune.json", "not a paceline tuning state"]),
}


@pytest.mark.parametrize("case", LEDGER_CASES.values(), ids=LEDGER_CASES.keys())
def test_broken_tuning_ledgers_are_one_sentence(tmp_path: Path, case) -> None:  # noqa: ANN001
    content, words = case
    ledger = tmp_path / "exp" / "dev" / "external_tuning" / "nadamw" / "paceline_tune.json"
    ledger.parent.mkdir(parents=True)
    ledger.write_bytes(content)
    one_sentence(*cli(*_in(tmp_path, TUNE))[::2], *words)


# ---- score and freeze -----------------------------------------------------------------------

META_CASES = {
    "binary": (b"\xff\x00", ["meta_data_0.json", "not UTF-8"]),
    "a_list": (b"[]", ["meta_data_0.json", "JSON object"]),
    "dev_target_nan": (json.dumps({"paceline.scale": "dev", "workload.target_metric_name":
                                   "mean_average_precision",
                                   "workload.validation_target_value": float("nan")}).encode(),
                       ["finite number"]),
    "dev_budget_negative": (json.dumps({"paceline.scale": "dev",
                                        "workload.target_metric_name": "mean_average_precision",
                                        "workload.validation_target_value": 0.3,
                                        "paceline.budget_sec": -5}).encode(),
                            ["paceline.budget_sec"]),
}


@pytest.mark.parametrize("case", META_CASES.values(), ids=META_CASES.keys())
def test_malformed_meta_data_is_one_sentence_in_score_and_freeze(tmp_path: Path,
                                                                 case) -> None:  # noqa: ANN001
    content, words = case
    trial = write_trial(tmp_path / "algo", "ogbg_jax", 1,
                        curve_rows([10.0], [0.3], "mean_average_precision"))
    (trial / "hparams.json").write_text('{"lr": 0.1}')
    (trial / "meta_data_0.json").write_bytes(content)
    one_sentence(*cli("score", str(tmp_path / "algo"))[::2], *words)
    one_sentence(*cli("freeze", str(tmp_path / "algo"), "--out",
                      str(tmp_path / "o.json"))[::2], *words)


def test_freeze_skips_a_trial_whose_hparams_are_broken_with_a_note(tmp_path: Path) -> None:
    for i, lr in enumerate((1e-3, 1e-2, 3e-2), start=1):
        write_synthetic_trial(tmp_path / "s" / "study_0" / "wa_pytorch" / f"trial_{i}",
                              {"lr": lr}, 5.0 + i)
    (tmp_path / "s" / "study_0" / "wa_pytorch" / "trial_3" / "hparams.json").write_bytes(
        b"\xff\xfe")
    rc, out, err = cli("freeze", str(tmp_path / "s"), "--out", str(tmp_path / "o.json"),
                       "--samples", "20", "--points", "1")
    assert rc == 0, err
    assert "trial_3/hparams.json is not UTF-8 text" in out + err


# ---- targets files --------------------------------------------------------------------------

TARGET_CASES = {
    "budget_zero": ({"workloads": {"ogbg": {"validation_target_value": 0.3, "budget_sec": 0}}},
                    ["'budget_sec' of 'ogbg'", "positive"]),
    "budget_negative": ({"workloads": {"ogbg": {"validation_target_value": 0.3,
                                                "max_allowed_runtime_sec": -1}}},
                        ["positive"]),
    "base_listed_twice": ({"workloads": {}, "base_workloads": ["ogbg", "wmt", "ogbg"]},
                          ["'ogbg' twice"]),
    "target_infinite": ({"workloads": {"ogbg": {"validation_target_value": float("inf")}}},
                        ["finite number"]),
}


@pytest.mark.parametrize("case", TARGET_CASES.values(), ids=TARGET_CASES.keys())
def test_bad_targets_files_are_one_sentence(tmp_path: Path, case) -> None:  # noqa: ANN001
    content, words = case
    write_trial(tmp_path / "algo", "ogbg_jax", 1, curve_rows([10.0], [0.3],
                                                             "mean_average_precision"))
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps(content))
    one_sentence(*cli("score", str(tmp_path / "algo"), "--targets", str(targets))[::2],
                 str(targets), *words)


def test_a_workload_named_twice_in_a_targets_file_is_one_sentence(tmp_path: Path) -> None:
    write_trial(tmp_path / "algo", "ogbg_jax", 1, curve_rows([10.0], [0.3],
                                                             "mean_average_precision"))
    targets = tmp_path / "targets.json"
    targets.write_text('{"workloads": {"ogbg": 0.3, "ogbg": 0.1}}')
    one_sentence(*cli("score", str(tmp_path / "algo"), "--targets", str(targets))[::2],
                 "'ogbg' twice")


# ---- eval_measurements.csv ------------------------------------------------------------------

HEADER = b"accumulated_submission_time,global_step,score,validation/mean_average_precision\n"
CSV_CASES = {
    "truncated_mid_line": (HEADER + b"10.0,100,10.0,0.1\n20.0,200,20.0,0.", ["cut off"]),
    "short_last_line": (HEADER + b"10.0,100,10.0,0.1\n20.0,200\n", ["2 cells", "cut off"]),
    "nul_padded": (HEADER + b"10.0,100,10.0,0.3\n" + b"\0" * 64, ["NUL"]),
    "negative_time": (HEADER + b"-10.0,100,-10.0,0.3\n", ["-10", "non-negative"]),
    "time_goes_back": (HEADER + b"20.0,100,20.0,0.1\n10.0,200,10.0,0.3\n", ["earlier than"]),
    "infinite_time": (HEADER + b"inf,100,inf,0.3\n", ["finite"]),
}


@pytest.mark.parametrize("case", CSV_CASES.values(), ids=CSV_CASES.keys())
def test_damaged_eval_csvs_are_one_sentence_never_a_score(tmp_path: Path, case) -> None:  # noqa: ANN001
    content, words = case
    trial = write_trial(tmp_path / "algo", "ogbg_jax", 1,
                        curve_rows([10.0], [0.3], "mean_average_precision"))
    (trial / "eval_measurements.csv").write_bytes(content)
    one_sentence(*cli("score", str(tmp_path / "algo"), "--ruleset-version", "0.6")[::2],
                 "eval_measurements.csv", *words)


# ---- the boundary itself --------------------------------------------------------------------

def test_an_oserror_naming_a_path_is_one_sentence_and_a_bug_keeps_its_traceback(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from sdk.cli import score_cmd

    def disk_full(args: object) -> int:
        raise OSError(28, "No space left on device", "/data/out.json")

    def bug(args: object) -> int:
        raise OSError("a bug of paceline's: no file named")

    monkeypatch.setattr(score_cmd, "COMMAND", dataclasses.replace(score_cmd.COMMAND,
                                                                  run=disk_full))
    one_sentence(*cli("score", "x")[::2], "/data/out.json", "No space left on device")
    monkeypatch.setattr(score_cmd, "COMMAND", dataclasses.replace(score_cmd.COMMAND, run=bug))
    with pytest.raises(OSError, match="a bug"):
        cli("score", "x")
