"""Plain-text tables of run results, for the terminal.

The per-workload time follows the benchmark: per study the trial that reached the target
first, then the median over studies (a miss is infinite).
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any


def format_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """Left-aligned text columns, numbers right-aligned."""
    body = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in body)) if body else len(h)
              for i, h in enumerate(headers)]
    def line(cells: Sequence[str], numeric: Sequence[bool]) -> str:
        return "  ".join(c.rjust(w) if n else c.ljust(w)
                         for c, w, n in zip(cells, widths, numeric, strict=True)).rstrip()
    numeric = [all(_is_num(r[i]) for r in body) if body else False for i in range(len(headers))]
    out = [line(list(headers), numeric), line(["-" * w for w in widths], numeric)]
    out += [line(r, numeric) for r in body]
    return "\n".join(out)


def _is_num(text: str) -> bool:
    try:
        float(text.rstrip("%x"))
        return True
    except ValueError:
        return text in ("inf", "-")


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isinf(value):
            return "inf"
        return f"{value:.4g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def workload_times(results: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """Per workload: median over studies of the best trial's time-to-target, and context."""
    by_study: dict[str, dict[int, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for r in results:
        by_study[r.workload][r.study].append(r)
    out = {}
    for workload, studies in by_study.items():
        study_times = []
        for trials in studies.values():
            times = [t.time_to_target_sec for t in trials if t.time_to_target_sec is not None]
            study_times.append(min(times) if times else math.inf)
        first = next(iter(studies.values()))[0]
        out[workload] = {
            "time_to_target_sec": statistics.median(study_times),
            "studies": len(studies),
            "trials": sum(len(t) for t in studies.values()),
            "reached": sum(math.isfinite(t) for t in study_times),
            "budget_sec": first.budget_sec,
            "metric": first.target_metric,
            "target": first.validation_target,
            "best": _best(first.target_metric, [t for ts in studies.values() for t in ts]),
        }
    return out


def _best(metric: str, trials: list[Any]) -> float | None:
    values = [t.best_validation_metric for t in trials if t.best_validation_metric is not None]
    if not values:
        return None
    from sdk.time_to_target import is_minimized

    return min(values) if is_minimized(metric) else max(values)


def trials_table(results: Sequence[Any]) -> str:
    rows = [
        (r.workload, r.study, r.trial, r.status, r.global_step, r.submission_time_sec,
         r.best_validation_metric, r.validation_target, r.time_to_target_sec)
        for r in results
    ]
    return format_table(
        ["workload", "study", "trial", "status", "steps", "time(s)", "best val", "target",
         "time-to-target(s)"],
        rows,
    )


def workloads_table(results: Sequence[Any]) -> str:
    rows = []
    for workload, w in sorted(workload_times(results).items()):
        t = w["time_to_target_sec"]
        share = f"{100 * t / w['budget_sec']:.0f}%" if math.isfinite(t) else "-"
        rows.append((workload, w["metric"], w["target"], w["best"],
                     f"{w['reached']}/{w['studies']}", t, w["budget_sec"], share))
    return format_table(
        ["workload", "metric", "target", "best val", "studies hit", "time-to-target(s)",
         "budget(s)", "of budget"],
        rows,
    )
