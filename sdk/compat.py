"""Make ``import algoperf.*`` (v0.6) and ``import algorithmic_efficiency.*`` (v0.5) resolve to
paceline's own modules inside a paceline run.

A meta-path finder placed first on ``sys.meta_path`` answers for both package names, whether
or not the real packages are installed, so an AlgoPerf submission runs unmodified and shares
enums and types (``spec.LossType``, ``spec.ParameterType``, ...) with paceline's workloads.
The finder also records which of the two names a submission imported, which tells the runner
which API generation the submission was written for.

    with compat.aliases() as record:
        module = importlib.import_module("my_submission")
    record.api_version  # "0.5" if it imported algorithmic_efficiency, else "0.6"
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass, field

ROOTS = {"algoperf": "0.6", "algorithmic_efficiency": "0.5"}

# submodule of algoperf / algorithmic_efficiency -> paceline module that provides it
ALIASES = {
    "spec": "sdk.spec",
    "random_utils": "sdk.rng",
    "halton": "sdk.compat_halton",
    "pytorch_utils": "sdk.frameworks.pytorch_utils",
    "jax_sharding_utils": "sdk.frameworks.jax_sharding_utils",
    "param_utils": "sdk.frameworks.param_utils",
    "jax_utils": "sdk.frameworks.jax_utils",
    "init_utils": "sdk.frameworks.init_utils",
    "data_utils": "sdk.frameworks.data_utils",
    "workloads.workloads": "sdk.compat_workloads",
}
PACKAGES = {"", "workloads"}  # synthetic packages under each root


@dataclass
class ImportRecord:
    """Which compatibility roots were imported while the aliases were active."""

    roots: set[str] = field(default_factory=set)

    @property
    def api_version(self) -> str:
        """"0.5" for a submission that imported ``algorithmic_efficiency``, else "0.6"."""
        if "algorithmic_efficiency" in self.roots and "algoperf" not in self.roots:
            return "0.5"
        return "0.6"


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str | None) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        if self.target is None:
            module = types.ModuleType(spec.name)
            module.__path__ = []
            return module
        module = importlib.import_module(self.target)
        self._saved = (module.__spec__, getattr(module, "__loader__", None))
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        # The import system overwrote __spec__/__loader__ of the real module; put them back.
        if self.target is not None:
            module.__spec__, module.__loader__ = self._saved


class _AliasFinder(importlib.abc.MetaPathFinder):
    def __init__(self, record: ImportRecord) -> None:
        self.record = record

    def find_spec(self, fullname, path=None, target=None):  # noqa: ANN001 - importlib API
        root, _, tail = fullname.partition(".")
        if root not in ROOTS:
            return None
        self.record.roots.add(root)
        if tail in PACKAGES:
            return importlib.machinery.ModuleSpec(fullname, _AliasLoader(None), is_package=True)
        if tail in ALIASES:
            return importlib.machinery.ModuleSpec(fullname, _AliasLoader(ALIASES[tail]))
        provided = ", ".join(f"{root}.{name}" for name in sorted(ALIASES))
        raise ModuleNotFoundError(
            f"paceline runs submissions against its own AlgoPerf-compatible modules and has no "
            f"{fullname!r}; available: {provided}.",
            name=fullname,
        )


def _purge() -> None:
    for name in list(sys.modules):
        if name.partition(".")[0] in ROOTS:
            del sys.modules[name]


@contextlib.contextmanager
def aliases(keep: bool = False) -> Iterator[ImportRecord]:
    """Activate the aliases; with ``keep=True`` they stay active after the block.

    A run keeps them active because submissions may import lazily inside their functions.
    """
    record = ImportRecord()
    finder = _AliasFinder(record)
    _purge()
    sys.meta_path.insert(0, finder)
    try:
        yield record
    finally:
        if not keep:
            sys.meta_path.remove(finder)
            _purge()
