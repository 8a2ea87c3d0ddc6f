"""One registry each for workloads, baselines and search strategies, filled by plugins.

Concrete packages register entries when imported; sdk finds those packages through the
``paceline.workloads``, ``paceline.baselines`` and ``paceline.search_strategies`` entry-point
groups, so sdk never imports a concrete workload, baseline or search by name. Classes and
submission modules are named by ``"module:attribute"`` strings and imported only when used.

    >>> from sdk.registry import workloads
    >>> workloads().names(scale="dev")  # doctest: +SKIP
    ['mnist', ...]
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from sdk.errors import PacelineError, UnknownWorkloadError


def _import_ref(ref: str) -> Any:
    module_name, _, attr = ref.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attr) if attr else module


@dataclass(frozen=True)
class WorkloadEntry:
    """A registered workload: its name and, per scale and framework, its class.

    ``classes[scale][framework]`` is a ``"module:Class"`` string. ``base`` is the base workload
    a held-out variant belongs to (``None`` for base and development workloads). ``scored`` is
    true for the eight workloads of the benchmark suite.
    """

    name: str
    classes: dict[str, dict[str, str]]
    base: str | None = None
    scored: bool = True
    description: str = ""
    # "module:function" that prepares the dev data: prepare(data_dir=None, force=False) -> Path
    prepare: str | None = None
    # official AlgoPerf variant (held-out candidate) rather than a paceline random variant
    official_variant: bool = True
    # "module:NAME" of the family's perturbation space for random held-out variants
    perturbation_space: str | None = None
    # "module:function" that checks official data: check(data_dir: Path) -> list[str], one
    # sentence per thing missing or unusable (empty: the directory is usable)
    official_data_check: str | None = None

    def frameworks(self, scale: str) -> list[str]:
        return sorted(self.classes.get(scale, {}))


@dataclass(frozen=True)
class BaselineEntry:
    """A registered baseline: per ruleset and framework, the module of its submission.

    ``modules[ruleset][framework]`` is an importable module name. ``search_space`` is the
    path of its external-tuning search space JSON (or ``None``).
    """

    name: str
    modules: dict[str, dict[str, str]]
    search_space: Path | None = None
    description: str = ""


@dataclass(frozen=True)
class SearchStrategyEntry:
    """A registered search strategy for ``paceline tune --search NAME``.

    ``strategy`` is the ``"module:Class"`` string of its class (a subclass of
    :class:`external_tuning.strategy.SearchStrategy`).
    """

    name: str
    strategy: str
    description: str = ""


@dataclass
class _Registry:
    group: str
    kind: str
    entries: dict[str, Any] = field(default_factory=dict)
    _loaded: bool = False

    def register(self, entry: Any) -> Any:
        self.entries[entry.name] = entry
        return entry

    def _load_plugins(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        for ep in metadata.entry_points(group=self.group):
            ep.load()

    def get(self, name: str) -> Any:
        self._load_plugins()
        if name not in self.entries:
            close = difflib.get_close_matches(name, list(self.entries), n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            known = ", ".join(sorted(self.entries)) or "none"
            error = UnknownWorkloadError if self.kind == "workload" else PacelineError
            kinds = self.kind[:-1] + "ies" if self.kind.endswith("y") else self.kind + "s"
            raise error(f"Unknown {self.kind} {name!r}.{hint} Known {kinds}: {known}.")
        return self.entries[name]

    def all(self) -> list[Any]:
        self._load_plugins()
        return [self.entries[k] for k in sorted(self.entries)]

    def __contains__(self, name: str) -> bool:
        self._load_plugins()
        return name in self.entries


_WORKLOADS = _Registry("paceline.workloads", "workload")
_BASELINES = _Registry("paceline.baselines", "baseline")
_SEARCH_STRATEGIES = _Registry("paceline.search_strategies", "search strategy")


class WorkloadRegistry:
    """Lookup of workloads by name, scale and framework."""

    def register(self, entry: WorkloadEntry) -> WorkloadEntry:
        return _WORKLOADS.register(entry)

    def entry(self, name: str) -> WorkloadEntry:
        return _WORKLOADS.get(name)

    def __contains__(self, name: str) -> bool:
        return name in _WORKLOADS

    def names(self, scale: str | None = None, scored: bool | None = None,
              variants: bool | None = None) -> list[str]:
        out = []
        for e in _WORKLOADS.all():
            if scale is not None and scale not in e.classes:
                continue
            if scored is not None and e.scored != scored:
                continue
            if variants is not None and (e.base is not None) != variants:
                continue
            out.append(e.name)
        return out

    def prepare_fn(self, name: str) -> Any:
        """The data-preparation function of a workload (or ``None``)."""
        ref = self.entry(name).prepare
        return _import_ref(ref) if ref else None

    def workload_class(self, name: str, scale: str, framework: str) -> type:
        entry = self.entry(name)
        if scale not in entry.classes:
            have = ", ".join(sorted(entry.classes)) or "none"
            raise UnknownWorkloadError(
                f"Workload {name!r} has no {scale!r} scale yet (available: {have})."
            )
        by_fw = entry.classes[scale]
        if framework not in by_fw:
            have = ", ".join(sorted(by_fw))
            raise UnknownWorkloadError(
                f"Workload {name!r} at scale {scale!r} has no {framework} implementation "
                f"(available: {have})."
            )
        return _import_ref(by_fw[framework])

    def create(self, name: str, scale: str, framework: str, **kwargs: Any) -> Any:
        """Instantiate the workload class for ``name`` at ``scale`` in ``framework``."""
        return self.workload_class(name, scale, framework)(**kwargs)

    def dev_numbers(self, name: str, version: str, framework: str | None = None) -> Any:
        """The rule-fixed numbers of dev workload ``name`` under rules ``version`` in
        ``framework`` (default: its first dev framework; dev budgets and eval periods can
        differ by framework); ``None`` when no such dev workload is registered."""
        if name not in self:
            return None
        frameworks = self.entry(name).frameworks("dev")
        framework = framework or next(iter(frameworks), None)
        if framework not in frameworks:
            return None
        return self.workload_class(name, "dev", framework).numbers_for(version)


class BaselineRegistry:
    """Lookup of baseline submissions by name, ruleset and framework."""

    def register(self, entry: BaselineEntry) -> BaselineEntry:
        return _BASELINES.register(entry)

    def entry(self, name: str) -> BaselineEntry:
        return _BASELINES.get(name)

    def __contains__(self, name: str) -> bool:
        return name in _BASELINES

    def names(self) -> list[str]:
        return [e.name for e in _BASELINES.all()]

    def module_name(self, name: str, ruleset: str, framework: str) -> str:
        entry = self.entry(name)
        by_fw = entry.modules.get(ruleset, {})
        if framework not in by_fw:
            raise PacelineError(
                f"Baseline {name!r} has no {framework} submission for the {ruleset}-tuning "
                f"ruleset (it has: {', '.join(f'{r}/{f}' for r in entry.modules for f in entry.modules[r]) or 'none'})."
            )
        return by_fw[framework]


class SearchStrategyRegistry:
    """Lookup of external-tuning search strategies by name."""

    def register(self, entry: SearchStrategyEntry) -> SearchStrategyEntry:
        return _SEARCH_STRATEGIES.register(entry)

    def entry(self, name: str) -> SearchStrategyEntry:
        return _SEARCH_STRATEGIES.get(name)

    def __contains__(self, name: str) -> bool:
        return name in _SEARCH_STRATEGIES

    def names(self) -> list[str]:
        return [e.name for e in _SEARCH_STRATEGIES.all()]

    def strategy_class(self, name: str) -> type:
        """The class of strategy ``name`` (imported now)."""
        return _import_ref(self.entry(name).strategy)


_workload_registry = WorkloadRegistry()
_baseline_registry = BaselineRegistry()
_search_strategy_registry = SearchStrategyRegistry()


def workloads() -> WorkloadRegistry:
    """The workload registry."""
    return _workload_registry


def baselines() -> BaselineRegistry:
    """The baseline registry."""
    return _baseline_registry


def search_strategies() -> SearchStrategyRegistry:
    """The search-strategy registry."""
    return _search_strategy_registry
