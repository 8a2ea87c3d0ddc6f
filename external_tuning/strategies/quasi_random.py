"""Quasi-random search: AlgoPerf's point set, in a seeded order.

For a dict-form space, :class:`QuasiRandomSearch` yields exactly the ``num_trials`` points that
AlgoPerf's ``halton.generate_search`` draws (the same set in every study), shuffled with
``seed`` instead of numpy's unseeded global RNG, so every study order is reproducible
(:func:`sdk.search_space.generate_search`). A list-form space yields its first
``min(num_trials, len(points))`` points in file order, as AlgoPerf.

:func:`continuation` gives further points of the same Halton sequence, in sequence order, for
searches that need more quasi-random points than the planned set (Bayesian search while it
waits for enough observations to fit a model).

Registered as ``--search quasi-random`` (the default of ``paceline tune``): a fixed plan, so
one tuner per study proposes for every workload, with the seed ``paceline run`` orders its
study with (same points, same per-trial seeds).

    >>> from sdk.search_space import SearchSpace
    >>> space = SearchSpace.from_json({"lr": {"min": 1e-4, "max": 1e-2, "scaling": "log"}})
    >>> search = QuasiRandomSearch(space, num_trials=5, seed=0)
    >>> len(search.suggest([], 5))
    5
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from external_tuning.strategy import SearchStrategy
from sdk import rng as prng
from sdk.errors import PacelineError
from sdk.registry import SearchStrategyEntry, search_strategies
from sdk.search_space import SearchSpace, generate_search, halton_points


def planned_points(space: SearchSpace, num_trials: int, seed: int | None) -> list[dict[str, Any]]:
    """The ``num_trials`` points of one study, in the study's seeded order."""
    return [dict(p._asdict()) for p in generate_search(space, num_trials, seed=seed)]


def continuation(space: SearchSpace, start: int, count: int) -> list[dict[str, Any]]:
    """Halton points ``start .. start+count-1`` (0-based, unshuffled) of a dict-form space."""
    if space.is_list:
        return [dict(p) for p in space.points[start:start + count]]
    units = halton_points(start + count, len(space.parameters))[start:]
    return [{p.name: p.from_unit(u) for p, u in zip(space.parameters, point, strict=True)}
            for point in units]


@dataclass
class QuasiRandomSearch(SearchStrategy):
    """The benchmark's own search; see the module docstring."""

    space: SearchSpace
    num_trials: int
    seed: int | None = 0
    name: str = field(default="quasi-random", init=False)
    fixed_plan = True

    def __post_init__(self) -> None:
        self._points = planned_points(self.space, self.num_trials, self.seed)

    @classmethod
    def study_seed(cls, seed: int, study: int, workloads: tuple[str, ...]) -> int:
        """The order seed ``paceline run`` gives the study (the same for every workload)."""
        return prng.derive_seed(seed, "study-order", study)

    @property
    def capacity(self) -> int:
        """How many points this search can give (fewer than asked for a short list)."""
        return len(self._points)

    def suggest(self, history: Sequence[Any], count: int) -> list[dict[str, Any]]:
        start = len(history)
        if start + count > len(self._points):
            raise PacelineError(
                f"The quasi-random search was planned for {len(self._points)} trials and "
                f"{start} were asked for already; it cannot give {count} more."
            )
        return [dict(p) for p in self._points[start:start + count]]


search_strategies().register(SearchStrategyEntry(
    "quasi-random", "external_tuning.strategies.quasi_random:QuasiRandomSearch",
    "the benchmark's protocol: AlgoPerf's quasi-random point set in a seeded order"))
