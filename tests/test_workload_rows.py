"""Every shipped workload is a registry row whose classes the one factory makes.

    .venv/bin/python -m pytest tests/test_workload_rows.py -q
"""

from __future__ import annotations

import importlib
import pickle
from pathlib import Path

import pytest

from sdk.registry import workloads
from workloads.catalog import FAMILIES

ROOT = Path(__file__).resolve().parents[1]
CLASSES = [(name, scale, fw) for name in workloads().names()
           for scale, by_fw in workloads().entry(name).classes.items() for fw in by_fw
           if workloads().entry(name).classes[scale][fw].startswith("workloads.")]


def _family(name: str) -> str:
    return workloads().entry(name).base or name


@pytest.mark.parametrize("name, scale, framework", CLASSES)
def test_a_row_class_carries_its_row(name: str, scale: str, framework: str) -> None:
    cls = workloads().workload_class(name, scale, framework)
    assert (cls.name, cls.scale, cls.framework) == (name, scale, framework)
    module = importlib.import_module(cls.__module__)
    assert module.__name__ == f"workloads.{_family(name)}.{framework}"
    assert getattr(module, cls.__name__) is cls  # made once, then a module attribute
    assert pickle.loads(pickle.dumps(cls)) is cls
    folder = ROOT / "workloads" / _family(name)
    rows = folder / "rows.toml"  # the rows as data; a family may still write them in entries.py
    text = (rows if rows.is_file() else folder / "entries.py").read_text()
    assert f'"{cls.__name__}"' in text, "class names are written out, so a search finds them"


def test_an_unknown_class_name_is_an_attribute_error() -> None:
    module = importlib.import_module("workloads.ogbg.jax")
    with pytest.raises(AttributeError):
        module.OgbgNoSuchVariantJaxDev  # noqa: B018


@pytest.mark.parametrize("family", [f for f in FAMILIES if f != "mnist"])
def test_each_family_entry_names_its_perturbation_space(family: str) -> None:
    ref = workloads().entry(family).perturbation_space
    module_name, _, attr = ref.partition(":")
    space = getattr(importlib.import_module(module_name), attr)
    assert isinstance(space, dict) and space
