"""How much training an official budget buys, measured from published logs.

AlgoPerf defines a workload's ``step_hint`` as the approximate number of steps the baseline can
take in the allowed runtime (``algoperf/spec.py``, ``Workload.step_hint``). Its v0.5 numbers
were set that way (budget = 4/3 of the target-setting runtime, whose schedules spanned 3/4 of
the step hint), but later rules kept those step hints while the code and the hardware changed:
on v0.6's 8x V100 the NAdamW baseline takes 2.8 step hints' worth of fastMRI steps in the
budget and 0.17 of the Conformer's; on 2026's 4x A100 0.2 to 1.1. The *step share* of a
workload is that measured number: the baseline's steps per second of submission time (the
first eval's interval, which holds compilation, left out) times the budget, over the step
hint. Dev budgets buy the same share of dev reference steps (``workloads/common/numbers.py``).

The share depends on the framework: on the A100s a PyTorch Conformer step costs about a third
of a JAX one and a PyTorch ResNet-50 step about twice (every published trial, median per
framework). The baseline ran in one framework (JAX), so a framework it did not run in gets
the baseline's share times that framework's median share over the baseline's, both over
every published trial of the round (``framework_step_shares``; budgets and step hints are the
same for every entry, so the ratio of shares is the ratio of step rates).

    python benchmarks/bench_step_share.py LOGS/submission [LOGS/submission ...]
    python benchmarks/bench_step_share.py --field LOGS/round -- LOGS/round/baseline
"""

from __future__ import annotations

import csv
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path

from sdk.scoring.reader import TrialDir, csv_state, find_submissions, read_meta

BUDGET_KEY = "workload.max_allowed_runtime_sec"
HINT_KEY = "workload.step_hint"


def trial_step_rate(trial: TrialDir) -> float | None:
    """The trial's steps per second of submission time, the first eval's interval (which
    holds compilation) left out; None with fewer than three evals or a broken log."""
    if csv_state(trial) != "ok":
        return None
    with open(trial.csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    if len(rows) < 3:
        return None
    first, last = rows[1], rows[-1]
    try:
        steps = int(last["global_step"]) - int(first["global_step"])
        seconds = (float(last["accumulated_submission_time"])
                   - float(first["accumulated_submission_time"]))
    except (KeyError, TypeError, ValueError):
        return None
    return steps / seconds if steps > 0 and seconds > 0 else None


def trial_step_share(trial: TrialDir) -> float | None:
    """The share of the step hint this trial's step rate fills in its budget (None: unknown)."""
    meta = read_meta(trial)
    if not meta or BUDGET_KEY not in meta or HINT_KEY not in meta:
        return None
    rate = trial_step_rate(trial)
    if rate is None:
        return None
    return rate * float(meta[BUDGET_KEY]) / float(meta[HINT_KEY])


def step_shares(paths: Sequence[str | Path]) -> dict[str, list[float]]:
    """``{workload: [share of every trial that has one]}`` over the submissions in ``paths``."""
    out: dict[str, list[float]] = {}
    for (workload, _), shares in shares_by_framework(paths).items():
        out.setdefault(workload, []).extend(shares)
    return dict(sorted(out.items()))


def trial_values(paths: Sequence[str | Path], measure: Callable[[TrialDir], float | None]
                 ) -> dict[tuple[str, str, str], list[float]]:
    """``{(submission, workload, framework): [measure(trial) of every trial that has one]}``
    over the submissions in ``paths``; the framework from the ``<workload>_<framework>`` folder
    of AlgoPerf's layout ("unknown" where the folder has no suffix)."""
    out: dict[tuple[str, str, str], list[float]] = {}
    for tree in find_submissions(paths):
        for trial in tree.trials:
            value = measure(trial)
            if value is not None:
                key = (tree.name, trial.workload, trial.framework or "unknown")
                out.setdefault(key, []).append(value)
    return dict(sorted(out.items()))


def shares_by_framework(paths: Sequence[str | Path]) -> dict[tuple[str, str], list[float]]:
    """``{(workload, framework): [shares of every submission's trials]}``."""
    out: dict[tuple[str, str], list[float]] = {}
    for (_, workload, framework), shares in trial_values(paths, trial_step_share).items():
        out.setdefault((workload, framework), []).extend(shares)
    return dict(sorted(out.items()))


def framework_step_shares(baseline: Sequence[str | Path], field: Sequence[str | Path],
                          digits: int = 3) -> dict[str, dict[str, float]]:
    """``{workload: {framework: share}}`` for every framework the ``field`` logs ran in.

    A framework the baseline ran in gets the baseline's median share; another one the
    baseline's share (in its first framework, by name) times the ratio of the two frameworks'
    median shares over ``field``. A workload the baseline has no share for is left out (its
    share stays 1, the step hint's definition).
    """
    base, every = shares_by_framework(baseline), shares_by_framework(field)
    out: dict[str, dict[str, float]] = {}
    for workload in sorted({w for w, _ in base}):
        own = {f: statistics.median(v) for (w, f), v in base.items() if w == workload}
        ref = min(own)
        for (w, f), v in every.items():
            if w != workload or f in own or (w, ref) not in every:
                continue
            own[f] = own[ref] * statistics.median(v) / statistics.median(every[(w, ref)])
        out[workload] = {f: round(s, digits) for f, s in sorted(own.items())}
    return out


def median_step_shares(paths: Sequence[str | Path], digits: int = 3) -> dict[str, float]:
    """``{workload: median share}``, rounded to ``digits`` decimals."""
    return {w: round(statistics.median(v), digits) for w, v in step_shares(paths).items()}
