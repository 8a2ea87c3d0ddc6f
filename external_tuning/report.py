"""What a tuning experiment found, as tables and JSON.

* per trial: status, time-to-target, how far the validation metric got, the search's
  objective, and why a miss missed;
* per workload, the benchmark's number: per study the trial that reached the target at the
  earliest eval (:func:`sdk.scoring.time_to_target.pick_trial`), then the median over
  studies, a miss counting as infinite;
* per configuration (distinct hyperparameter point): its median time on each workload over
  the trials that ran it, and the benchmark score it would get if every configuration were a
  submission of its own (exact profile integral, ``r_max`` from the ruleset table). This is
  how a shared Bayesian search picks its best configuration, and what ``paceline freeze``
  starts from.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from typing import Any

from external_tuning.observations import Observation, imputed_time
from external_tuning.study import Group
from sdk.scoring.profiles import benchmark_scores
from sdk.scoring.time_to_target import TrialTime, median_time, pick_trial
from sdk.text_tables import format_table
from sdk.trial_status import TrialStatus

STATUS_REASONS = {
    TrialStatus.BUDGET_EXHAUSTED: "the budget ran out before the target",
    TrialStatus.MAX_GLOBAL_STEPS: "--max-global-steps was reached before the target",
    TrialStatus.TRAINING_COMPLETE: "the submission ended training before the target",
}


def point_key(hyperparameters: dict[str, Any]) -> str:
    """A configuration's identity: its hyperparameters as canonical JSON."""
    return json.dumps(hyperparameters, sort_keys=True)


def trial_rows(groups: Sequence[Group]) -> list[dict[str, Any]]:
    rows = []
    for g in groups:
        for r in g.tuner.records:
            for w in g.workloads:
                obs = r.observations.get(w)
                rows.append({
                    "workload": w, "study": g.study, "trial": r.index + 1,
                    "source": r.source,
                    "status": obs.status if obs else "pending",
                    "time_to_target_sec": obs.time_to_target if obs else None,
                    "best_validation_metric": obs.best_value if obs else None,
                    "validation_target": obs.target if obs else None,
                    "budget_sec": obs.budget if obs else None,
                    "imputed_time_sec": imputed_time(obs, g.tuner.config.cap) if obs else None,
                    "objective": r.objective,
                    "reason": (obs.reason or STATUS_REASONS.get(obs.status, "")) if obs else "",
                    "hyperparameters": r.hyperparameters,
                    "trial_dir": obs.trial_dir if obs else None,
                })
    return rows


def _trial_time(obs: Observation, label: str) -> TrialTime:
    index = obs.eval_index
    time = obs.time_to_target if obs.time_to_target is not None else math.inf
    best = obs.best_value
    last = obs.curve[-1][0] if obs.curve else math.nan
    return TrialTime(label, obs.trial_dir or label, len(obs.curve), index, time,
                     math.nan if best is None else best, last)


def workload_times(groups: Sequence[Group]) -> dict[str, dict[str, Any]]:
    """Per workload: per-study time (the scorer's trial rule) and the median over studies."""
    studies: dict[str, dict[int, list[TrialTime]]] = {}
    budgets: dict[str, float] = {}
    for g in groups:
        for r in g.tuner.records:
            for w, obs in r.observations.items():
                studies.setdefault(w, {}).setdefault(g.study, []).append(
                    _trial_time(obs, f"study_{g.study}/trial_{r.index + 1}"))
                budgets[w] = obs.budget
    out = {}
    for w, by_study in studies.items():
        per_study = {}
        for s, trials in sorted(by_study.items()):
            chosen = pick_trial(trials)
            per_study[s] = {"time_sec": chosen.time_sec if chosen else math.inf,
                            "trial": chosen.trial if chosen else None}
        out[w] = {"time_to_target_sec": median_time([v["time_sec"] for v in per_study.values()]),
                  "budget_sec": budgets[w], "studies": per_study,
                  "studies_reached": sum(math.isfinite(v["time_sec"])
                                         for v in per_study.values())}
    return out


def configurations(groups: Sequence[Group], r_max: float) -> list[dict[str, Any]]:
    """Distinct configurations, best first by the score they would get as submissions."""
    workloads = sorted({w for g in groups for w in g.workloads})
    runs: dict[str, dict[str, list[float]]] = {}
    points: dict[str, dict[str, Any]] = {}
    trials: dict[str, list[str]] = {}
    objectives: dict[str, list[float]] = {}
    for g in groups:
        for r in g.tuner.records:
            key = point_key(r.hyperparameters)
            points[key] = r.hyperparameters
            if r.objective is not None:
                objectives.setdefault(key, []).append(r.objective)
            for w, obs in r.observations.items():
                t = obs.time_to_target if obs.time_to_target is not None else math.inf
                runs.setdefault(key, {}).setdefault(w, []).append(t)
                trials.setdefault(key, []).append(f"study_{g.study}/{w}/trial_{r.index + 1}")
    times = {k: {w: statistics.median(v[w]) if w in v else math.nan for w in workloads}
             for k, v in runs.items()}
    if not times:
        return []
    scores = benchmark_scores(times, workloads, r_max=r_max, method="exact")
    out = [{"hyperparameters": points[k], "times_sec": times[k],
            "runs": {w: len(runs[k].get(w, [])) for w in workloads}, "score": scores[k],
            "objective": statistics.mean(objectives[k]) if objectives.get(k) else None,
            "trials": trials[k]} for k in times]
    # Ties (e.g. every configuration missed) are broken by the search's own objective.
    return sorted(out, key=lambda c: (-c["score"], _geo(c["times_sec"]),
                                      math.inf if c["objective"] is None else c["objective"]))


def _geo(times: dict[str, float]) -> float:
    finite = [t for t in times.values() if math.isfinite(t) and t > 0]
    if len(finite) < len(times):
        return math.inf
    return math.exp(sum(math.log(t) for t in finite) / len(finite))


def summary(groups: Sequence[Group], r_max: float) -> dict[str, Any]:
    return {"trials": trial_rows(groups), "workloads": workload_times(groups),
            "configurations": configurations(groups, r_max)}


def text(summary_data: dict[str, Any], top: int = 5) -> str:
    """The terminal report: trials, workloads, best configurations."""
    trials = summary_data["trials"]
    rows = [(t["workload"], t["study"], t["trial"], t["status"], t["best_validation_metric"],
             t["validation_target"], t["time_to_target_sec"], t["objective"], t["reason"][:100])
            for t in trials]
    parts = [format_table(["workload", "study", "trial", "status", "best val", "target",
                           "time-to-target(s)", "objective", "why it missed"], rows)]
    wl_rows = []
    for w, d in sorted(summary_data["workloads"].items()):
        t = d["time_to_target_sec"]
        wl_rows.append((w, f"{d['studies_reached']}/{len(d['studies'])}", t, d["budget_sec"],
                        f"{100 * t / d['budget_sec']:.0f}%" if math.isfinite(t) else "-"))
    parts.append(format_table(["workload", "studies hit", "time-to-target(s)", "budget(s)",
                               "of budget"], wl_rows))
    confs = summary_data["configurations"][:top]
    if confs:
        workloads = list(confs[0]["times_sec"])
        names = varying([c["hyperparameters"] for c in summary_data["configurations"]])
        c_rows = [(i + 1, c["score"], *[_shown(c["times_sec"][w]) for w in workloads],
                   short(c["hyperparameters"], names)) for i, c in enumerate(confs)]
        parts.append("Best configurations (score: the benchmark score each would get if every "
                     "configuration tried were a submission; hyperparameters that vary):\n"
                     + format_table(["rank", "score", *[f"{w}(s)" for w in workloads],
                                     "hyperparameters"], c_rows))
    return "\n\n".join(parts)


def _shown(seconds: float) -> float | None:
    """A time for the table: NaN (never run on that workload) shows as '-'."""
    return None if math.isnan(seconds) else seconds


def varying(points: Sequence[dict[str, Any]]) -> list[str]:
    """The hyperparameters whose value differs between ``points`` (all when only one)."""
    if len(points) < 2:
        return list(points[0]) if points else []
    return [k for k in points[0] if len({json.dumps(p.get(k)) for p in points}) > 1]


def short(point: dict[str, Any], names: Sequence[str] | None = None) -> str:
    """A point as compact JSON: 4 significant digits, only ``names`` when given."""
    keys = point if names is None else [k for k in names if k in point]
    return json.dumps({k: float(f"{point[k]:.4g}") if isinstance(point[k], float) else point[k]
                       for k in keys})
