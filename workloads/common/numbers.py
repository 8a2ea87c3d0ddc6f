"""Helpers for dev-scale ruleset tables.

Dev workloads calibrate their v0.5 numbers with the target-setting procedure
(``paceline targets``); their numbers under every later version follow from what the benchmark
changed for the official workloads in that version, read from :mod:`sdk.rulesets` so the two
never drift apart. Targets stay the calibrated ones.

A family's v0.5 dev numbers are data: ``numbers.json`` beside its code, one entry per workload
(base first), which ``paceline targets <name> --scale dev --write`` rewrites
(workloads/calibration_record.py); :func:`load_dev_numbers` reads it::

    from pathlib import Path
    from workloads.common.numbers import dev_numbers, load_dev_numbers
    v05 = load_dev_numbers(Path("workloads/ogbg/numbers.json"))["ogbg_gelu"]
    dev_numbers("ogbg_gelu", v05, "0.6", "pytorch")

- **Step hint**: scales by the official step-hint ratio (new / v0.5).
- **Budget**: buys the same training as the official budget. A step hint is "the steps the
  baseline can take in the budget", and v0.5's dev and official numbers both are that, but
  later rules kept the step hints while code and hardware changed, so the official budget of
  a version buys a measured *step share* of the step hint (the NAdamW baseline's steps in the
  budget over the step hint, from the published logs: ``sdk.rulesets.BASELINE_STEP_SHARES``).
  The dev budget buys the same share of dev reference steps: it scales by the step-hint ratio
  times the share. Official seconds themselves never enter, so budgets of other hardware
  (a100-2026's 4x A100) need no conversion. The share is the framework's: officially a
  PyTorch Conformer takes 3.5 times the steps of a JAX one in the same budget, while the dev
  clock charges both frameworks the same reference step, so each framework's dev budget
  carries its official share.
- **Eval period**: where the version kept the official eval period (v0.6), the dev one keeps
  its calibrated value, shortened where a budget that shrank would otherwise see fewer evals
  than v0.5's calibration gave (at most the target-setting procedure's minimum of 10); where
  the version set the period anew as a share of the budget (a100-2026: a 25th), the dev
  period is the same share of the dev budget.
"""

from __future__ import annotations

import json
import math
from dataclasses import fields, replace
from pathlib import Path

from sdk.rulesets import (
    BASELINE_FRAMEWORK,
    VERSIONS,
    WorkloadNumbers,
    base_workload_name,
    get_ruleset,
)

# The target-setting procedure's floor on evals per budget (workloads/target_setting/procedure.py)
MIN_EVALS_PER_BUDGET = 10


def official_ratios(workload: str, version: str,
                    framework: str = BASELINE_FRAMEWORK) -> tuple[float, float]:
    """(budget ratio, step-hint ratio) of ``version``'s dev numbers over v0.5's."""
    base = base_workload_name(workload)
    old_table, new_table = get_ruleset("0.5"), get_ruleset(version)
    hint_ratio = new_table.workloads[base].step_hint / old_table.workloads[base].step_hint
    share_ratio = (new_table.baseline_step_share(base, framework)
                   / old_table.baseline_step_share(base, framework))
    return hint_ratio * share_ratio, hint_ratio


def dev_eval_period(workload: str, version: str, v05: WorkloadNumbers, budget: float) -> float:
    """The dev eval period of ``version`` for a dev budget (see the module docstring)."""
    base = base_workload_name(workload)
    old = get_ruleset("0.5").workloads[base]
    new = get_ruleset(version).workloads[base]
    if new.eval_period_time_sec == old.eval_period_time_sec:
        # as many evals per budget as v0.5's calibration gave, up to the procedure's minimum
        want = min(MIN_EVALS_PER_BUDGET,
                   v05.max_allowed_runtime_sec / v05.eval_period_time_sec)
        if budget / v05.eval_period_time_sec >= want:
            return v05.eval_period_time_sec
        return math.floor(budget / want * 100) / 100  # rounded down: at least `want` evals
    return round(budget * new.eval_period_time_sec / new.max_allowed_runtime_sec, 2)


def dev_numbers(workload: str, v05: WorkloadNumbers, version: str,
                framework: str = BASELINE_FRAMEWORK) -> WorkloadNumbers:
    """``v05`` with ``version``'s dev budget, step hint and eval period in ``framework``."""
    if version == "0.5":
        return v05
    budget_ratio, hint_ratio = official_ratios(workload, version, framework)
    budget = round(v05.max_allowed_runtime_sec * budget_ratio, 2)
    return replace(
        v05,
        max_allowed_runtime_sec=budget,
        eval_period_time_sec=dev_eval_period(workload, version, v05, budget),
        step_hint=int(v05.step_hint * hint_ratio),
    )


def dev_numbers_by_version(workload: str, v05: WorkloadNumbers,
                           framework: str = BASELINE_FRAMEWORK) -> dict[str, WorkloadNumbers]:
    """``{version: v05 with that version's budget, step hint and eval period}``.

    One entry per version of :data:`sdk.rulesets.VERSIONS`; "0.5" is ``v05`` itself. A
    workload class reads its own framework's numbers with :func:`dev_numbers`.
    """
    return {version: dev_numbers(workload, v05, version, framework) for version in VERSIONS}


def load_dev_numbers(path: Path) -> dict[str, WorkloadNumbers]:
    """``{workload: calibrated numbers}`` from a family's ``numbers.json`` (the v0.5 dev
    numbers; a workload class derives each version's in its own framework with
    :func:`dev_numbers`)."""
    names = [f.name for f in fields(WorkloadNumbers)]
    entries = json.loads(Path(path).read_text())["workloads"]
    return {name: WorkloadNumbers(**{k: entry[k] for k in names})
            for name, entry in entries.items()}
