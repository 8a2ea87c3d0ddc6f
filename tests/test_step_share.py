"""The baseline step share: measured from AlgoPerf logs, and the shipped numbers reproduce."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdk.rulesets import BASELINE_STEP_SHARES
from sdk.scoring.step_share import framework_step_shares, median_step_shares, step_shares

HEADER = "accumulated_eval_time,accumulated_submission_time,global_step,score,validation/ssim\n"


def _trial(root: Path, study: int, steps_per_sec: float, budget: float, hint: int) -> None:
    trial = root / "sub" / f"study_{study}" / "fastmri_jax" / "trial_1"
    trial.mkdir(parents=True)
    (trial / "meta_data_0.json").write_text(json.dumps({
        "workload.max_allowed_runtime_sec": budget, "workload.step_hint": hint}))
    rows = [(0.0, 50.0, 1)]  # the first eval: compilation, left out of the rate
    rows += [(0.0, 50.0 + t, 1 + int(t * steps_per_sec)) for t in (100.0, 200.0, 300.0)]
    (trial / "eval_measurements.csv").write_text(
        HEADER + "".join(f"{e},{t},{s},{t},0.5\n" for e, t, s in rows))


def test_share_is_the_step_rate_after_the_first_eval_times_budget_over_hint(tmp_path):
    _trial(tmp_path, 0, steps_per_sec=4.0, budget=1000.0, hint=2000)   # 4000 / 2000 = 2
    _trial(tmp_path, 1, steps_per_sec=1.0, budget=1000.0, hint=2000)   # 0.5
    _trial(tmp_path, 2, steps_per_sec=2.0, budget=1000.0, hint=2000)   # 1
    shares = step_shares([tmp_path / "sub"])
    assert sorted(shares["fastmri"]) == pytest.approx([0.5, 1.0, 2.0])
    assert median_step_shares([tmp_path / "sub"]) == {"fastmri": 1.0}


def test_trials_without_metadata_or_evals_are_left_out(tmp_path):
    _trial(tmp_path, 0, steps_per_sec=4.0, budget=1000.0, hint=2000)
    (tmp_path / "sub" / "study_0" / "fastmri_jax" / "trial_1" / "meta_data_0.json").unlink()
    assert step_shares([tmp_path / "sub"]) == {}


def test_a_framework_the_baseline_did_not_run_in_scales_by_the_fields_step_rates(tmp_path):
    _trial(tmp_path / "base", 0, steps_per_sec=2.0, budget=1000.0, hint=2000)     # jax: 1
    _trial(tmp_path / "field", 0, steps_per_sec=4.0, budget=1000.0, hint=2000)    # jax: 2
    torch_trial = tmp_path / "field" / "sub" / "study_0" / "fastmri_pytorch"
    (tmp_path / "field" / "sub" / "study_0" / "fastmri_jax").rename(torch_trial)
    _trial(tmp_path / "field", 1, steps_per_sec=4.0, budget=1000.0, hint=2000)    # jax: 2
    (tmp_path / "field" / "sub" / "study_0" / "fastmri_jax").mkdir()
    _trial(tmp_path / "field2", 0, steps_per_sec=12.0, budget=1000.0, hint=2000)  # jax: 6
    (tmp_path / "field2" / "sub" / "study_0" / "fastmri_jax").rename(
        tmp_path / "field2" / "sub" / "study_0" / "fastmri_pytorch")              # pytorch: 6
    shares = framework_step_shares([tmp_path / "base" / "sub"],
                                   [tmp_path / "field" / "sub", tmp_path / "field2" / "sub"])
    # pytorch over the field: median(2, 6) = 4 against jax's median 2: twice the baseline's 1
    assert shares == {"fastmri": {"jax": 1.0, "pytorch": 2.0}}


ROUNDS = {
    "0.6": (["algoperf_v06/logs/external_tuning/baseline"],
            ["algoperf_v06/logs/external_tuning", "algoperf_v06/logs/self_tuning"]),
    "a100-2026": (["rolling_a100_scoring_branch/logs/self_tuning/nadamw_baselinev05",
                   "rolling_a100_scoring_branch/logs/self_tuning/nadamw"],
                  ["rolling_a100_scoring_branch/logs/self_tuning"]),
}


@pytest.mark.parametrize("version", sorted(ROUNDS))
def test_the_shipped_shares_are_what_the_published_logs_measure(reference_logs, version):
    baseline, field = ROUNDS[version]
    measured = framework_step_shares([reference_logs / p for p in baseline],
                                     [reference_logs / p for p in field])
    assert measured == BASELINE_STEP_SHARES[version]
