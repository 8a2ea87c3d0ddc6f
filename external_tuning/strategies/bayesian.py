"""Bayesian search over an AlgoPerf search space with Ax's ``Client`` and BoTorch.

How one suggestion is made (:meth:`BayesianSearch.suggest`):

1. The first ``initial_trials`` points are the quasi-random points the benchmark itself would
   draw for a study of that size (same set, seeded order), so a Bayesian study starts where
   the benchmark's protocol starts; with a warm start (``prior``: configurations that did
   best in earlier studies, :mod:`external_tuning.warm_start`) those come first and the
   quasi-random points fill the rest. Until that many trials are *complete*, free workers
   get further points of the same Halton sequence.
2. After that, an Ax ``Client`` (``method="fast"``: a Gaussian process with BoTorch's
   log-noisy-expected-improvement) is built from the history: every complete trial is attached
   with its objective, every pending trial is attached without one (Ax then avoids proposing
   the same point twice). The objective is ``log(t / budget)`` with censored trials imputed
   (:mod:`external_tuning.observations`), minimised (Ax objective string ``"-objective"``).
   With a warm start, the earlier studies' results (``related``: per workload and
   configuration, its median objective there; :mod:`external_tuning.warm_start`) are attached
   first, each with an extra unordered choice parameter naming its workload, and the
   tuner's own trials with their own workload's name; the model's points are asked with that
   parameter fixed to the own workload. Ax (1.3) one-hot encodes that parameter, so one
   Gaussian process (an RBF kernel with a length scale per input) models the objective over
   the hyperparameters and one indicator per workload: how much one workload's results say
   about another's is learned as those indicators' length scales. It is a multi-task model
   in the sense of Swersky, Snoek & Adams (NeurIPS 2013) with the task similarity learned as
   a distance, built from Ax's own facilities: what the other workloads say about a region
   holds until the new workload's data say otherwise. Pooled data can make a hyperparameter
   look irrelevant (a long length scale), and the acquisition's optimizer then leaves it at a
   bound of its range (measured on criteo1tb: docs/measurements/tuning-search.md). Earlier
   studies of the same workload join the own workload's data.
3. The client is rebuilt from the history with a seed derived from the history's length for
   every suggestion, so the same history always gives the same suggestion: a study resumed
   after a kill proposes what the uninterrupted study would have.

Ranges become float range parameters (log-scaled where the space says ``"log"``); feasible
points become ordered choices when they are all numbers, unordered ones otherwise; a range
with ``min == max`` or a single feasible point is fixed and not shown to Ax. List-form spaces
(explicit points) have nothing to search between, so Bayesian search refuses them.

Registered as ``--search bayesian``: not a fixed plan (each workload, or the ``--shared``
set, gets its own tuner, whose trials wait for results), early stopping on by default, and
``--dry-run`` shows the initial quasi-random points and leaves the model's to be chosen.

Ax and torch are imported on first use only. Model fitting runs with ``threads`` torch threads
(default 1): on a shared CPU more threads make it slower, not faster.

    paceline tune --workload mnist --submission nadamw --tuning-search-space space.json \\
        --search bayesian --trials 16
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from external_tuning.observations import TrialRecord
from external_tuning.strategies.quasi_random import continuation, planned_points
from external_tuning.strategy import Preview, SearchStrategy
from sdk import rng as prng
from sdk.errors import PacelineError
from sdk.registry import SearchStrategyEntry, search_strategies
from sdk.search_space import Choice, Range, SearchSpace, same_value

OBJECTIVE = "objective"
# The extra parameter that names an observation's workload when the model learns from
# earlier studies of other workloads (not a hyperparameter; never in a proposed point).
TASK = "paceline_workload"


@dataclass(frozen=True)
class _Param:
    """How one hyperparameter is shown to Ax, and how Ax's value maps back."""

    name: str
    fixed: Any = None
    is_fixed: bool = False
    values: tuple[Any, ...] = ()  # original feasible points (choices)
    encoded: tuple[Any, ...] = ()  # what Ax sees for each of them

    def encode(self, value: Any) -> Any:
        if not self.values:
            return float(value)
        for original, shown in zip(self.values, self.encoded, strict=True):
            if same_value(original, value):
                return shown
        raise PacelineError(f"Hyperparameter {self.name!r} has value {value!r}, which is not "
                            f"one of its feasible points {list(self.values)}.")

    def decode(self, value: Any) -> Any:
        if not self.values:
            return float(value)
        for original, shown in zip(self.values, self.encoded, strict=True):
            if same_value(shown, value):
                return original
        raise PacelineError(f"Ax proposed {value!r} for {self.name!r}, which is not one of "
                            f"its feasible points.")


def _plan_params(space: SearchSpace) -> list[_Param]:
    out = []
    for p in space.parameters:
        if isinstance(p, Range):
            if p.min == p.max:
                out.append(_Param(p.name, fixed=p.min, is_fixed=True))
            else:
                out.append(_Param(p.name))
            continue
        points = p.feasible_points
        if len(points) == 1:
            out.append(_Param(p.name, fixed=points[0], is_fixed=True))
        elif all(isinstance(v, bool) for v in points):
            out.append(_Param(p.name, values=tuple(points), encoded=tuple(points)))
        elif all(isinstance(v, int | float) and not isinstance(v, bool) for v in points):
            out.append(_Param(p.name, values=tuple(points),
                              encoded=tuple(float(v) for v in points)))
        elif all(isinstance(v, str) for v in points):
            out.append(_Param(p.name, values=tuple(points), encoded=tuple(points)))
        else:  # mixed types, or JSON objects: Ax sees their positions
            out.append(_Param(p.name, values=tuple(points),
                              encoded=tuple(str(i) for i in range(len(points)))))
    return out


def _ax_configs(space: SearchSpace, params: list[_Param]) -> list[Any]:
    from ax.api.configs import ChoiceParameterConfig, RangeParameterConfig

    by_name = {p.name: p for p in space.parameters}
    configs = []
    for param in params:
        if param.is_fixed:
            continue
        spec = by_name[param.name]
        if isinstance(spec, Range):
            configs.append(RangeParameterConfig(
                name=param.name, parameter_type="float", bounds=(spec.min, spec.max),
                scaling="log" if spec.scaling == "log" else "linear",
            ))
            continue
        assert isinstance(spec, Choice)
        kind = type(param.encoded[0]).__name__
        ordered = kind == "float"
        values = sorted(param.encoded) if ordered else list(param.encoded)
        configs.append(ChoiceParameterConfig(name=param.name, values=values,
                                             parameter_type=kind, is_ordered=ordered))
    return configs


@contextlib.contextmanager
def _quiet_torch(threads: int) -> Iterator[None]:
    """Ax's logging off, its warnings hidden, and torch limited to ``threads`` threads."""
    import torch
    from ax.utils.common.logger import set_stderr_log_level

    set_stderr_log_level(logging.ERROR)
    before = torch.get_num_threads()
    torch.set_num_threads(max(1, threads))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        torch.set_num_threads(before)


def _inside(space: SearchSpace, point: dict[str, Any]) -> dict[str, Any]:
    """A warm-start point as a point of ``space`` (one sentence when it lies outside)."""
    from external_tuning.warm_start import project

    projected = project(point, space)
    if projected is None:
        raise PacelineError(f"The warm-start point {dict(point)} lies outside the search "
                            f"space {space.source}.")
    return projected


def default_initial_trials(num_trials: int, per_study: int = 5) -> int:
    """Quasi-random trials before the model: a benchmark study's worth, at most a third."""
    return max(1, min(per_study, num_trials // 3))


@dataclass
class BayesianSearch(SearchStrategy):
    """Ax/BoTorch search seeded with the benchmark's quasi-random points (module docstring)."""

    space: SearchSpace
    num_trials: int
    seed: int = 0
    initial_trials: int = 5
    threads: int = 1
    prior: tuple[dict[str, Any], ...] = ()
    related: tuple[dict[str, Any], ...] = ()
    task: str = "objective"  # the workload this search's own trials belong to
    name: str = field(default="bayesian", init=False)
    early_stopping = True
    takes_prior = True

    @classmethod
    def create(cls, space: SearchSpace, config: Any) -> BayesianSearch:
        initial = config.initial_trials or default_initial_trials(config.num_trials)
        workloads = tuple(getattr(config, "workloads", ("objective",)))
        related = tuple(getattr(config, "related", ())) if len(workloads) == 1 else ()
        return cls(space, config.num_trials, config.seed, initial, config.threads,
                   tuple(getattr(config, "prior", ())), related, workloads[0])

    def __post_init__(self) -> None:
        if self.space.is_list:
            raise PacelineError(
                "Bayesian search needs ranges or feasible points to search between; "
                f"{self.space.source} is a list of fixed points, so use --search quasi-random."
            )
        if self.initial_trials < 1:
            raise PacelineError("Bayesian search needs at least one initial quasi-random "
                                f"trial, got {self.initial_trials}.")
        self._params = _plan_params(self.space)
        warm = [_inside(self.space, p) for p in self.prior[:self.initial_trials]]
        rest = self.initial_trials - len(warm)
        self.initial_points = warm + (planned_points(self.space, rest, self.seed) if rest
                                      else [])
        self.initial_origins = ["warm start"] * len(warm) + ["quasi-random"] * rest
        self._related = [(r["workload"], _inside(self.space, r["point"]),
                          float(r["objective"])) for r in self.related]
        if any(p.name == TASK for p in self.space.parameters):
            raise PacelineError(f"The search space names a hyperparameter {TASK!r}, which "
                                "paceline's Bayesian search uses for itself; rename it.")
        self.last_origins: list[str] = []  # per point of the last suggest(): how it was chosen

    def preview(self, history: Sequence[TrialRecord], count: int) -> list[Preview]:
        """The initial quasi-random points as planned; the model's are chosen later."""
        out: list[Preview] = []
        for i in range(len(history), len(history) + count):
            if i < self.initial_trials:
                out.append((dict(self.initial_points[i]), self.initial_origins[i]))
            else:
                out.append((None, "bayesian (chosen from the trials before it)"))
        return out

    def suggest(self, history: Sequence[TrialRecord], count: int) -> list[dict[str, Any]]:
        """``count`` new points given every trial asked so far (complete or pending)."""
        asked = len(history)
        if asked + count > self.num_trials:
            raise PacelineError(f"The Bayesian search was planned for {self.num_trials} "
                                f"trials and {asked} were asked for already; it cannot give "
                                f"{count} more.")
        out: list[dict[str, Any]] = []
        origins: list[str] = []
        while len(out) < count and asked + len(out) < self.initial_trials:
            origins.append(self.initial_origins[asked + len(out)])
            out.append(dict(self.initial_points[asked + len(out)]))
        missing = count - len(out)
        complete = sum(r.complete for r in history)
        if missing and (complete < self.initial_trials
                        or not any(not p.is_fixed for p in self._params)):
            out.extend(continuation(self.space, asked + len(out), missing))
        self.last_origins = origins + ["quasi-random"] * (len(out) - len(origins))
        if len(out) < count:
            out.extend(self._model_points(history, count - len(out)))
            self.last_origins += ["bayesian"] * (count - len(self.last_origins))
        return out

    def _model_points(self, history: Sequence[TrialRecord], count: int) -> list[dict[str, Any]]:
        try:
            return self._ax_points(history, count)
        except PacelineError:
            raise
        except Exception as exc:  # noqa: BLE001 - Ax/BoTorch internals: one sentence, no trace
            raise PacelineError(f"Ax could not propose a point ({type(exc).__name__}: "
                                f"{str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
                                "); the finished trials are kept.") from exc

    def _ax_points(self, history: Sequence[TrialRecord], count: int) -> list[dict[str, Any]]:
        from ax.api.client import Client

        with _quiet_torch(self.threads):
            client = Client(random_seed=prng.derive_seed(self.seed, "ax", len(history)))
            tasks = sorted({w for w, _, _ in self._related} | {self.task})
            task_config = self._task_config(tasks)
            client.configure_experiment(
                parameters=_ax_configs(self.space, self._params) + task_config,
                name="paceline_external_tuning")
            client.configure_optimization(objective=f"-{OBJECTIVE}")
            client.configure_generation_strategy(
                method="fast", initialization_budget=self.initial_trials,
                initialize_with_center=False, use_existing_trials_for_initialization=True,
                min_observed_initialization_trials=self.initial_trials,
            )
            own = {TASK: self.task} if task_config else {}
            for workload, point, value in self._related:
                task = {TASK: workload} if task_config else {}
                index = client.attach_trial({**self._encode(point), **task})
                client.complete_trial(index, raw_data={OBJECTIVE: value})
            for record in sorted(history, key=lambda r: r.index):
                index = client.attach_trial({**self._encode(record.hyperparameters), **own})
                if record.complete:
                    client.complete_trial(index, raw_data={OBJECTIVE: float(record.objective)})
            points: list[dict[str, Any]] = []
            for _ in range(4 * count):  # Ax may give fewer than asked per call
                if len(points) == count:
                    break
                asked = client.get_next_trials(max_trials=count - len(points),
                                               fixed_parameters=own or None)
                points.extend(self._decode(params) for params in asked.values())
        if len(points) < count:
            raise PacelineError(f"Ax proposed only {len(points)} of {count} points; the search "
                                "space may be exhausted (too few feasible points).")
        return points

    @staticmethod
    def _task_config(tasks: Sequence[str]) -> list[Any]:
        """The workload parameter, when observations of more than one workload are known."""
        if len(tasks) < 2:
            return []
        from ax.api.configs import ChoiceParameterConfig

        return [ChoiceParameterConfig(name=TASK, values=list(tasks), parameter_type="str",
                                      is_ordered=False)]

    def _encode(self, point: dict[str, Any]) -> dict[str, Any]:
        return {p.name: p.encode(point[p.name]) for p in self._params if not p.is_fixed}

    def _decode(self, params: dict[str, Any]) -> dict[str, Any]:
        return {p.name: p.fixed if p.is_fixed else p.decode(params[p.name])
                for p in self._params}


search_strategies().register(SearchStrategyEntry(
    "bayesian", "external_tuning.strategies.bayesian:BayesianSearch",
    "Ax + BoTorch on time-to-target, started from the benchmark's quasi-random points"))
