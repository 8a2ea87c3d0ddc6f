"""Helpers for dev-scale ruleset tables.

Dev workloads calibrate their v0.5 numbers with the target-setting procedure
(``paceline targets``); their v0.6 budgets and step hints follow from the same ratios the
benchmark applied to the official workloads in v0.6 (PR #838), read from
:mod:`sdk.rulesets` so the two never drift apart.
"""

from __future__ import annotations

from dataclasses import replace

from sdk.rulesets import WorkloadNumbers, base_workload_name, get_ruleset


def v06_ratio(workload: str) -> tuple[float, float]:
    """(budget ratio, step-hint ratio) of v0.6 over v0.5 for an official (base) workload."""
    base = base_workload_name(workload)
    old, new = get_ruleset("0.5").workloads[base], get_ruleset("0.6").workloads[base]
    return (new.max_allowed_runtime_sec / old.max_allowed_runtime_sec,
            new.step_hint / old.step_hint)


def dev_numbers_by_version(workload: str, v05: WorkloadNumbers) -> dict[str, WorkloadNumbers]:
    """``{"0.5": v05, "0.6": v05 with the official v0.6 budget and step-hint ratios}``."""
    budget_ratio, hint_ratio = v06_ratio(workload)
    v06 = replace(
        v05,
        max_allowed_runtime_sec=round(v05.max_allowed_runtime_sec * budget_ratio, 2),
        step_hint=int(v05.step_hint * hint_ratio),
    )
    return {"0.5": v05, "0.6": v06}
