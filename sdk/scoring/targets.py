"""What each workload's validation curve is compared against: metric, target, direction, budget.

Targets come from three places; a later one wins:

1. the ruleset tables in :mod:`sdk.rulesets` (every official base workload and variant, per
   version; the budget is the external-tuning budget times the self-tuning multiplier when
   scoring self-tuning);
2. a paceline dev-scale trial's own ``meta_data_<n>.json`` (dev workloads keep the official
   names but have their own targets and budgets; see :mod:`sdk.scoring.reader`);
3. a targets JSON passed with ``paceline score --targets FILE``.

The JSON may be AlgoPerf's own ``workload_targets*.json`` (``base_workloads``,
``held_out_workloads``, ``workloads: {name: {target_metric_name, validation_target_value,
step_hint}}``) or a shorter paceline file::

    {"workloads": {"ogbg": 0.29, "my_lm": {"target_metric_name": "ppl",
                                          "validation_target_value": 22.3,
                                          "metric_minimized": true, "budget_sec": 3600}}}

or the ``--json`` output of ``paceline targets`` (each workload's derived target is its
``validation_target``), so candidate dev targets score whole-budget runs directly::

    paceline targets suite --anchor LOGS --json candidate.json          # nothing written
    paceline leaderboard fidelity DIR --official LOGS --dev-targets candidate.json

``base_workloads`` / ``held_out_workloads``, when present, replace the ruleset's lists (the
performance profile divides by the number of base workloads).

    paceline score logs/external_tuning --ruleset-version 0.6 --targets workload_targets.json
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sdk.errors import PacelineError
from sdk.input_files import read_json
from sdk.rulesets import OFFICIAL_HELD_OUT_WORKLOADS, get_ruleset
from sdk.target_reach import is_minimized


@dataclass(frozen=True)
class Target:
    """The validation target of one workload.

    ``metric`` is the bare metric name (``"ssim"``); the curve read is ``validation/<metric>``.
    ``budget_sec`` is the submission-time budget under the ruleset being scored (``None`` if
    unknown, e.g. a workload that only a targets JSON names).
    """

    workload: str
    metric: str
    value: float
    minimized: bool
    budget_sec: float | None
    source: str
    budget_from_file: bool = False  # a targets file set the budget explicitly

    @property
    def column(self) -> str:
        return f"validation/{self.metric}"


@dataclass(frozen=True)
class ScoringRules:
    """Everything the scorer needs from a ruleset version, plus the targets in force."""

    version: str
    self_tuning: bool
    base_workloads: tuple[str, ...]
    held_out_workloads: tuple[str, ...]
    num_studies: int
    num_trials: int
    r_max: float
    tau_grid_points: int
    held_out_ratio_cap: float
    targets: Mapping[str, Target] = field(repr=False)
    targets_file: str | None = None

    @property
    def ruleset(self) -> str:
        return "self" if self.self_tuning else "external"

    @property
    def scored_workloads(self) -> tuple[str, ...]:
        """Base workloads and held-out variants: the workloads whose logs enter the score."""
        return self.base_workloads + self.held_out_workloads

    def base_of(self, workload: str) -> str:
        """The base workload a variant belongs to (first base name it contains)."""
        for base in self.base_workloads:
            if base in workload:
                return base
        return workload

    def held_out_for(self, base: str) -> str | None:
        """The held-out variant sampled for ``base`` (``None`` if it has none)."""
        return next((v for v in self.held_out_workloads if self.base_of(v) == base), None)


def scoring_rules(
    version: str = "0.5",
    self_tuning: bool = False,
    targets_file: str | Path | None = None,
    base_workloads: tuple[str, ...] | None = None,
    held_out_workloads: tuple[str, ...] | None = None,
) -> ScoringRules:
    """The rules of ``version`` with its official targets, optionally overridden by a JSON.

    ``base_workloads`` / ``held_out_workloads`` replace the official lists (e.g. to score a
    dev run of ``mnist``); the profile divides by the number of base workloads.

    >>> rules = scoring_rules("0.6")
    >>> rules.num_studies, rules.targets["ogbg"].value
    (3, 0.28098)
    >>> scoring_rules("0.6", base_workloads=("mnist",)).base_workloads
    ('mnist',)
    >>> latest = scoring_rules("latest", self_tuning=True)
    >>> latest.version, len(latest.base_workloads), latest.targets["finewebedu_lm"].budget_sec
    ('a100-2026', 9, 47950.5)
    """
    try:
        table = get_ruleset(version)
    except ValueError as exc:
        raise PacelineError(str(exc)) from None
    ruleset = "self" if self_tuning else "external"
    targets: dict[str, Target] = {}
    for name, numbers in table.workloads.items():
        targets[name] = Target(
            workload=name,
            metric=numbers.target_metric_name,
            value=numbers.validation_target_value,
            minimized=numbers.metric_minimized,
            budget_sec=table.budget_sec(name, ruleset),
            source=f"ruleset {table.version}",
        )
    rules = ScoringRules(
        version=table.version,
        self_tuning=self_tuning,
        base_workloads=table.base_workloads,
        held_out_workloads=OFFICIAL_HELD_OUT_WORKLOADS[table.version]
        if table.uses_held_out_workloads else (),
        num_studies=table.num_studies,
        num_trials=table.num_trials,
        r_max=table.r_max,
        tau_grid_points=table.tau_grid_points,
        held_out_ratio_cap=table.held_out_ratio_cap,
        targets=targets,
    )
    if targets_file is not None:
        rules = apply_targets_file(rules, targets_file)
    lists = {k: tuple(v) for k, v in (("base_workloads", base_workloads),
                                       ("held_out_workloads", held_out_workloads))
             if v is not None}
    unknown = [w for names in lists.values() for w in names if w not in rules.targets]
    if unknown:
        raise PacelineError(f"No target is known for {', '.join(unknown)}.")
    return replace(rules, **lists)


def rules_over(version: str, workloads: tuple[str, ...] | list[str], self_tuning: bool = False,
               targets_file: str | Path | None = None) -> ScoringRules:
    """The rules of ``version`` scored over exactly ``workloads``, without the held-out rule.

    What every dev run, study and comparison of runs scores by: they train the workloads
    they name and never a held-out variant (`paceline heldout` simulates that rule), and
    under v0.5 the rule would zero each workload whose variant has no logs.

    >>> rules = rules_over("0.5", ["ogbg", "fastmri"])
    >>> rules.base_workloads, rules.held_out_workloads
    (('ogbg', 'fastmri'), ())
    """
    return scoring_rules(version, self_tuning, targets_file, base_workloads=tuple(workloads),
                         held_out_workloads=())


def apply_targets_file(rules: ScoringRules, path: str | Path) -> ScoringRules:
    """``rules`` with the targets (and workload lists) of a targets JSON file in force."""
    path = Path(path)
    if not path.exists():
        raise PacelineError(f"Targets file {path} does not exist.")
    raw = read_json(path, "targets file", unique_keys=True)
    if not isinstance(raw, dict):
        raise PacelineError(f"Targets file {path} must hold a JSON object of workloads.")
    return apply_targets(rules, raw, source=f"targets file {path.name}", name=str(path))


def apply_targets(
    rules: ScoringRules, raw: Mapping[str, Any], source: str = "targets", name: str | None = None
) -> ScoringRules:
    """``rules`` with targets from an already-parsed targets mapping (see module docstring)."""
    where = name or source
    entries = raw.get("workloads")
    if entries is None:
        entries = {k: v for k, v in raw.items() if not k.startswith("_") and k not in _LIST_KEYS
                   and k != "benchmark_version"}
    if not isinstance(entries, dict):
        raise PacelineError(f"{where}: 'workloads' must be an object mapping names to targets.")
    targets = dict(rules.targets)
    for workload, entry in entries.items():
        targets[workload] = _target_from_entry(workload, entry, targets.get(workload), source,
                                               where)
    lists = {}
    for key in _LIST_KEYS:
        if key in raw:
            names = raw[key]
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise PacelineError(f"{where}: '{key}' must be a list of workload names.")
            unknown = [n for n in names if n not in targets]
            if unknown:
                raise PacelineError(f"{where}: '{key}' names {', '.join(unknown)}, which have "
                                    "no target in the file or the ruleset tables.")
            twice = next((n for i, n in enumerate(names) if n in names[:i]), None)
            if twice is not None:
                raise PacelineError(f"{where}: '{key}' lists {twice!r} twice; each workload "
                                    "counts once in the score.")
            lists[key] = tuple(names)
    both = set(lists.get("base_workloads", ())) & set(lists.get("held_out_workloads", ()))
    if both:
        raise PacelineError(f"{where}: {', '.join(sorted(both))} is listed both as a base and "
                            "as a held-out workload.")
    return replace(rules, targets=targets, targets_file=name, **lists)


_LIST_KEYS = ("base_workloads", "held_out_workloads")


def _target_from_entry(
    workload: str, entry: Any, known: Target | None, source: str, where: str
) -> Target:
    if isinstance(entry, bool) or not isinstance(entry, int | float | dict):
        raise PacelineError(f"{where}: the target of {workload!r} must be a number or an object "
                            "with 'validation_target_value'.")
    if not isinstance(entry, dict):
        entry = {"validation_target_value": entry}
    key = ("validation_target" if "validation_target_value" not in entry
           and "validation_target" in entry else "validation_target_value")
    value = _number(entry.get(key), workload, key, where)
    metric = entry.get("target_metric_name", known.metric if known else None)
    if not isinstance(metric, str) or not metric:
        raise PacelineError(f"{where}: {workload!r} needs 'target_metric_name' (it is not a "
                            "workload of the ruleset tables).")
    if "metric_minimized" in entry:
        minimized = entry["metric_minimized"]
        if not isinstance(minimized, bool):
            raise PacelineError(f"{where}: 'metric_minimized' of {workload!r} must be true or "
                                "false.")
    elif known is not None and known.metric == metric:
        minimized = known.minimized
    else:
        try:
            minimized = is_minimized(metric)
        except ValueError:
            raise PacelineError(f"{where}: cannot tell whether {metric!r} ({workload}) is "
                                "minimised; add \"metric_minimized\": true or false.") from None
    budget = known.budget_sec if known else None
    explicit = False
    for key in ("budget_sec", "max_allowed_runtime_sec"):
        if key in entry:
            budget = _number(entry[key], workload, key, where)
            if budget <= 0:
                raise PacelineError(f"{where}: {key!r} of {workload!r} must be a positive "
                                    f"number of seconds, not {entry[key]!r}.")
            explicit = True
            break
    return Target(workload, metric, value, minimized, budget, source, explicit)


def _number(value: Any, workload: str, key: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PacelineError(f"{where}: {key!r} of {workload!r} must be a finite number, "
                            f"not {value!r}.")
    return float(value)


def target_from_meta(workload: str, meta: Mapping[str, Any], where: str) -> Target:
    """A dev-scale trial's target and budget, from its ``meta_data_<n>.json``."""
    try:
        metric = meta["workload.target_metric_name"]
        value = float(meta["workload.validation_target_value"])
        minimized = meta.get("paceline.metric_minimized")
        budget = meta.get("paceline.budget_sec")
    except (KeyError, TypeError, ValueError):
        raise PacelineError(f"{where} says paceline.scale is 'dev' but lacks "
                            "workload.target_metric_name / workload.validation_target_value."
                            ) from None
    if not isinstance(metric, str) or not metric or not math.isfinite(value):
        raise PacelineError(f"{where}: workload.target_metric_name must be a metric name and "
                            "workload.validation_target_value a finite number.")
    if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int | float)
                               or not math.isfinite(budget) or budget < 0):
        raise PacelineError(f"{where}: paceline.budget_sec must be a non-negative number of "
                            f"seconds, not {budget!r}.")
    if not isinstance(minimized, bool):
        try:
            minimized = is_minimized(metric)
        except ValueError:
            raise PacelineError(f"{where}: cannot tell whether {metric!r} is minimised."
                                ) from None
    budget = float(budget) if isinstance(budget, int | float) and budget > 0 else None
    return Target(workload, metric, value, minimized, budget, "dev meta_data")
