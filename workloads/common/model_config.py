"""Model overrides on a family's frozen config dataclass, the same step for every family.

Every family keeps its model's knobs in one frozen dataclass with an official and a dev
instance; a workload applies its variant's ``variant_overrides`` and the constructor's
``model_overrides`` on top. :func:`override` is that step::

    from workloads.ogbg.config import DEV
    from workloads.common.model_config import override
    override("ogbg", DEV, {"hidden_dims": [64, 64]}, tuples=("hidden_dims",)).check()
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import Any, TypeVar

from sdk.errors import PacelineError

Config = TypeVar("Config")


def override(label: str, base: Config, overrides: dict[str, Any] | None,
             tuples: tuple[str, ...] = ()) -> Config:
    """``base`` with ``overrides`` applied (not yet checked).

    An unknown knob is one sentence naming the known ones (``label`` names the model in it);
    the fields in ``tuples`` accept any sequence of integers (JSON gives lists).
    """
    overrides = dict(overrides or {})
    known = {f.name for f in fields(base)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise PacelineError(f"Unknown {label} model override(s) {', '.join(unknown)}; "
                            f"known: {', '.join(sorted(known))}.")
    for key in tuples:
        if key in overrides:
            overrides[key] = tuple(int(d) for d in overrides[key])
    return replace(base, **overrides)

