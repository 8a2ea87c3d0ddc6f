"""The ruleset tables: the versions paceline knows, ``latest``, and the a100-2026 numbers.

The a100-2026 numbers are checked against every ``meta_data_0.json`` of the 2026 self-tuning
round in ``../shared/algoperf_reference_logs`` (skipped when absent).

    .venv/bin/python -m pytest tests/test_rulesets.py -q
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from sdk.cli.main import _build_parser, _command_table, _load, main
from sdk.registry import workloads
from sdk.rulesets import (
    BASE_WORKLOADS,
    LATEST,
    VERSION_CHOICES,
    VERSIONS,
    get_ruleset,
    resolve_version,
)
from sdk.run_context import resolve_workloads

A100_LOGS = "rolling_a100_scoring_branch/logs/self_tuning"


def test_latest_is_the_newest_version():
    assert VERSIONS[-1] == "a100-2026"
    assert resolve_version(LATEST) == VERSIONS[-1]
    assert get_ruleset(LATEST) is get_ruleset(VERSIONS[-1])
    for version in VERSIONS:
        assert resolve_version(version) == version
        assert get_ruleset(version).version == version


def test_an_unknown_version_names_the_choices():
    with pytest.raises(ValueError, match="0.5, 0.6, a100-2026, latest"):
        get_ruleset("0.7")


def test_the_a100_2026_protocol():
    table = get_ruleset("a100-2026")
    assert table.base_workloads == ("criteo1tb", "fastmri", "imagenet_resnet", "imagenet_vit",
                                    "librispeech_conformer", "librispeech_deepspeech",
                                    "finewebedu_lm", "ogbg", "wmt")
    assert (table.num_studies, table.self_tuning_budget_multiplier) == (3, 1.5)
    assert not table.uses_held_out_workloads and table.held_out_seed is None
    lm = table.workloads["finewebedu_lm"]
    assert (lm.target_metric_name, lm.validation_target_value, lm.test_target_value,
            lm.metric_minimized) == ("ppl", 22.2995, None, True)
    assert table.budget_sec("finewebedu_lm", "self") == 31967 * 1.5
    # variants keep their targets and take the base workload's new budget and step hint
    assert table.workloads["wmt_glu_tanh"].step_hint == 120000
    assert table.workloads["wmt_glu_tanh"].max_allowed_runtime_sec == 16114


def test_versions_0_5_and_0_6_are_unchanged():
    for version in ("0.5", "0.6"):
        table = get_ruleset(version)
        assert table.base_workloads == BASE_WORKLOADS
        assert "finewebedu_lm" not in table.workloads
    assert get_ruleset("0.5").workloads["fastmri"].max_allowed_runtime_sec == 8859
    assert get_ruleset("0.6").workloads["fastmri"].max_allowed_runtime_sec == 4430
    assert get_ruleset("0.6").workloads["criteo1tb"].eval_period_time_sec == 120


def test_a100_2026_numbers_are_those_the_official_runs_recorded(reference_logs):
    """Budget, step hint, eval period and targets of every meta_data_0.json of the round."""
    table = get_ruleset("a100-2026")
    files = sorted((reference_logs / A100_LOGS).glob("*/study_*/*/trial_1/meta_data_0.json"))
    assert len(files) > 400
    seen = set()
    for path in files:
        meta = json.loads(path.read_text())
        name = path.parent.parent.name.rsplit("_", 1)[0]
        ours = table.workloads[name]
        assert (ours.max_allowed_runtime_sec, ours.step_hint, ours.eval_period_time_sec,
                ours.target_metric_name, ours.validation_target_value,
                ours.test_target_value) == (
            meta["workload.max_allowed_runtime_sec"], meta["workload.step_hint"],
            meta["workload.eval_period_time_sec"], meta["workload.target_metric_name"],
            meta["workload.validation_target_value"],
            pytest.approx(meta.get("workload.test_target_value"), abs=1e-12)
            if meta.get("workload.test_target_value") is not None else None), path
        seen.add(name)
    assert seen == set(table.base_workloads)


def test_dev_budgets_buy_the_share_of_the_step_hint_the_official_budget_buys():
    """Step hint: the official ratio; budget: that ratio x the measured baseline step share
    of the workload's framework."""
    registry = workloads()
    old = get_ruleset("0.5")
    for name in registry.names(scale="dev", scored=True):
        if not registry.entry(name).official_variant:
            continue  # a random variant another test registered in this process
        for framework in registry.entry(name).frameworks("dev"):
            _check_dev_budgets(registry.workload_class(name, "dev", framework), old,
                               registry.entry(name).base or name)


def _check_dev_budgets(cls, old, base) -> None:  # noqa: ANN001
    name, v05 = cls.name, cls.numbers_for("0.5")
    for version in VERSIONS[1:]:
        table = get_ruleset(version)
        if base not in old.workloads or base not in table.workloads:
            continue  # finewebedu_lm: only in a100-2026, with no v0.5 numbers to scale
        where = (name, cls.framework, version)
        new, official = cls.numbers_for(version), table.workloads[base]
        hint_ratio = official.step_hint / old.workloads[base].step_hint
        share = table.baseline_step_share(base, cls.framework)
        assert new.max_allowed_runtime_sec == round(
            v05.max_allowed_runtime_sec * hint_ratio * share, 2), where
        assert new.step_hint == int(v05.step_hint * hint_ratio)
        assert new.validation_target_value == v05.validation_target_value
        # dev reference steps in the budget / dev step hint == the official share
        steps = new.max_allowed_runtime_sec / (v05.max_allowed_runtime_sec / v05.step_hint)
        assert steps / new.step_hint == pytest.approx(share, rel=2e-3), where
        evals = new.max_allowed_runtime_sec / new.eval_period_time_sec
        if official.eval_period_time_sec == old.workloads[base].eval_period_time_sec:
            assert new.eval_period_time_sec <= v05.eval_period_time_sec
            v05_evals = v05.max_allowed_runtime_sec / v05.eval_period_time_sec
            assert evals >= min(10, v05_evals) - 1e-6, where
        else:  # a100-2026 set every eval period anew as a share of its budget
            official_evals = official.max_allowed_runtime_sec / official.eval_period_time_sec
            assert evals == pytest.approx(official_evals, rel=2e-2), where


def test_step_shares_of_the_v05_rules_are_one_and_later_ones_are_measured():
    assert get_ruleset("0.5").baseline_step_share("fastmri") == 1.0
    assert get_ruleset("0.6").baseline_step_share("fastmri_tanh") == pytest.approx(2.765)
    assert get_ruleset("0.6").baseline_step_share("imagenet_vit", "pytorch") == 1.0  # trimmed
    a100 = get_ruleset("a100-2026")
    assert a100.baseline_step_share("librispeech_conformer") < 0.3  # the JAX baseline
    # on the A100s a PyTorch Conformer step costs a third of a JAX one, a ResNet-50 twice
    assert a100.baseline_step_share("librispeech_conformer", "pytorch") > 0.7
    assert a100.baseline_step_share("imagenet_resnet", "pytorch") < 0.5
    assert a100.baseline_step_share("wmt", "an unlisted framework") == pytest.approx(1.076)


def test_the_dev_suite_of_the_latest_rules_says_finewebedu_lm_is_missing(capsys):
    if "finewebedu_lm" in workloads().names(scale="dev"):
        pytest.skip("finewebedu_lm has a dev workload now")
    names = resolve_workloads(["suite"], "dev", get_ruleset(LATEST).base_workloads)
    assert names == list(BASE_WORKLOADS)
    err = capsys.readouterr().err
    assert err == ("paceline: finewebedu_lm has no dev workload yet; the suite runs the "
                   "other 8.\n")
    assert resolve_workloads(["suite"], "dev", get_ruleset("0.6").base_workloads) == names
    assert capsys.readouterr().err == ""


def _version_flags(parser: argparse.ArgumentParser, path: str = "paceline"):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _version_flags(sub, f"{path} {name}")
        elif {"--ruleset-version", "--official-version"} & set(action.option_strings):
            yield path, action


def test_every_version_flag_takes_latest():
    commands = {name: _load(ref) for name, ref in _command_table().items()}
    flags = list(_version_flags(_build_parser(commands, {})))
    assert {path for path, _ in flags} >= {"paceline run", "paceline score", "paceline check"}
    for path, action in flags:
        assert tuple(action.choices) == VERSION_CHOICES, path
        assert action.type(LATEST) == VERSIONS[-1], path


def test_an_unknown_version_flag_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["score", str(tmp_path), "--ruleset-version", "0.7"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "invalid choice: '0.7'" in err[0]
    assert "latest" in err[0]


def test_latest_scores_under_the_newest_rules(tmp_path, capsys):
    trial = tmp_path / "algo" / "ogbg_jax" / "trial_1"
    trial.mkdir(parents=True)
    (trial / "eval_measurements.csv").write_text(
        "global_step,score,validation/mean_average_precision\n10,100.0,0.3\n")
    out = tmp_path / "s.json"
    assert main(["score", str(tmp_path / "algo"), "--ruleset-version", "latest",
                 "--json", str(out)]) == 0
    capsys.readouterr()
    data = json.loads(Path(out).read_text())
    assert data["ruleset_version"] == VERSIONS[-1]
    assert len(data["base_workloads"]) == 9


def test_the_scoring_docs_list_the_a100_2026_numbers_of_the_tables():
    text = (Path(__file__).resolve().parent.parent / "docs" / "scoring.md").read_text()
    table = get_ruleset("a100-2026")
    for name in table.base_workloads:
        n = table.workloads[name]
        row = (f"| {name} | {n.max_allowed_runtime_sec} | {n.step_hint} | "
               f"{n.eval_period_time_sec} | {n.target_metric_name} ")
        assert row in text, name
