"""Step cost at dev against officially: each entry's step rate relative to its field.

    .venv/bin/python -m pytest -q tests/test_step_cost.py
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sdk.scoring.step_cost import entry_means, format_step_ratios, step_rates, step_ratios, within

HEADER = "accumulated_eval_time,accumulated_submission_time,global_step,score,validation/ssim\n"


def _trial(root: Path, entry: str, steps_per_sec: float, workload: str = "fastmri_pytorch",
           study: int = 0, evals: int = 4) -> None:
    trial = root / entry / f"study_{study}" / workload / "trial_1"
    trial.mkdir(parents=True)
    rows = [(50.0, 1)]  # the first eval holds compilation: left out of the rate
    rows += [(50.0 + t, 1 + int(t * steps_per_sec)) for t in (100.0, 200.0, 300.0)[:evals - 1]]
    (trial / "eval_measurements.csv").write_text(
        HEADER + "".join(f"0.0,{t},{s},{t},0.5\n" for t, s in rows))


def test_rates_are_medians_over_studies_after_the_first_eval(tmp_path):
    for study, rate in enumerate((2.0, 4.0, 3.0)):
        _trial(tmp_path, "a", rate, study=study)
    _trial(tmp_path, "b", 5.0, evals=2)  # too few evals: no rate
    rates = step_rates([tmp_path])
    assert rates == {("a", "fastmri", "pytorch"): pytest.approx(3.0)}


def test_ratio_is_relative_rate_at_dev_over_relative_rate_officially(tmp_path):
    dev, off = tmp_path / "dev", tmp_path / "off"
    for entry, d, o in (("slow_at_dev", 1.0, 2.0), ("fair", 2.0, 2.0), ("fast", 4.0, 4.0)):
        _trial(dev, entry, d)
        _trial(off, entry, o)
    _trial(dev, "alone", 3.0, workload="ogbg_jax")  # no field of two in jax/ogbg
    _trial(off, "alone", 3.0, workload="ogbg_jax")
    ratios = {r.entry: r for r in step_ratios(step_rates([dev]), step_rates([off]))}
    assert set(ratios) == {"slow_at_dev", "fair", "fast"}
    assert ratios["slow_at_dev"].ratio == pytest.approx(0.5)
    assert ratios["fair"].ratio == pytest.approx(1.0) and ratios["fast"].ratio == pytest.approx(1.0)
    assert ratios["fair"].field == 3
    assert within(list(ratios.values()), 0.10) == 2
    assert entry_means(list(ratios.values()))["slow_at_dev"] == pytest.approx(0.5)
    text = format_step_ratios(list(ratios.values()))
    assert "slow_at_dev" in text and "0.50" in text and "within ±10%: 2/3" in text


def test_entries_limit_the_field_and_nothing_measured_is_one_sentence():
    dev = {("a", "w", "jax"): 1.0, ("b", "w", "jax"): 2.0, ("c", "w", "jax"): 9.0}
    off = {("a", "w", "jax"): 1.0, ("b", "w", "jax"): 2.0, ("c", "w", "jax"): 1.0}
    ratios = step_ratios(dev, off, entries=["a", "b"])
    assert [r.ratio for r in ratios] == pytest.approx([1.0, 1.0])
    assert step_ratios(dev, off, entries=["a"]) == []
    assert format_step_ratios([]).startswith("Step cost: no workload")


def test_the_module_examples_hold():
    import doctest

    import sdk.scoring.fidelity
    import sdk.scoring.step_cost

    for module in (sdk.scoring.step_cost, sdk.scoring.fidelity):
        assert doctest.testmod(module).failed == 0
