"""Helpers for dev-scale ruleset tables.

Dev workloads calibrate their v0.5 numbers with the target-setting procedure
(``paceline targets``); their numbers under every later version follow from the ratios the
benchmark applied to the official workloads in that version, read from :mod:`sdk.rulesets`
so the two never drift apart: the dev budget scales by the official budget ratio (new / v0.5)
and the step hint by the official step-hint ratio (v0.6: PR #838; a100-2026: PR #904). Targets
and the eval period stay the calibrated ones. (a100-2026 also changed the official eval
periods, to about a 25th of each budget; the dev eval periods were calibrated for the dev
budgets and already give a few tens of evals at most, so they are kept, as v0.6 keeps them.)
"""

from __future__ import annotations

from dataclasses import replace

from sdk.rulesets import VERSIONS, WorkloadNumbers, base_workload_name, get_ruleset


def official_ratios(workload: str, version: str) -> tuple[float, float]:
    """(budget ratio, step-hint ratio) of ``version`` over v0.5 for an official workload."""
    base = base_workload_name(workload)
    old, new = get_ruleset("0.5").workloads[base], get_ruleset(version).workloads[base]
    return (new.max_allowed_runtime_sec / old.max_allowed_runtime_sec,
            new.step_hint / old.step_hint)


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
