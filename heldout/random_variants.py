"""Random variants as ordinary registered workloads.

:func:`register` adds a :class:`~heldout.perturb.RandomVariant` to the workload registry under
its own name, with the base workload's scales, frameworks and data preparation. Its class is
the base workload's class with the variant's model changes as ``variant_overrides`` and its
own numbers; the registry names it ``"heldout.random_variants:<name>@<scale>@<framework>"``
and this module builds it on first use (module ``__getattr__``), so the runner, the scorer
and ``paceline targets`` treat it like any other workload.

A variant whose targets are not set yet reports its base workload's numbers (target-setting
runs ignore targets); :mod:`heldout.simulate` never trains a submission on it before its
targets are set.

    >>> from heldout.perturb import RandomVariant
    >>> v = RandomVariant("ogbg~abc123", "ogbg", {"activation": "tanh"}, 0, 0)
    >>> register(v)  # doctest: +SKIP
    >>> workloads().create("ogbg~abc123", "dev", "pytorch")  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from heldout.perturb import RandomVariant, config_overrides
from sdk.errors import PacelineError
from sdk.registry import WorkloadEntry, workloads
from sdk.rulesets import WorkloadNumbers

_VARIANTS: dict[str, RandomVariant] = {}
_CLASSES: dict[str, type] = {}


def register(variant: RandomVariant) -> WorkloadEntry:
    """Register ``variant`` (again: its numbers may have changed) as a workload."""
    registry = workloads()
    base = registry.entry(variant.base)
    _VARIANTS[variant.name] = variant
    for key in [k for k in _CLASSES if k.startswith(f"{variant.name}@")]:
        del _CLASSES[key]
    classes = {scale: {fw: f"{__name__}:{variant.name}@{scale}@{fw}" for fw in by_fw}
               for scale, by_fw in base.classes.items()}
    return registry.register(WorkloadEntry(
        name=variant.name, classes=classes, base=variant.base, scored=base.scored,
        description=f"random variant of {variant.base}: {variant.describe()}",
        prepare=base.prepare, official_variant=False,
    ))


def registered(name: str) -> RandomVariant | None:
    return _VARIANTS.get(name)


def _numbers_for(variant: RandomVariant, base_cls: type) -> Any:
    def numbers_for(cls: type, version: str) -> WorkloadNumbers:
        if version in variant.numbers:
            return variant.numbers[version]
        return base_cls.numbers_for(version)
    return classmethod(numbers_for)


def variant_class(name: str, scale: str, framework: str) -> type:
    """The workload class of a registered random variant at ``scale`` in ``framework``."""
    key = f"{name}@{scale}@{framework}"
    if key not in _CLASSES:
        variant = _VARIANTS.get(name)
        if variant is None:
            raise PacelineError(f"Random variant {name!r} is not registered in this process; "
                                "random variants exist inside `paceline heldout` runs.")
        base_cls = workloads().workload_class(variant.base, scale, framework)
        overrides = {**getattr(base_cls, "variant_overrides", {}),
                     **config_overrides(variant.overrides)}
        _CLASSES[key] = type(
            f"{base_cls.__name__}RandomVariant", (base_cls,),
            {"name": name, "variant_overrides": overrides,
             "numbers_for": _numbers_for(variant, base_cls), "__module__": __name__,
             "random_variant": variant},
        )
    return _CLASSES[key]


def __getattr__(attr: str) -> type:
    """``heldout.random_variants:<name>@<scale>@<framework>`` resolves to the class."""
    parts = attr.split("@")
    if len(parts) != 3:
        raise AttributeError(attr)
    return variant_class(*parts)
