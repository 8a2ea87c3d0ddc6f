"""``algoperf.workloads.workloads`` for submissions: the base workload names and lookup."""

from __future__ import annotations

from sdk.rulesets import BASE_WORKLOADS as _BASE
from sdk.rulesets import base_workload_name

BASE_WORKLOADS = list(_BASE)


def get_base_workload_name(workload_name: str) -> str:
    """The base workload whose name ``workload_name`` contains (else the name itself)."""
    return base_workload_name(workload_name)
