"""Registry rows of a workload family, and the one factory that makes their classes.

A family lists its workloads once, as data: ``workloads/<family>/rows.toml`` holds the
family's registry settings and one row per workload, the base workload first, then its
variants. Each row names, per scale and framework, the class that implements it, written out in
full so a search finds it:

    [[rows]]
    name = "ogbg_gelu"
    description = "ogbg with GELU activations"
    dev = { pytorch = "OgbgGeluPyTorchDev", jax = "OgbgGeluJaxDev" }

The family's ``entries.py`` is ``ROWS = family_rows(__file__)``: :func:`family_rows` reads the
rows as :class:`Row` objects (rows built in code, ``Row("ogbg_gelu", "...", {"dev": {...}})``,
work the same) and :func:`register_family` turns them into registry entries. The class of
framework ``fw`` lives in ``workloads/<family>/<fw>.py``. That module writes one framework
class and lets :func:`row_classes` make the rest on first use, as a module ``__getattr__``::

    __getattr__ = row_classes(__name__, ROWS, OgbgJaxWorkload)

The made class sets ``name`` and ``scale`` from its row and takes its model changes from the
family class (``overrides_of``, see :class:`workloads.common.family.FamilyWorkload`); a new
variant is one row (plus its model changes and numbers in the family's tables).
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sdk.registry import WorkloadEntry, workloads


@dataclass(frozen=True)
class Row:
    """One workload of a family: its name, description and class names per scale/framework.

    ``attributes`` are extra class attributes of the made classes (rarely needed: a variant
    that changes more than the model, e.g. its eval batch size).
    """

    name: str
    description: str
    classes: Mapping[str, Mapping[str, str]]
    attributes: Mapping[str, Any] = field(default_factory=dict)


def register_family(family: str, rows: Sequence[Row], prepare: str, scored: bool = True,
                    perturbation_space: str | None = None,
                    official_data_check: str | None = None) -> None:
    """Register every row of ``family``; the first row is the base workload.

    ``official_data_check`` is ``"module:function"``, ``check(data_dir) -> list[str]``: what an
    official data directory lacks for this family (``paceline data check --scale official``).
    """
    for row in rows:
        workloads().register(WorkloadEntry(
            name=row.name,
            classes={scale: {fw: f"workloads.{family}.{fw}:{cls}" for fw, cls in by_fw.items()}
                     for scale, by_fw in row.classes.items()},
            base=None if row.name == family else family,
            scored=scored,
            description=row.description,
            prepare=prepare,
            perturbation_space=perturbation_space,
            official_data_check=official_data_check,
        ))


ROWS_FILE = "rows.toml"
_ROW_KEYS = ("name", "description", "attributes")


def family_rows(entries_file: str) -> tuple[Row, ...]:
    """Register the family whose ``rows.toml`` sits beside ``entries_file``; return its rows.

    The folder's name is the family's; the ``[family]`` table holds :func:`register_family`'s
    settings, each ``[[rows]]`` table one :class:`Row` (its other keys are the scales).
    """
    path = Path(entries_file).with_name(ROWS_FILE)
    with path.open("rb") as f:
        table = tomllib.load(f)
    rows = rows_of(table)
    register_family(path.parent.name, rows, **table["family"])
    return rows


def rows_of(table: Mapping[str, Any]) -> tuple[Row, ...]:
    """The :class:`Row` of each ``[[rows]]`` table of a parsed ``rows.toml``, in order."""
    return tuple(Row(row["name"], row["description"],
                     {key: value for key, value in row.items() if key not in _ROW_KEYS},
                     row.get("attributes", {}))
                 for row in table["rows"])


def make_class(base: type, class_name: str, row: Row, scale: str, module: str) -> type:
    """The class of ``row`` at ``scale``: ``base`` with the row's name, scale and overrides."""
    namespace = {"__module__": module, "__qualname__": class_name,
                 "__doc__": f"{row.name} at {scale} scale: {row.description}.",
                 "name": row.name, "scale": scale, **row.attributes}
    cls = type(class_name, (base,), namespace)
    cls.variant_overrides = cls.overrides_of(row.name)
    return cls


def row_classes(module: str, rows: Sequence[Row], base: type) -> Callable[[str], type]:
    """A module ``__getattr__`` that makes (once) the class a row names for this framework."""
    framework = module.rpartition(".")[2]

    def find(attr: str) -> type:
        for row in rows:
            for scale, by_fw in row.classes.items():
                if by_fw.get(framework) == attr:
                    cls = make_class(base, attr, row, scale, module)
                    setattr(sys.modules[module], attr, cls)
                    return cls
        raise AttributeError(f"module {module!r} has no attribute {attr!r}")

    return find
