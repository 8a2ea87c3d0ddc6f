"""External tuning: the benchmark's protocol, better searches, and freezing a search space.

    paceline tune --workload mnist --submission nadamw --studies 2 --trials 5 --workers 2
    paceline tune --workload mnist --submission nadamw --search bayesian --trials 16
    paceline freeze experiments/dev/external_tuning/nadamw_bayesian --points 5 \\
        --out tuning_search_space.json

From Python: :class:`Tuner` (ask/tell, save/load), :class:`Observation` (what a trial did),
:class:`SearchStrategy` (what a search decides; subclass it for a plug-in),
:class:`QuasiRandomSearch` and :class:`BayesianSearch` (the built-in ones), :class:`Study`
(the resumable, parallel protocol behind ``paceline tune``), :class:`Freezer` (the simulation
behind ``paceline freeze``). Names are imported on first use, so importing the package stays
cheap (the CLI imports it on every start).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Tuner": "external_tuning.tuner",
    "Suggestion": "external_tuning.tuner",
    "SearchStrategy": "external_tuning.strategy",
    "Observation": "external_tuning.observations",
    "TrialRecord": "external_tuning.observations",
    "imputed_time": "external_tuning.observations",
    "objective": "external_tuning.observations",
    "shared_objective": "external_tuning.observations",
    "TargetOutOfReach": "external_tuning.early_stopping",
    "QuasiRandomSearch": "external_tuning.strategies.quasi_random",
    "BayesianSearch": "external_tuning.strategies.bayesian",
    "Study": "external_tuning.study",
    "TuneConfig": "external_tuning.study",
    "InlineExecutor": "external_tuning.executors",
    "ProcessExecutor": "external_tuning.executors",
    "SubmititExecutor": "external_tuning.executors",
    "Freezer": "external_tuning.freeze",
    "load_evidence": "external_tuning.evidence",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'external_tuning' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
