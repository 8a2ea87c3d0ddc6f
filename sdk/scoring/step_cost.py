"""Does the dev clock charge each entry's step what the official hardware charges it?

A dev budget buys the NAdamW baseline the share of its step hint that the official budget
bought it (``sdk/scoring/step_share.py``); every other entry gets as many steps as its own
step cost allows. Dev predicts official only if an entry's step costs, relative to the other
entries', what it costs officially: an optimizer whose per-parameter work is a larger share
of a small dev step than of an official one (three moment buffers, Newton-Schulz
iterations) gets fewer steps at dev than its official budget buys it.

The comparison needs no reference entry: per workload and framework, an entry's *relative
step rate* is its steps per second of submission time (median over its trials, the first
eval's interval left out) over the median rate of the entries measured on both sides; the
*step ratio* is the dev relative rate over the official one. 1.0: dev charges the entry's
step as officially; 0.75: it takes a quarter fewer steps at dev than its official budget buys.

    paceline leaderboard fidelity experiments/leaderboard/self_va100-2026 \\
        --official ../shared/algoperf_reference_logs/rolling_a100_scoring_branch/logs/self_tuning

    >>> dev = {("a", "w", "pytorch"): 10.0, ("b", "w", "pytorch"): 5.0}
    >>> off = {("a", "w", "pytorch"): 8.0, ("b", "w", "pytorch"): 8.0}
    >>> [(r.entry, round(r.ratio, 2)) for r in step_ratios(dev, off)]
    [('a', 1.33), ('b', 0.67)]
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sdk.scoring.step_share import trial_step_rate, trial_values

Key = tuple[str, str, str]  # (entry, workload, framework)


@dataclass(frozen=True)
class StepRatio:
    """One entry on one workload: its step rate relative to the field, dev and official."""

    entry: str
    workload: str
    framework: str
    dev_relative: float
    official_relative: float
    field: int  # entries measured on both sides in this workload and framework

    @property
    def ratio(self) -> float:
        """Dev relative rate over official relative rate (1.0: charged as officially)."""
        return self.dev_relative / self.official_relative


def step_rates(paths: Sequence[str | Path]) -> dict[Key, float]:
    """``{(entry, workload, framework): median steps per second}`` over every trial with
    a measurable rate under ``paths`` (any folder of submissions in AlgoPerf's layout)."""
    return {k: statistics.median(v) for k, v in trial_values(paths, trial_step_rate).items()}


def step_ratios(dev: Mapping[Key, float], official: Mapping[Key, float],
                entries: Sequence[str] | None = None) -> list[StepRatio]:
    """Every (entry, workload, framework) measured on both sides whose field (the entries
    measured on both sides there) holds at least two entries; ``entries`` limits the field."""
    both = [k for k in dev if k in official and (entries is None or k[0] in entries)]
    groups: dict[tuple[str, str], list[Key]] = {}
    for key in both:
        groups.setdefault((key[1], key[2]), []).append(key)
    out = []
    for (workload, framework), keys in sorted(groups.items()):
        if len(keys) < 2:
            continue
        dev_mid = statistics.median(dev[k] for k in keys)
        off_mid = statistics.median(official[k] for k in keys)
        out += [StepRatio(entry=k[0], workload=workload, framework=framework,
                          dev_relative=dev[k] / dev_mid, official_relative=official[k] / off_mid,
                          field=len(keys)) for k in sorted(keys)]
    return out


def entry_means(ratios: Sequence[StepRatio]) -> dict[str, float]:
    """Per entry, the geometric mean of its step ratios over the workloads."""
    logs: dict[str, list[float]] = {}
    for r in ratios:
        logs.setdefault(r.entry, []).append(math.log(r.ratio))
    return {e: math.exp(statistics.fmean(v)) for e, v in sorted(logs.items())}


def within(ratios: Sequence[StepRatio], tolerance: float) -> int:
    """How many ratios lie within ``tolerance`` (0.10: ±10%) of 1."""
    return sum(abs(r.ratio - 1.0) <= tolerance for r in ratios)


def format_step_ratios(ratios: Sequence[StepRatio]) -> str:
    """The step ratios as a table (entries by workload) with a summary."""
    from sdk.text_tables import format_table

    if not ratios:
        return ("Step cost: no workload has two entries with step rates at dev and "
                "officially (rates need three evals per trial).")
    workloads = sorted({r.workload for r in ratios})
    means = entry_means(ratios)
    cells = {(r.entry, r.workload): f"{r.ratio:.2f}" for r in ratios}
    entries = sorted(means, key=lambda e: means[e])
    rows = [[e, f"{means[e]:.2f}", *[cells.get((e, w), "-") for w in workloads]]
            for e in entries]
    n = len(ratios)
    return "\n".join([
        "Step cost: each entry's steps per second relative to the median entry of its "
        "framework on the workload, dev over official (1.00: dev charges its step as the "
        "official hardware does; 0.75: a quarter fewer steps at dev than its budget buys "
        "officially):",
        format_table(["entry", "geometric mean", *workloads], rows), "",
        f"Step ratios within ±10%: {within(ratios, 0.10)}/{n}; within ±25%: "
        f"{within(ratios, 0.25)}/{n}."])
