"""What a search strategy is, and what it decides for ``paceline tune``.

A strategy proposes hyperparameter points (:meth:`SearchStrategy.suggest`) and owns every
choice ``paceline tune`` makes because of it, so a new strategy is one module:

* ``fixed_plan``: its points depend only on the number of trials and the seed, never on
  results. Then one tuner per study proposes for every workload, all its trials may run at
  once, and a study cannot be given more trials later. Otherwise each workload (or, with
  ``--shared``, the set of workloads) gets its own tuner and trials wait for results;
* :meth:`~SearchStrategy.study_seed`: the seed of a study's tuner;
* :meth:`~SearchStrategy.preview`: what ``--dry-run`` shows for trials not asked for yet;
* :meth:`~SearchStrategy.in_flight_limit`: how many of one tuner's trials run at once;
* ``early_stopping``: whether ``paceline tune`` stops hopeless trials unless told otherwise;
* ``takes_prior``: whether it accepts warm-start points (``paceline tune --warm-start``,
  :mod:`external_tuning.warm_start`) through its tuner configuration's ``prior``.

A strategy is registered by name in :func:`sdk.registry.search_strategies` by its module,
when imported. The built-in ones are the modules of :mod:`external_tuning.strategies`, which
imports all of them; a plug-in package names its module under the
``paceline.search_strategies`` entry-point group (see docs/external_tuning.md, "Adding a
search strategy"):

    paceline tune --workload mnist --submission nadamw --search NAME --dry-run
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sdk import rng as prng
from sdk.errors import PacelineError
from sdk.search_space import SearchSpace

Preview = tuple[dict[str, Any] | None, str]


class SearchStrategy:
    """The base of every search strategy: override :meth:`suggest`, set ``name``.

    Subclasses are built by :meth:`create` from a tuner's configuration and hold at least
    ``space``, ``num_trials`` and ``seed``. A strategy may set ``last_origins`` (one label per
    point of the last :meth:`suggest`); the tuner records it as each trial's source.
    """

    name: str = "search"
    fixed_plan: bool = False
    early_stopping: bool = False
    takes_prior: bool = False
    last_origins: Sequence[str] = ()
    space: SearchSpace
    num_trials: int
    seed: int | None

    @classmethod
    def create(cls, space: SearchSpace, config: Any) -> SearchStrategy:
        """The strategy for a tuner's ``config`` (:class:`~external_tuning.tuner.TunerConfig`)."""
        return cls(space, config.num_trials, config.seed)  # type: ignore[call-arg]

    @classmethod
    def study_seed(cls, seed: int, study: int, workloads: tuple[str, ...]) -> int:
        """The seed of the tuner of ``study`` on ``workloads``, from the experiment's seed."""
        return prng.derive_seed(seed, cls.name, study, *workloads)

    @classmethod
    def groups(cls, workloads: tuple[str, ...], shared: bool) -> list[tuple[str, ...]]:
        """Which workloads share a tuner within one study."""
        if cls.fixed_plan or shared:
            return [workloads]
        return [(w,) for w in workloads]

    @classmethod
    def in_flight_limit(cls, slots: int, open_tuners: int) -> int:
        """How many of one tuner's trials may run at once, with ``slots`` workers shared by
        ``open_tuners`` tuners that still have trials to ask for."""
        if cls.fixed_plan:
            return slots
        return max(1, math.ceil(slots / max(1, open_tuners)))

    @property
    def capacity(self) -> int:
        """How many points this strategy can give (fewer than planned for a short list)."""
        return self.num_trials

    def suggest(self, history: Sequence[Any], count: int) -> list[dict[str, Any]]:
        """``count`` new points given every trial asked so far (complete or pending)."""
        raise NotImplementedError(f"{type(self).__name__} does not define suggest()")

    def preview(self, history: Sequence[Any], count: int) -> list[Preview]:
        """The next ``count`` points and how each is chosen, without results (``None`` for a
        point that depends on trials not run yet). Call it on a copy: it may ``suggest``."""
        if self.fixed_plan:
            return [(point, self.name) for point in self.suggest(history, count)]
        return [(None, f"{self.name} (chosen from the trials before it)")] * count

    def extend(self, num_trials: int) -> None:
        """Plan ``num_trials`` in all (more than before)."""
        if self.fixed_plan:
            raise PacelineError(f"A {self.name} search draws a fixed set for its number of "
                                f"trials ({self.num_trials}); start a new tuner for more.")
        self.num_trials = num_trials
