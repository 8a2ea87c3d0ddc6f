"""Every baseline paceline ships, registered by name (the ``paceline.baselines`` entry point).

Each package under ``baselines/`` declares itself as ``BASELINE`` (a
:class:`baselines.common.Baseline`, or a plain :class:`sdk.registry.BaselineEntry` for a
submission written out by hand); this module registers every one it finds, so a new baseline
needs no line here.

    paceline run --workload mnist --submission nadamw
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from sdk.registry import BaselineEntry, baselines

_HERE = Path(__file__).resolve().parent
# Shipped reference timings of these baselines (`paceline reference build`, sdk/references.py).
REFERENCE_TIMINGS_DIR = _HERE / "reference_timings"


def declared(package: str = "baselines", folder: Path = _HERE) -> list[BaselineEntry]:
    """The ``BASELINE`` of every package in ``folder``, in name order."""
    found = []
    for info in sorted(pkgutil.iter_modules([str(folder)]), key=lambda m: m.name):
        if info.ispkg:
            entry = getattr(importlib.import_module(f"{package}.{info.name}"), "BASELINE", None)
            if isinstance(entry, BaselineEntry):
                found.append(entry)
    return found


for _entry in declared():
    baselines().register(_entry)
