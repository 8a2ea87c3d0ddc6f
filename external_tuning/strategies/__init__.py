"""The built-in search strategies of ``paceline tune --search NAME``, one module each.

    paceline tune --workload mnist --submission nadamw --search quasi-random --dry-run

Importing this package imports every module in it, and each module registers its strategy in
:func:`sdk.registry.search_strategies` when imported. The package is the one
``paceline.search_strategies`` entry point paceline itself declares, so a new built-in
strategy is a new module here and nothing else; a package outside paceline names its own
module in that entry-point group (docs/extending.md, "Adding a search strategy").
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable


def import_modules(package: str, path: Iterable[str]) -> list[str]:
    """Import every module of ``package`` (found on ``path``, its ``__path__``), in name order;
    the names imported."""
    names = sorted(f"{package}.{info.name}" for info in pkgutil.iter_modules(list(path)))
    for name in names:
        importlib.import_module(name)
    return names


MODULES = import_modules(__name__, __path__)
