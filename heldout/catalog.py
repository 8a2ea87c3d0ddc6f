"""The official held-out variants (AlgoPerf's algoperf/workloads/workloads.py) and where each one is available.

The list of 24 and their official targets come from :mod:`sdk.rulesets`; what exists at each
scale and framework comes from the workload registry, so a variant appears here as soon as
its family registers it (``workloads/<family>/entries.py``). A variant is an ordinary
workload to the runner: its own name, targets and budget.

    paceline heldout catalog --scale dev
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sdk.errors import PacelineError
from sdk.registry import workloads
from sdk.rulesets import HELD_OUT_CANDIDATES, VARIANT_TARGETS, base_workload_name

RANDOM_MARK = "~"  # random variants are named <base>~<hash>


@dataclass(frozen=True)
class CatalogEntry:
    """One official variant: its base, dataset group, official targets and availability."""

    name: str
    base: str
    dataset: str
    candidate: bool  # in the v0.5 draw's candidate list (conformer_gelu is not)
    validation_target: float
    test_target: float
    description: str
    frameworks: dict[str, tuple[str, ...]]  # scale -> frameworks registered

    def available(self, scale: str, framework: str | None = None) -> bool:
        have = self.frameworks.get(scale, ())
        return bool(have) if framework is None else framework in have


def dataset_of(workload: str) -> str:
    """The dataset group a base workload or variant is drawn in (its base name if none).

    >>> dataset_of("imagenet_vit_map"), dataset_of("librispeech_deepspeech")
    ('imagenet', 'librispeech')
    """
    base = base_workload_name(workload)
    for dataset, names in HELD_OUT_CANDIDATES.items():
        if any(base_workload_name(n) == base for n in names):
            return dataset
    return base


def official_catalog() -> list[CatalogEntry]:
    """All 24 official variants, with what the registry offers for each."""
    registry = workloads()
    candidates = {n for names in HELD_OUT_CANDIDATES.values() for n in names}
    out = []
    for name, (val, test) in VARIANT_TARGETS.items():
        frameworks: dict[str, tuple[str, ...]] = {}
        description = ""
        if name in registry:
            entry = registry.entry(name)
            frameworks = {s: tuple(entry.frameworks(s)) for s in entry.classes}
            description = entry.description
        out.append(CatalogEntry(name, base_workload_name(name), dataset_of(name),
                                name in candidates, val, test, description, frameworks))
    return out


def is_random_variant(name: str) -> bool:
    return RANDOM_MARK in name


def official_variants_of(base: str, scale: str, framework: str | None = None) -> list[str]:
    """The registered official variants of ``base`` at ``scale`` (in the draw's order)."""
    registry = workloads()
    order = [n for names in HELD_OUT_CANDIDATES.values() for n in names]
    found = []
    for name in registry.names(scale=scale, variants=True):
        entry = registry.entry(name)
        if entry.base != base or not entry.official_variant or is_random_variant(name):
            continue
        if framework is not None and framework not in entry.frameworks(scale):
            continue
        found.append(name)
    return sorted(found, key=lambda n: (order.index(n) if n in order else len(order), n))


def base_workloads(names: Iterable[str] | None, scale: str, framework: str) -> list[str]:
    """Base workloads to simulate: ``names`` checked, or every scored base at ``scale``.

    ``suite`` expands to the scored base workloads registered at ``scale``.
    """
    registry = workloads()
    out: list[str] = []
    for name in names or ["suite"]:
        if name == "suite":
            found = [n for n in registry.names(scale=scale, scored=True, variants=False)
                     if framework in registry.entry(n).frameworks(scale)]
            if not found:
                raise PacelineError(f"No scored base workloads are registered at {scale} scale "
                                    f"in {framework} yet.")
            out.extend(found)
            continue
        entry = registry.entry(name)
        if entry.base is not None:
            raise PacelineError(f"{name} is a variant of {entry.base}; name base workloads "
                                "(their variants are the held-out candidates).")
        if framework not in entry.frameworks(scale):
            have = ", ".join(f"{s}/{f}" for s in entry.classes for f in entry.frameworks(s))
            raise PacelineError(f"Workload {name!r} has no {scale}-scale {framework} "
                                f"implementation (available: {have or 'none'}).")
        out.append(name)
    return list(dict.fromkeys(out))


def group_by_dataset(variants: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Variants grouped into the draw's datasets, in the official dataset order."""
    order = list(HELD_OUT_CANDIDATES)
    groups: dict[str, list[str]] = {}
    for v in variants:
        groups.setdefault(dataset_of(v), []).append(v)
    keys = sorted(groups, key=lambda d: (order.index(d) if d in order else len(order), d))
    return {d: tuple(groups[d]) for d in keys}
