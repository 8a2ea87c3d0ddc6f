"""The target-setting toolchain: AlgoPerf's procedure in miniature and ``paceline targets``.

:mod:`~workloads.target_setting.procedure` tunes the target-setting algorithms, reruns the
best point and derives a dev workload's numbers; :mod:`~workloads.target_setting.cli` is the
``paceline targets`` command around it. The provenance record and the generated numbers
blocks are written by :mod:`workloads.calibration_record`, the docs tables by
:mod:`workloads.doc_tables`. The names other packages use are re-exported here, loaded on first use:

    from workloads.target_setting import subject_for, measure_speed

    paceline targets mnist --scale dev --runtime 15 --trials 5 --seeds 5 --write
"""

from __future__ import annotations

import importlib
from typing import Any

# What dev_clock, heldout and the benchmarks import from here, loaded on first use so that
# `paceline --help` does not import the training loop.
__all__ = [
    "PROCEDURE", "Plan", "Subject", "TargetOptions", "TrialRecord", "derive_numbers",
    "eval_rows", "load_or_make_plan", "measure_speed", "numbers_from_record", "round_easier",
    "run_one", "set_targets", "subject_for", "timing_from_rows",
]


def __getattr__(name: str) -> Any:
    if name == "measure_speed":
        return getattr(importlib.import_module("workloads.target_setting.speed_probe"), name)
    if name in __all__:
        return getattr(importlib.import_module("workloads.target_setting.procedure"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
