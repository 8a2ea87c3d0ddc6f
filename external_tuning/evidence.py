"""What tuning experiments on disk say about each configuration, for ``paceline freeze``.

:func:`load_evidence` reads every trial under the given folders (AlgoPerf's layout, through
:mod:`sdk.scoring.reader`), keys it by its hyperparameters (``hparams.json``), and computes its
time-to-target with the scorer's rules (:func:`sdk.scoring.time_to_target.trial_time`: first
eval at or beyond the target, within the budget) against the target in force (a dev trial's
own ``meta_data``, else the ruleset table). Each trial also gets the censored-aware objective
``log(t / budget)`` of :mod:`external_tuning.observations`, which :class:`WorkloadModel`
learns from.

:class:`WorkloadModel` is a Gaussian process (BoTorch ``SingleTaskGP``, fitted by maximum
marginal likelihood) of that objective over the hyperparameters encoded in the unit cube, one
per workload. ``freeze`` uses it for configurations a workload never ran (a Bayesian study
per workload proposes different points on each) and for the points of a box; its noise
estimate also stands in for seed-to-seed variation where a configuration ran only once.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from external_tuning.observations import DEFAULT_CAP, Observation, imputed_time
from external_tuning.report import point_key
from external_tuning.study import STATE_FILE
from sdk.errors import PacelineError
from sdk.input_files import check_identifiers, read_json, read_json_object
from sdk.scoring.reader import csv_state, find_submissions, read_curve, read_meta
from sdk.scoring.targets import ScoringRules, Target, target_from_meta
from sdk.scoring.time_to_target import trial_time
from sdk.search_space import Choice, Range, SearchSpace

# A numeric hyperparameter with at most this many distinct studied values is taken as a
# choice when no tuning state says what the space was.
MAX_INFERRED_CHOICES = 3


@dataclass(frozen=True)
class Run:
    """One trial of one configuration on one workload."""

    key: str
    workload: str
    study: str
    trial: str
    eval_index: int | None
    time: float  # inf: missed
    objective: float  # log(t / budget), t imputed for a miss
    path: Path


@dataclass
class Evidence:
    """Every studied trial, by configuration and workload."""

    points: dict[str, dict[str, Any]]
    runs: list[Run]
    workloads: list[str]
    budgets: dict[str, float]
    eval_spacing: dict[str, float]
    space: SearchSpace
    space_source: str
    notes: list[str] = field(default_factory=list)
    dev_workloads: frozenset[str] = frozenset()  # trials run at dev scale (their meta says)

    def samples(self, key: str, workload: str) -> list[Run]:
        return self._index().get((key, workload), [])

    def repeated_times(self, workload: str) -> list[list[float]]:
        """The times of every configuration run more than once on ``workload`` (inf: a
        miss), one list per configuration: what the studies show of the seed noise."""
        return [[r.time for r in runs] for (_, w), runs in self._index().items()
                if w == workload and len(runs) > 1]

    def _index(self) -> dict[tuple[str, str], list[Run]]:
        if not hasattr(self, "_by_pair"):
            by_pair: dict[tuple[str, str], list[Run]] = {}
            for r in self.runs:
                by_pair.setdefault((r.key, r.workload), []).append(r)
            self._by_pair = by_pair
        return self._by_pair


def _status(path: Path) -> str:
    status_file = path / "paceline_trial.json"
    try:
        return str(read_json_object(status_file, "trial status file").get("status", ""))
    except PacelineError:
        return ""


def _target(workload: str, meta: dict[str, Any] | None, rules: ScoringRules,
            where: str) -> Target | None:
    if meta and meta.get("paceline.scale") == "dev":
        return target_from_meta(workload, meta, where)
    return rules.targets.get(workload)


def load_evidence(paths: Sequence[str | Path], rules: ScoringRules,
                  cap: float = DEFAULT_CAP) -> Evidence:
    """Read every trial with hyperparameters under ``paths``."""
    trees = find_submissions(paths)
    notes: list[str] = []
    points: dict[str, dict[str, Any]] = {}
    runs: list[Run] = []
    budgets: dict[str, float] = {}
    targets: dict[str, Target] = {}
    spacing: dict[str, list[float]] = {}
    names: set[tuple[str, ...]] = set()
    dev: set[str] = set()
    for tree in trees:
        for trial in tree.trials:
            hp_path = trial.path / "hparams.json"
            if not hp_path.is_file():
                notes.append(f"{trial.label} has no hparams.json (a self-tuning trial?); "
                             "skipped.")
                continue
            if csv_state(trial) != "ok":
                notes.append(f"{trial.label} has no eval_measurements.csv; skipped.")
                continue
            try:
                hparams = read_json_object(hp_path, "hyperparameters file")
                check_identifiers(hparams, str(hp_path))
            except PacelineError as exc:
                notes.append(f"{str(exc).rstrip('.')}; skipped.")
                continue
            meta = read_meta(trial)
            if meta and meta.get("paceline.scale") == "dev":
                dev.add(trial.workload)
            target = _target(trial.workload, meta, rules, str(trial.path))
            if target is None or target.budget_sec is None:
                notes.append(f"{trial.label}: no target or budget is known for "
                             f"{trial.workload}; skipped.")
                continue
            known = targets.setdefault(trial.workload, target)
            if (known.value, known.metric) != (target.value, target.metric):
                raise PacelineError(f"The trials of {trial.workload} were run against "
                                    f"different targets ({known.metric} {known.value:g} and "
                                    f"{target.metric} {target.value:g}); freeze them apart.")
            curve = read_curve(trial.csv_path, target.column, f" (the metric of "
                                                               f"{trial.workload})")
            tt = trial_time(curve, target, trial.trial, trial.path)
            obs = Observation(
                workload=trial.workload, status=_status(trial.path),
                time_to_target=tt.time_sec if math.isfinite(tt.time_sec) else None,
                budget=target.budget_sec, target=target.value, minimized=target.minimized,
                curve=tuple((float(t), float(v)) for t, v in zip(curve.times, curve.values,
                                                                  strict=True)
                            if not math.isnan(t)))
            key = point_key(hparams)
            points.setdefault(key, hparams)
            names.add(tuple(sorted(hparams)))
            runs.append(Run(key, trial.workload, f"{tree.name}/{trial.study}", trial.trial,
                            tt.index, tt.time_sec,
                            math.log(imputed_time(obs, cap) / target.budget_sec), trial.path))
            budgets[trial.workload] = target.budget_sec
            if len(curve) > 1:
                spacing.setdefault(trial.workload, []).append(
                    (float(curve.times[-1]) - float(curve.times[0])) / (len(curve) - 1))
    if not runs:
        raise PacelineError(f"No external-tuning trial with hparams.json and "
                            f"eval_measurements.csv was found under {', '.join(map(str, paths))}.")
    if len(names) > 1:
        raise PacelineError("The studied trials do not all tune the same hyperparameters "
                            f"({' vs '.join(', '.join(n) for n in sorted(names))}); freeze "
                            "one submission at a time.")
    space, source = _space(paths, list(points.values()), notes)
    return Evidence(points, runs, sorted(budgets), budgets,
                    {w: statistics.median(v) for w, v in spacing.items()}, space, source, notes,
                    frozenset(dev))


def _space(paths: Sequence[str | Path], points: list[dict[str, Any]],
           notes: list[str]) -> tuple[SearchSpace, str]:
    """The tuned search space: from a ``paceline tune`` state if one is found, else inferred."""
    found = []
    for path in paths:
        candidates = [Path(path) / STATE_FILE, *sorted(Path(path).glob(f"*/{STATE_FILE}"))]
        for state in (c for c in candidates if c.is_file()):
            try:
                found.append((state, read_json(state, "tuning state")["config"]["space"]))
            except (PacelineError, KeyError, TypeError):
                continue
    dict_spaces = [(p, s) for p, s in found if isinstance(s, dict)]
    if dict_spaces:
        state, data = dict_spaces[0]
        if any(s != data for _, s in dict_spaces[1:]):
            notes.append(f"The experiments tuned different search spaces; using the one in "
                         f"{state} to encode hyperparameters.")
        return SearchSpace.from_json(data, source=str(state)), str(state)
    return infer_space(points), "inferred from the studied points"


def infer_space(points: list[dict[str, Any]]) -> SearchSpace:
    """A dict-form space covering ``points``: log ranges for positive values spanning 10x."""
    spec: dict[str, Any] = {}
    for name in points[0]:
        values = [p[name] for p in points]
        distinct = list(dict.fromkeys(json.dumps(v) for v in values))
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        if not numeric or len(distinct) <= MAX_INFERRED_CHOICES:
            spec[name] = {"feasible_points": [json.loads(d) for d in distinct]}
            continue
        lo, hi = float(min(values)), float(max(values))
        log = lo > 0 and hi / lo >= 10
        spec[name] = {"min": lo, "max": hi, "scaling": "log" if log else "linear"}
    return SearchSpace.from_json(spec, source="<inferred>")


def free_parameters(space: SearchSpace) -> list[Range | Choice]:
    """Parameters that vary (a one-point choice or an empty range carries no information)."""
    out: list[Range | Choice] = []
    for p in space.parameters:
        if isinstance(p, Range) and p.max > p.min:
            out.append(p)
        elif isinstance(p, Choice) and len(p.feasible_points) > 1:
            out.append(p)
    return out


def encode(space: SearchSpace, point: dict[str, Any]) -> np.ndarray:
    """A point in the unit cube of the space's free parameters (choices at slot centres)."""
    out = []
    for p in free_parameters(space):
        value = point[p.name]
        if isinstance(p, Range):
            if p.scaling == "log" and not (isinstance(value, int | float) and value > 0):
                out.append(0.0)
                continue
            out.append(min(1.0, max(0.0, p.to_unit(float(value)))))
        else:
            shown = [json.dumps(v) for v in p.feasible_points]
            i = shown.index(json.dumps(value)) if json.dumps(value) in shown else 0
            out.append((i + 0.5) / len(p.feasible_points))
    return np.asarray(out, dtype=float)


class WorkloadModel:
    """A GP of ``log(t / budget)`` over encoded hyperparameters for one workload."""

    MIN_RUNS = 3

    def __init__(self, space: SearchSpace, points: list[dict[str, Any]],
                 objectives: list[float], noise_floor: float | None = None) -> None:
        """Fit by marginal likelihood; ``noise_floor`` (log-time units) is the least seed
        noise the model may assume: below it, the fit is redone with the noise held to it."""
        import torch

        self.space = space
        x = np.stack([encode(space, p) for p in points])
        self._dims = x.shape[1]
        self._torch = torch
        self._x = torch.tensor(x, dtype=torch.float64)
        self._y = torch.tensor(np.asarray(objectives, dtype=float)[:, None], dtype=torch.float64)
        self._model = self._fit(None)
        self.fitted_noise_std = self._noise_std()  # what the runs alone say
        spread = float(self._y.std()) if len(objectives) > 1 else 0.0
        if noise_floor and spread > 0 and self.fitted_noise_std < noise_floor:
            self._model = self._fit((noise_floor / spread) ** 2)  # Standardize's units
        self.noise_std = self._noise_std()

    def _fit(self, least_noise: float | None) -> Any:
        from botorch.fit import fit_gpytorch_mll
        from botorch.models import SingleTaskGP
        from gpytorch.constraints import GreaterThan
        from gpytorch.mlls import ExactMarginalLogLikelihood

        model = SingleTaskGP(self._x, self._y)
        if least_noise is not None:
            model.likelihood.noise_covar.register_constraint("raw_noise",
                                                             GreaterThan(least_noise))
        fit_gpytorch_mll(ExactMarginalLogLikelihood(model.likelihood, model))
        return model

    def _noise_std(self) -> float:
        """The observation noise's standard deviation, in the objective's units."""
        with self._torch.no_grad():
            noisy = self._model.posterior(self._x, observation_noise=True).variance
            clean = self._model.posterior(self._x).variance
        return float(math.sqrt(max(float((noisy - clean).mean()), 0.0)))

    @classmethod
    def fit(cls, space: SearchSpace, evidence: Evidence, workload: str,
            noise_floor: float | None = None) -> WorkloadModel | None:
        """The model for ``workload``, or ``None`` with too few runs or nothing to vary."""
        runs = [r for r in evidence.runs if r.workload == workload]
        if len(runs) < cls.MIN_RUNS or not free_parameters(space):
            return None
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return cls(space, [evidence.points[r.key] for r in runs],
                       [r.objective for r in runs], noise_floor)

    def predict(self, points: list[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Predictive mean and standard deviation (with observation noise) of the objective."""
        torch = self._torch
        x = torch.tensor(np.stack([encode(self.space, p) for p in points]), dtype=torch.float64)
        with torch.no_grad():
            post = self._model.posterior(x, observation_noise=True)
            mean = post.mean.squeeze(-1).numpy()
            std = post.variance.clamp_min(0).sqrt().squeeze(-1).numpy()
        return mean, std
