"""Helpers for dev-scale ruleset tables.

Dev workloads calibrate their v0.5 numbers with the target-setting procedure
(``paceline targets``); their numbers under every later version follow from what the benchmark
changed for the official workloads in that version, read from :mod:`sdk.rulesets` so the two
never drift apart. Targets and eval periods stay the calibrated ones.

- **Same hardware as v0.5** (v0.6, PR #838: 8x V100 both): the dev budget scales by the
  official budget ratio (new / v0.5) and the step hint by the official step-hint ratio.
- **Other hardware** (a100-2026, PR #904: 4x A100): official seconds of two machines do not
  compare (over v0.5, criteo1tb's budget grew by 16% and wmt's fell by 67%, with v0.6's step
  hints), and the dev machine did not change, so the budget scales by the step-hint ratio, the
  rules' hardware-free measure of how much training a budget buys. For a100-2026 this gives
  v0.6's dev budgets and step hints to within rounding. (a100-2026 also set the official eval
  periods to a 25th of the budget for all but finewebedu_lm; the dev eval periods were
  calibrated for the dev budgets, about 6 to 18 evals per budget, so they are kept.)
"""

from __future__ import annotations

from dataclasses import replace

from sdk.rulesets import VERSIONS, WorkloadNumbers, base_workload_name, get_ruleset


def official_ratios(workload: str, version: str) -> tuple[float, float]:
    """(budget ratio, step-hint ratio) of ``version`` over v0.5 for an official workload.

    The budget ratio is the step-hint ratio when ``version``'s budgets are seconds of other
    hardware than v0.5's (see the module docstring).
    """
    base = base_workload_name(workload)
    old_table, new_table = get_ruleset("0.5"), get_ruleset(version)
    old, new = old_table.workloads[base], new_table.workloads[base]
    hint_ratio = new.step_hint / old.step_hint
    if new_table.hardware != old_table.hardware:
        return hint_ratio, hint_ratio
    return new.max_allowed_runtime_sec / old.max_allowed_runtime_sec, hint_ratio


def dev_numbers_by_version(workload: str, v05: WorkloadNumbers) -> dict[str, WorkloadNumbers]:
    """``{version: v05 with that version's official budget and step-hint ratios}``.

    One entry per version of :data:`sdk.rulesets.VERSIONS`; "0.5" is ``v05`` itself.
    """
    out = {"0.5": v05}
    for version in VERSIONS[1:]:
        budget_ratio, hint_ratio = official_ratios(workload, version)
        out[version] = replace(
            v05,
            max_allowed_runtime_sec=round(v05.max_allowed_runtime_sec * budget_ratio, 2),
            step_hint=int(v05.step_hint * hint_ratio),
        )
    return out
