"""Where dev and official disagree on hit/miss: how far the dev run was from its target.

A disagreement decided by a hair (the dev run's best within a percent of the target) is
seed noise: another study could have turned it. One far off says the entry trains
differently at dev (a hyperparameter that counts steps, a step the dev clock charges
otherwise). The distance is the *shortfall*, how far the dev best falls short of the target
as a share of the target's value: ``(target - best) / target`` for maximised metrics,
``(best - target) / target`` for minimised ones; positive short of it, negative beyond it
(a hit). The dev best is each study's best validation value over what its trials trained
(the whole budget under ``--whole-budget``; a run stopped at its target has its best just
beyond it), the median over studies.

    paceline leaderboard fidelity EXP/leaderboard/self_va100-2026 --official $OFF \\
        --official-targets $T --dev-targets current

    >>> from sdk.scoring.targets import Target
    >>> t = Target("ogbg", "mean_average_precision", 0.5, False, 30.0, "test")
    >>> d = Disagreement("lion", "ogbg", False, True, t, 0.4)
    >>> round(d.shortfall, 2)
    0.2
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sdk.scoring.targets import Target
from sdk.target_reach import shortfall


@dataclass(frozen=True)
class Disagreement:
    """One (entry, workload) pair whose dev hit/miss differs from the official one."""

    entry: str
    workload: str
    dev_hit: bool
    official_hit: bool
    target: Target  # the dev target the run was timed against
    dev_best: float  # median over studies of each study's best validation value (nan: none)

    @property
    def shortfall(self) -> float:
        """How far the dev best falls short of the target, a share of the target's value
        (negative: beyond it; ``nan``: no best; :func:`sdk.target_reach.shortfall`)."""
        return shortfall(self.dev_best, self.target.value, self.target.minimized)

    def to_json(self) -> dict[str, Any]:
        short = self.shortfall
        return {"entry": self.entry, "workload": self.workload, "dev_hit": self.dev_hit,
                "official_hit": self.official_hit, "metric": self.target.metric,
                "dev_target": self.target.value,
                "dev_best": self.dev_best if math.isfinite(self.dev_best) else None,
                "shortfall": short if math.isfinite(short) else None}


def dev_best(workload_time: Any) -> float:
    """The median over studies of each study's best validation value (``nan``: none).

    ``workload_time`` is a :class:`sdk.scoring.time_to_target.WorkloadTime`."""
    pick = min if workload_time.target.minimized else max
    bests = []
    for study in workload_time.studies:
        values = [t.best_value for t in study.trials if math.isfinite(t.best_value)]
        if values:
            bests.append(pick(values))
    return statistics.median(bests) if bests else math.nan


def disagreements(dev: Mapping[str, Any], dev_table: Mapping[str, Mapping[str, float]],
                  official: Mapping[str, Mapping[str, float]],
                  entries: Sequence[str], workloads: Sequence[str]) -> list[Disagreement]:
    """Every disagreeing pair with a dev log: ``dev`` maps entries to their
    :class:`~sdk.scoring.time_to_target.SubmissionTimes`, the tables to seconds (``inf``: a
    miss), as :func:`sdk.scoring.fidelity.fidelity` reads them."""
    out = []
    for entry in entries:
        times = dev.get(entry)
        for w in workloads:
            if times is None or w not in times.workloads or w not in dev_table.get(entry, {}):
                continue
            dev_hit = math.isfinite(dev_table[entry][w])
            official_hit = math.isfinite(official.get(entry, {}).get(w, math.inf))
            if dev_hit != official_hit:
                wt = times.workloads[w]
                out.append(Disagreement(entry, w, dev_hit, official_hit, wt.target,
                                        dev_best(wt)))
    return out


def format_disagreements(rows: Sequence[Disagreement]) -> str:
    """The disagreements as a table, nearest to the target first, with counts of the near."""
    from sdk.text_tables import format_table

    if not rows:
        return "Dev and official agree on hit/miss for every pair run at dev."
    ordered = sorted(rows, key=lambda d: abs(d.shortfall) if math.isfinite(d.shortfall)
                     else math.inf)
    table = [[d.entry, d.workload, "hit" if d.dev_hit else "miss",
              "hit" if d.official_hit else "miss", d.target.metric,
              "n/a" if not math.isfinite(d.dev_best) else f"{d.dev_best:.4g}",
              f"{d.target.value:.6g}",
              "n/a" if not math.isfinite(d.shortfall) else f"{100 * d.shortfall:+.1f}%"]
             for d in ordered]

    def near(share: float) -> int:
        return sum(math.isfinite(d.shortfall) and abs(d.shortfall) <= share for d in rows)

    return "\n".join([
        "Where dev and official disagree: the dev run's best validation value (median over "
        "studies) against the dev target; shortfall = how far short of the target, a share "
        "of its value (negative: beyond it). Near zero, seed noise decides the pair; far "
        "from it, how the entry trains at dev:",
        format_table(["entry", "workload", "dev", "official", "metric", "dev best",
                      "dev target", "shortfall"], table), "",
        f"Disagreements within 1% of the target: {near(0.01)} of {len(rows)}; within 5%: "
        f"{near(0.05)}."])
