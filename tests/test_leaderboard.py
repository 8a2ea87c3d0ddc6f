"""`paceline leaderboard` on a field of small fake AlgoPerf entries written by the tests.

    .venv/bin/python -m pytest -q tests/test_leaderboard.py

The field mirrors mlcommons/submissions_algorithms: ``<root>/submissions/self_tuning/<entry>/``
with ``submission.py``; one entry imports from the repository root
(``from submissions.self_tuning.fake_rooted.helper import ...``), one cannot be imported. They
run on mnist at dev scale for a few steps.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdk.cli.main import main
from sdk.dev_leaderboard import (
    check_dev_leaderboard,
    find_dev_leaderboard,
    load_dev_leaderboard,
    rank_in_field,
)
from sdk.entries import detect_framework, discover_entries
from sdk.errors import PacelineError

# A self-tuning AlgoPerf submission: Adam with its own learning rate (no hyperparameters).
ADAM = '''
"""A fake self-tuning entry: Adam at a fixed learning rate."""
import torch
from algoperf import spec
{extra_import}

def get_batch_size(workload_name):
    return 64

def init_optimizer_state(workload, model_params, model_state, hyperparameters, rng):
    return {{"optimizer": torch.optim.Adam(model_params.parameters(), lr={lr})}}

def update_params(workload, current_param_container, current_params_types, model_state,
                  hyperparameters, batch, loss_type, optimizer_state, eval_results,
                  global_step, rng):
    model = current_param_container
    opt = optimizer_state["optimizer"]
    opt.zero_grad()
    logits, new_state = workload.model_fn(model, batch, model_state,
                                          spec.ForwardPassMode.TRAIN, rng,
                                          update_batch_norm=True)
    loss = workload.loss_fn(batch["targets"], logits, batch.get("weights"))
    (loss["summed"] / loss["n_valid_examples"]).backward()
    {lr_line}
    opt.step()
    return optimizer_state, model, new_state

def data_selection(workload, input_queue, optimizer_state, current_param_container,
                   model_state, hyperparameters, global_step, rng):
    return next(input_queue)
'''

ROOTED_IMPORT = "from submissions.self_tuning.fake_rooted.helper import learning_rate"
ROOTED_LR = "for g in opt.param_groups: g['lr'] = learning_rate(global_step)"


def _entry(root: Path, name: str, source: str, **files: str) -> Path:
    folder = root / "submissions" / "self_tuning" / name
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    (folder / "submission.py").write_text(source)
    for file_name, text in files.items():
        (folder / file_name).write_text(text)
    return folder


def write_field(root: Path) -> Path:
    """Four fake entries in the layout of mlcommons/submissions_algorithms; returns the
    folder holding them (``<root>/submissions/self_tuning``)."""
    _entry(root, "fake_adam", ADAM.format(extra_import="", lr=1e-3, lr_line="pass"),
           **{"submission_info.yml": "submission_name: fake adam\nframework: PyTorch\n"})
    _entry(root, "fake_rooted",
           ADAM.format(extra_import=ROOTED_IMPORT, lr=1e-3, lr_line=ROOTED_LR),
           **{"helper.py": "def learning_rate(step):\n    return 2e-3 / (1 + step / 100)\n"})
    _entry(root, "fake_broken", "import torch\nimport paceline_no_such_module_anywhere\n",
           **{"requirements.txt": "# as upstream entries pin their own\n"
                                  "paceline-no-such-package==1.0\nnumpy>=1.0\n--extra-index-url x\n"})
    _entry(root, "fake_jax", "import jax\nimport optax\n",
           **{"submission_info.yml": 'framework: "JAX"\n'})
    return root / "submissions" / "self_tuning"


TINY = ["--workload", "mnist", "--max-global-steps", "8", "--speed-factor", "1", "--jobs", "1",
        "--seed", "1", "--no-tensorboard", "--no-checkpoints"]


@pytest.fixture(scope="module")
def field_run(tmp_path_factory):
    """One leaderboard run over three entries (one rooted, one broken), shared by the tests."""
    root = tmp_path_factory.mktemp("field")
    field = write_field(root)
    exp = root / "exp"
    written = root / "dev_leaderboard_self_v0.6.json"
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["leaderboard", "run", str(field), "--ruleset", "self",
                     "--ruleset-version", "0.6", "--entry", "fake_adam", "--entry",
                     "fake_rooted", "--entry", "fake_broken", "--experiment-dir", str(exp),
                     "--write", str(written), *TINY, "--max-global-steps", "2000"])
    return {"code": code, "out": out.getvalue(), "err": err.getvalue(), "field": field,
            "exp": exp, "written": written,
            "board": exp / "leaderboard" / "self_v0.6"}


def test_entries_are_found_with_their_framework(tmp_path):
    field = write_field(tmp_path)
    entries = {e.name: e for e in discover_entries(field)}
    assert sorted(entries) == ["fake_adam", "fake_broken", "fake_jax", "fake_rooted"]
    assert (entries["fake_adam"].framework, entries["fake_adam"].framework_source) == \
        ("pytorch", "submission_info.yml")
    assert (entries["fake_rooted"].framework, entries["fake_rooted"].framework_source) == \
        ("pytorch", "imports")
    assert entries["fake_jax"].framework == "jax"
    assert entries["fake_broken"].framework == "pytorch"
    unknown = tmp_path / "plain"
    unknown.mkdir()
    (unknown / "submission.py").write_text("import numpy\n")  # no info file, no framework
    assert detect_framework(unknown)[0] is None
    assert entries["fake_rooted"].import_root == tmp_path.resolve()
    # a conda environment file with no framework field falls back to the imports
    (field / "fake_rooted" / "submission_info.yml").write_text("dependencies:\n  - jax==0.4\n")
    assert detect_framework(field / "fake_rooted") == ("pytorch", "imports")


def test_a_path_without_entries_is_one_sentence(tmp_path, capsys):
    assert main(["leaderboard", "run", str(tmp_path), *TINY]) == 2
    err = capsys.readouterr().err
    assert "No submission.py found" in err and "Traceback" not in err
    assert main(["leaderboard", "show", str(tmp_path)]) == 2
    assert "is not a leaderboard run" in capsys.readouterr().err


def test_the_field_runs_and_the_broken_entry_gets_one_line(field_run):
    assert field_run["code"] == 0, field_run["err"][-2000:]
    broken = [line for line in field_run["err"].splitlines() if "fake_broken" in line]
    assert len(broken) == 1, broken
    assert "paceline_no_such_module_anywhere" in broken[0]
    # the entry's own requirements.txt says what this environment lacks (numpy>=1.0 is met)
    assert "asks for paceline-no-such-package==1.0 (not installed)" in broken[0]
    assert "numpy" not in broken[0]
    board = field_run["board"]
    summary = json.loads((board / "leaderboard.json").read_text())
    assert {n: e["status"] for n, e in summary["entries"].items()} == {
        "fake_adam": "ran", "fake_rooted": "ran", "fake_broken": "failed"}
    # AlgoPerf's layout per entry, as `paceline run` writes it
    for name in ("fake_adam", "fake_rooted"):
        trial = board / name / "study_0" / "mnist_pytorch" / "trial_1"
        assert (trial / "eval_measurements.csv").is_file(), name
        assert summary["entries"][name]["command"].startswith("paceline run --submission ")
        trial_record = summary["entries"][name]["trials"][0]
        assert trial_record["status"] == "targets_reached", trial_record
    assert summary["entries"]["fake_rooted"]["upstream"]["commit"] == "unknown"
    assert "Dev leaderboard" in field_run["out"] and "fake_rooted" in field_run["out"]


def test_framework_without_a_dev_implementation_and_missing_search_space(
        field_run, capsys, tmp_path, torch_only_workload):
    """Entries skipped before anything runs, each with one line; the others are kept.

    Every family has both frameworks now, so a PyTorch-only twin of mnist stands in.
    """
    exp = str(field_run["exp"])
    main(["leaderboard", "run", str(field_run["field"]), "--entry", "fake_jax", "--workload",
          torch_only_workload, "--experiment-dir", str(tmp_path), "--ruleset", "self",
          "--ruleset-version",
          "0.6", "--speed-factor", "1"])  # exits 2 at scoring: the twin has no rules target
    err = capsys.readouterr().err
    assert "fake_jax: skipped: no dev jax implementation of mnist_torch_only" in err
    assert "Traceback" not in err
    assert main(["leaderboard", "run", str(field_run["field"]), "--entry", "fake_rooted",
                 "--ruleset", "external", "--experiment-dir", exp, "--speed-factor", "1"]) == 0
    assert "fake_rooted: skipped: external tuning needs tuning_search_space.json" in \
        capsys.readouterr().err
    summary = json.loads((field_run["board"] / "leaderboard.json").read_text())
    assert summary["entries"]["fake_adam"]["status"] == "ran"  # earlier entries are kept
    skipped = json.loads((tmp_path / "leaderboard" / "self_v0.6" / "leaderboard.json").read_text())
    assert skipped["entries"]["fake_jax"]["status"] == "skipped"


def test_show_prints_the_dev_leaderboard(field_run, capsys):
    assert main(["leaderboard", "show", str(field_run["board"])]) == 0
    out = capsys.readouterr().out
    assert "fake_adam" in out and "fake_rooted" in out
    assert "fake_broken: failed: Could not import" in out
    assert main(["leaderboard", "show", str(field_run["written"])]) == 0  # the shipped form
    out = capsys.readouterr().out
    assert "official rank" in out and "fake_rooted" in out


def test_written_file_is_valid_and_every_entry_is_scored(field_run):
    data = load_dev_leaderboard(field_run["written"])
    assert check_dev_leaderboard(data) == []
    ran = {n for n, e in data["entries"].items() if e["status"] == "ran"}
    assert ran == {"fake_adam", "fake_rooted"}
    for name in ran:
        entry = data["entries"][name]
        assert isinstance(entry["dev_score"], float) and entry["dev_rank"] in (1, 2)
        assert entry["workloads"]["mnist"]["time_to_target_sec"] > 0  # both reach mnist
        assert entry["upstream"]["path"] and entry["upstream"]["commit"]
        assert entry["command"].startswith("paceline run ")
        assert entry["workloads"]["mnist"]["study_times"]
    assert max(data["entries"][n]["dev_score"] for n in ran) == 1.0
    assert data["entries"]["fake_broken"]["reason"]
    assert data["command"].startswith("paceline leaderboard run ")


def test_checker_finds_an_unscored_or_tampered_entry(field_run):
    data = json.loads(field_run["written"].read_text())
    data["entries"]["fake_adam"]["dev_score"] = None
    assert any("is not scored" in p for p in check_dev_leaderboard(data))
    data = json.loads(field_run["written"].read_text())
    data["entries"]["fake_rooted"]["workloads"]["mnist"]["study_times"] = [1.0, 3.0, 5.0]
    data["entries"]["fake_rooted"]["workloads"]["mnist"]["time_to_target_sec"] = 1.0
    assert any("not the median" in p for p in check_dev_leaderboard(data))
    data = json.loads(field_run["written"].read_text())
    del data["entries"]["fake_adam"]["upstream"]["commit"]
    assert any("upstream lacks 'commit'" in p for p in check_dev_leaderboard(data))
    bad = field_run["written"].parent / "bad.json"
    bad.write_text(json.dumps({**data, "format": "other"}))
    with pytest.raises(PacelineError, match="format must be"):
        load_dev_leaderboard(bad)


def test_rank_in_field_places_a_run_among_the_entries():
    data = {"format": "paceline-dev-leaderboard/1", "ruleset": "self", "ruleset_version": "0.6",
            "command": "x", "workloads": ["mnist"],
            "entries": {"fast": {"status": "ran", "framework": "pytorch", "official_score": 0.8,
                                 "official_rank": 1,
                                 "workloads": {"mnist": {"time_to_target_sec": 5.0}}},
                        "slow": {"status": "ran", "framework": "jax", "official_score": None,
                                 "workloads": {"mnist": {"time_to_target_sec": 15.0}}}}}
    text = rank_in_field("mine", {"mnist": 10.0}, data)
    assert text.startswith("mine ranks 2 of 3")
    assert "0.800" in text


@pytest.mark.parametrize("ruleset,version", [("self", "0.5"), ("self", "0.6"),
                                             ("self", "a100-2026"),
                                             ("external", "0.5"), ("external", "0.6")])
def test_shipped_dev_leaderboards_are_valid_and_fully_scored(ruleset, version):
    path = find_dev_leaderboard(ruleset, version)
    if path is None:
        pytest.skip(f"no dev leaderboard ships for {ruleset} tuning v{version} yet")
    data = load_dev_leaderboard(path)  # the format checker: every entry that ran is scored
    for name, entry in data["entries"].items():
        assert entry["status"] != "ran" or isinstance(entry["dev_score"], float), name


def test_place_runs_ranks_a_run_among_the_shipped_entries(field_run, monkeypatch):
    import sdk.dev_leaderboard as dl
    from sdk.scoring import load_submission_times, scoring_rules

    rules = scoring_rules("0.6", self_tuning=True, base_workloads=("mnist",),
                          held_out_workloads=())
    mine = load_submission_times(field_run["board"] / "fake_adam", rules)
    monkeypatch.setattr(dl, "find_dev_leaderboard", lambda ruleset, version: None)
    assert "No dev leaderboard ships" in dl.place_runs({"mine": mine}, ["mnist"], "self", "0.6")
    monkeypatch.setattr(dl, "find_dev_leaderboard", lambda ruleset, version: (
        field_run["written"] if version == "a100-2026" else None))
    hint = dl.place_runs({"mine": mine}, ["mnist"], "self", "0.5")
    assert "rerun with --ruleset-version a100-2026 to rank" in hint and hint.count("\n") == 0
    monkeypatch.setattr(dl, "find_dev_leaderboard",
                        lambda ruleset, version: field_run["written"])
    text = dl.place_runs({"mine": mine}, ["mnist"], "self", "0.6")
    assert text.startswith("mine ranks ") and "of 3 among the dev leaderboard" in text


def test_place_runs_leaves_out_a_workload_timed_with_another_budget(field_run, monkeypatch,
                                                                     tmp_path):
    """A file from before a change of the dev budgets does not rank a run made after it."""
    import sdk.dev_leaderboard as dl
    from sdk.scoring import load_submission_times, scoring_rules

    rules = scoring_rules("0.6", self_tuning=True, base_workloads=("mnist",),
                          held_out_workloads=())
    mine = load_submission_times(field_run["board"] / "fake_adam", rules)
    data = json.loads(field_run["written"].read_text())
    for entry in data["entries"].values():
        for row in (entry.get("workloads") or {}).values():
            row["budget_sec"] = row["budget_sec"] * 2  # what an older calibration gave
    older = tmp_path / "older.json"
    older.write_text(json.dumps(data))
    monkeypatch.setattr(dl, "find_dev_leaderboard", lambda ruleset, version: older)
    text = dl.place_runs({"mine": mine}, ["mnist"], "self", "0.6")
    assert "times none of its workloads against the same targets and budgets" in text
    assert "(other targets or budgets: mnist)" in text
    for entry in data["entries"].values():  # entries of another framework do not count
        entry["framework"] = "another framework"
    older.write_text(json.dumps(data))
    assert dl.place_runs({"mine": mine}, ["mnist"], "self", "0.6").startswith("mine ranks ")


def test_bad_official_flags_are_refused_before_anything_runs(tmp_path, capsys):
    field = write_field(tmp_path)
    base = ["leaderboard", "run", str(field), "--experiment-dir", str(tmp_path / "exp"), *TINY]
    assert main([*base, "--official", str(tmp_path / "nope"), "--write",
                 str(tmp_path / "f.json")]) == 2
    assert "is not a folder of official logs" in capsys.readouterr().err
    assert main([*base, "--official", str(tmp_path)]) == 2
    assert "add --write FILE" in capsys.readouterr().err
    assert main([*base, "--write", str(tmp_path / "no_such_dir" / "f.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "exp").exists()  # nothing ran


def test_fidelity_of_a_run_against_its_own_logs_is_perfect(field_run, tmp_path, capsys):
    """The run's folder is in AlgoPerf's layout, so it can stand in for official logs."""
    out = tmp_path / "fidelity.json"
    board = str(field_run["board"])
    assert main(["leaderboard", "fidelity", board, "--official", board, "--json",
                 str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["entries"] == ["fake_adam", "fake_rooted"]  # fake_broken has no logs there
    assert result["failed_at_dev"] == ["fake_broken"]
    assert (result["hit_pairs_agree"], result["hit_pairs"]) == (2, 2)
    assert result["score_kendall_tau"] == 1.0 and result["pairwise_accuracy"] == 1.0
    assert all(r["ratio"] == pytest.approx(1.0) for r in result["step_ratios"])
    assert result["disagreements"] == []
    out_text = capsys.readouterr().out
    assert "Hit/miss agreement: 2/2" in out_text
    assert "agree on hit/miss for every pair" in out_text


def test_fidelity_scores_the_same_runs_against_other_dev_targets(field_run, tmp_path):
    """--dev-targets replaces the targets the trials ran with: an unreachable mnist target
    turns both hits into misses, so dev now disagrees with the run's own logs."""
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps({"workloads": {"mnist": 1.5}}))  # accuracy never 1.5
    out = tmp_path / "fidelity.json"
    board = str(field_run["board"])
    assert main(["leaderboard", "fidelity", board, "--official", board, "--dev-targets",
                 str(targets), "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert (result["hit_pairs_agree"], result["hit_pairs"]) == (0, 2)
    # each disagreement says how far the dev best fell short of the new target
    far = {d["entry"]: d for d in result["disagreements"]}
    assert set(far) == {"fake_adam", "fake_rooted"}
    for d in far.values():
        assert (d["dev_hit"], d["official_hit"], d["dev_target"]) == (False, True, 1.5)
        assert d["shortfall"] == pytest.approx((1.5 - d["dev_best"]) / 1.5)


def test_fidelity_of_named_entries_only(field_run, tmp_path, capsys):
    """--entry keeps the calibration set apart from the entries held out of it; a name the
    run lacks ends in one sentence and exit 2."""
    out = tmp_path / "fidelity.json"
    board = str(field_run["board"])
    assert main(["leaderboard", "fidelity", board, "--official", board, "--entry",
                 "fake_rooted", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["entries"] == ["fake_rooted"] and result["failed_at_dev"] == []
    assert main(["leaderboard", "fidelity", board, "--official", board, "--entry",
                 "no_such_entry"]) == 2
    err = capsys.readouterr().err
    assert "has no entry no_such_entry" in err and "Traceback" not in err


def test_dev_targets_need_a_run_folder(field_run, tmp_path, capsys):
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps({"workloads": {"mnist": 0.5}}))
    assert main(["leaderboard", "fidelity", str(field_run["written"]), "--official",
                 str(field_run["board"]), "--dev-targets", str(targets)]) == 2
    assert "--dev-targets needs a run folder" in capsys.readouterr().err


def test_current_dev_targets_are_the_ones_paceline_ships(field_run, tmp_path):
    """'current' scores the runs against the dev targets in the code now: unchanged since the
    runs, so the result equals scoring them as they ran."""
    out = tmp_path / "fidelity.json"
    board = str(field_run["board"])
    assert main(["leaderboard", "fidelity", board, "--official", board, "--dev-targets",
                 "current", "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert (result["hit_pairs_agree"], result["hit_pairs"]) == (2, 2)


def test_dev_targets_without_write_are_refused(tmp_path, capsys):
    assert main(["leaderboard", "run", str(tmp_path), "--dev-targets", "current"]) == 2
    assert "--dev-targets is used by --write" in capsys.readouterr().err


def _mixed_copy(field_run, tmp_path: Path) -> Path:
    """The field run's experiment with fake_rooted's trials recorded against another mnist
    target, as after a recalibration between two entries' runs."""
    import shutil

    exp = tmp_path / "exp"
    shutil.copytree(field_run["exp"], exp)
    for meta in (exp / "leaderboard" / "self_v0.6" / "fake_rooted").rglob("meta_data_*.json"):
        data = json.loads(meta.read_text())
        data["workload.validation_target_value"] = 0.5
        meta.write_text(json.dumps(data))
    return exp


def test_runs_against_different_targets_are_ranked_against_current_ones(field_run, tmp_path,
                                                                         capsys):
    exp = _mixed_copy(field_run, tmp_path)
    board = str(exp / "leaderboard" / "self_v0.6")
    assert main(["leaderboard", "show", board]) == 2
    err = capsys.readouterr().err
    assert "different mnist targets" in err and "--dev-targets current" in err
    assert main(["leaderboard", "show", board, "--dev-targets", "current"]) == 0
    out = capsys.readouterr().out
    assert "fake_adam" in out and "fake_rooted" in out
    assert main(["leaderboard", "show", str(field_run["written"]), "--dev-targets",
                 "current"]) == 2
    assert "--dev-targets needs a run folder" in capsys.readouterr().err


def test_a_run_into_a_mixed_folder_keeps_its_runs_and_says_why_it_cannot_rank(
        field_run, tmp_path, capsys):
    exp = _mixed_copy(field_run, tmp_path)
    assert main(["leaderboard", "run", str(field_run["field"]), "--ruleset", "self",
                 "--ruleset-version", "0.6", "--entry", "fake_adam", "--experiment-dir",
                 str(exp), "--resume", *TINY, "--max-global-steps", "2000"]) == 0
    err = capsys.readouterr().err
    assert "the runs are kept, but cannot be ranked together" in err
