"""An ask/tell tuner for people who drive external tuning from their own code.

The lifecycle follows Ax's ``Client``: configure, ask for trials, tell what each trial did,
read the best, save and load. Points come from a
:class:`~external_tuning.strategy.SearchStrategy` found by name in
:func:`sdk.registry.search_strategies` (``"quasi-random"``, the benchmark's own,
``"bayesian"``, or a plug-in's), or passed in as an object. What a trial did is an
:class:`Observation` per workload (a bare time-to-target works too); misses are censored
observations, imputed as :mod:`external_tuning.observations` describes.

    from external_tuning import Tuner
    from sdk.search_space import SearchSpace

    tuner = Tuner().configure(SearchSpace.load("space.json"), search="bayesian",
                              num_trials=20, seed=0)
    while not tuner.done:
        for trial in tuner.ask():
            seconds = my_training(trial.hyperparameters)     # None when it missed the target
            tuner.tell(trial.index, seconds, budget=3600)
        tuner.save("tuner.json")                            # Tuner.load("tuner.json") resumes
    print(tuner.best())

``paceline tune`` runs one tuner per study (and per workload, unless the configuration is
shared) and keeps all of them in its state file.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from external_tuning.observations import (
    DEFAULT_CAP,
    Observation,
    TrialRecord,
    objective,
    shared_objective,
)
from external_tuning.strategy import Preview, SearchStrategy
from sdk.errors import PacelineError
from sdk.registry import search_strategies
from sdk.search_space import SearchSpace
from sdk.trial_logs import atomic_write_json

FORMAT = 1
__all__ = ["SearchStrategy", "Suggestion", "Tuner", "TunerConfig", "make_strategy"]


@dataclass(frozen=True)
class Suggestion:
    """A trial to run: its index in the tuner and its hyperparameters."""

    index: int
    hyperparameters: dict[str, Any]


@dataclass(frozen=True)
class TunerConfig:
    """Everything that decides which points a tuner proposes."""

    search: str
    num_trials: int
    seed: int
    workloads: tuple[str, ...] = ("objective",)
    initial_trials: int | None = None
    cap: float = DEFAULT_CAP
    threads: int = 1
    prior: tuple[dict[str, Any], ...] = ()  # warm-start points (external_tuning/warm_start.py)
    # earlier studies' results, {"workload", "point", "objective"} each (warm_start.py)
    related: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = {"search": self.search, "num_trials": self.num_trials, "seed": self.seed,
                "workloads": list(self.workloads), "initial_trials": self.initial_trials,
                "cap": self.cap, "threads": self.threads}
        if self.prior:
            data["prior"] = [dict(p) for p in self.prior]
        if self.related:
            data["related"] = [dict(r) for r in self.related]
        return data


def make_strategy(space: SearchSpace, config: TunerConfig) -> SearchStrategy:
    """The registered strategy named ``config.search``, built for ``config``."""
    return search_strategies().strategy_class(config.search).create(space, config)


class Tuner:
    """Ask/tell over one search space; see the module docstring."""

    def __init__(self) -> None:
        self.space: SearchSpace | None = None
        self.config: TunerConfig | None = None
        self.records: list[TrialRecord] = []
        self._strategy: SearchStrategy | None = None

    # ---- 1. configure ---------------------------------------------------------------------
    def configure(
        self,
        space: SearchSpace | Mapping | list,
        search: str = "quasi-random",
        num_trials: int = 5,
        seed: int = 0,
        workloads: Sequence[str] = ("objective",),
        initial_trials: int | None = None,
        cap: float = DEFAULT_CAP,
        threads: int = 1,
        strategy: SearchStrategy | None = None,
        prior: Sequence[Mapping[str, Any]] = (),
        related: Sequence[Mapping[str, Any]] = (),
    ) -> Tuner:
        """Set the space and the search; returns ``self``.

        Args:
            space: a :class:`SearchSpace` or its AlgoPerf JSON (dict or list form).
            search: a registered strategy's name: ``"quasi-random"`` (AlgoPerf's point set,
                seeded order), ``"bayesian"``, or a plug-in's.
            num_trials: how many trials the tuner will propose in all.
            seed: decides the quasi-random order and Ax's randomness.
            workloads: names a trial must be told about before it is complete; with several,
                the objective is the shared one (mean of per-workload log time ratios).
            initial_trials: Bayesian search only: quasi-random trials before the model.
            cap: censored trials are imputed at most ``cap`` times the budget.
            threads: torch threads for fitting the Bayesian model.
            strategy: a custom strategy object instead of ``search``.
            prior: Bayesian search only: points to try first, before its quasi-random ones
                (a warm start, :mod:`external_tuning.warm_start`).
            related: Bayesian search only: earlier studies' results the model learns from
                with the tuner's own, ``{"workload", "point", "objective"}`` each (the
                tuner's workload is its only ``workloads`` name).
        """
        if self.records:
            raise PacelineError("This tuner has trials already; configure a new Tuner instead.")
        if not isinstance(space, SearchSpace):
            space = SearchSpace.from_json(space)
        if num_trials < 1:
            raise PacelineError(f"A tuner needs at least one trial, got {num_trials}.")
        if not workloads:
            raise PacelineError("A tuner needs at least one workload name.")
        self.space = space
        self.config = TunerConfig(search if strategy is None else strategy.name, num_trials,
                                  int(seed), tuple(workloads), initial_trials, float(cap),
                                  threads, tuple(dict(p) for p in prior),
                                  tuple(dict(r) for r in related))
        self._strategy = strategy or make_strategy(space, self.config)
        if (self.config.prior or self.config.related) and not self._strategy.takes_prior:
            raise PacelineError(f"A warm start gives first points to a search that learns "
                                f"from its trials (e.g. bayesian); a {self.config.search} "
                                "search has no use for them.")
        capacity = self._strategy.capacity
        if capacity < num_trials:
            self.config = TunerConfig(**{**self.config.__dict__, "num_trials": capacity})
        return self

    @property
    def strategy(self) -> SearchStrategy:
        """The search strategy proposing this tuner's points."""
        self._config()
        assert self._strategy is not None
        return self._strategy

    def extend(self, num_trials: int) -> None:
        """Plan more trials (not for a fixed plan such as the quasi-random set)."""
        cfg = self._config()
        if num_trials <= cfg.num_trials:
            return
        self.strategy.extend(num_trials)
        self.config = TunerConfig(**{**cfg.__dict__, "num_trials": num_trials})

    # ---- 2. conduct -----------------------------------------------------------------------
    @property
    def done(self) -> bool:
        """Every planned trial was asked for and told about."""
        cfg = self._config()
        return len(self.records) >= cfg.num_trials and all(r.complete for r in self.records)

    @property
    def remaining(self) -> int:
        """Trials not asked for yet."""
        return self._config().num_trials - len(self.records)

    @property
    def pending(self) -> list[TrialRecord]:
        """Trials asked for but not complete."""
        return [r for r in self.records if not r.complete]

    def ask(self, count: int = 1) -> list[Suggestion]:
        """Up to ``count`` new trials (fewer when the plan is nearly used up)."""
        count = min(count, self.remaining)
        if count <= 0:
            return []
        points = self.strategy.suggest(list(self.records), count)
        origins = self.strategy.last_origins
        out = []
        for i, point in enumerate(points):
            source = origins[i] if i < len(origins) else self._config().search
            record = TrialRecord(len(self.records), dict(point), source=source)
            self.records.append(record)
            out.append(Suggestion(record.index, dict(point)))
        return out

    def tell(
        self,
        index: int,
        result: Observation | Mapping[str, Observation] | float | None,
        budget: float | None = None,
    ) -> TrialRecord:
        """Record what trial ``index`` did on one or more workloads.

        ``result`` is an :class:`Observation`, a mapping workload -> observation, or a bare
        time-to-target in seconds (``None`` / ``inf`` for a miss; then ``budget`` is needed).
        Once every configured workload is told, the trial is complete.
        """
        cfg = self._config()
        if not 0 <= index < len(self.records):
            raise PacelineError(f"There is no trial {index}; ask() gave indices 0 to "
                                f"{len(self.records) - 1}.")
        record = self.records[index]
        if record.complete:
            raise PacelineError(f"Trial {index} was told already.")
        if isinstance(result, Observation):
            observations = {result.workload: result}
        elif isinstance(result, Mapping):
            observations = dict(result)
        else:
            if budget is None:
                raise PacelineError("Telling a bare time-to-target needs budget=SECONDS.")
            if len(cfg.workloads) != 1:
                raise PacelineError("This tuner tracks several workloads; tell an Observation "
                                    "per workload.")
            value = None if result is None or not math.isfinite(result) else float(result)
            observations = {cfg.workloads[0]: Observation.from_time(value, budget,
                                                                    cfg.workloads[0])}
        unknown = sorted(set(observations) - set(cfg.workloads))
        if unknown:
            raise PacelineError(f"Trial {index} was told about {', '.join(unknown)}, which "
                                f"this tuner does not track ({', '.join(cfg.workloads)}).")
        record.observations.update(observations)
        if set(record.observations) >= set(cfg.workloads):
            ordered = {w: record.observations[w] for w in cfg.workloads}
            record.observations = ordered
            record.objective = (objective(ordered[cfg.workloads[0]], cfg.cap)
                                if len(ordered) == 1 else shared_objective(ordered, cfg.cap))
        return record

    def preview(self) -> list[Preview]:
        """Every trial not asked for yet: its point (``None`` until results decide it) and
        how it is chosen. Asks nothing of this tuner (the strategy previews on a copy)."""
        probe = copy.deepcopy(self)
        return probe.strategy.preview(list(probe.records), probe.remaining)

    # ---- 3. analyse -----------------------------------------------------------------------
    def ranking(self) -> list[TrialRecord]:
        """Complete trials, best first (lowest objective; ties by index)."""
        return sorted((r for r in self.records if r.complete),
                      key=lambda r: (r.objective, r.index))

    def best(self) -> TrialRecord | None:
        """The best complete trial, or ``None`` before any is complete."""
        ranked = self.ranking()
        return ranked[0] if ranked else None

    # ---- 4. save / load -------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {"format": FORMAT, "space": self._space().to_json(),
                "config": self._config().to_json(),
                "records": [r.to_json() for r in self.records]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], strategy: SearchStrategy | None = None,
                  source: str = "<tuner state>") -> Tuner:
        try:
            if data.get("format") != FORMAT:
                raise PacelineError(f"{source} has tuner format {data.get('format')!r}; this "
                                    f"paceline reads format {FORMAT}.")
            cfg = data["config"]
            tuner = cls().configure(
                SearchSpace.from_json(data["space"], source=source), search=cfg["search"],
                num_trials=cfg["num_trials"], seed=cfg["seed"], workloads=cfg["workloads"],
                initial_trials=cfg.get("initial_trials"), cap=cfg.get("cap", DEFAULT_CAP),
                threads=cfg.get("threads", 1), strategy=strategy,
                prior=cfg.get("prior", ()), related=cfg.get("related", ()),
            )
            tuner.records = [TrialRecord.from_json(r) for r in data["records"]]
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PacelineError(f"{source} is not a paceline tuner state ({exc}).") from None
        return tuner

    def save(self, path: str | Path) -> None:
        """Write the tuner's state atomically (a kill never leaves half a file)."""
        atomic_write_json(Path(path), self.to_json())

    @classmethod
    def load(cls, path: str | Path, strategy: SearchStrategy | None = None) -> Tuner:
        """A tuner saved by :meth:`save`, ready to ask and tell again."""
        from sdk.input_files import read_json_object

        p = Path(path)
        if not p.exists():
            raise PacelineError(f"Tuner state {p} does not exist.")
        return cls.from_json(read_json_object(p, "tuner state"), strategy, source=str(p))

    # ---- private --------------------------------------------------------------------------
    def _config(self) -> TunerConfig:
        if self.config is None:
            raise PacelineError("Call configure(...) before using the tuner.")
        return self.config

    def _space(self) -> SearchSpace:
        self._config()
        assert self.space is not None
        return self.space
