"""Plain-text tables of run results, for the terminal.

Per-workload times come from the scorer (:mod:`sdk.scoring`): per study the trial that
reached the target at the earliest evaluation, then the median over studies.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
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


def workload_summary(results: Iterable[Any]) -> dict[str, dict[str, Any]]:
    """Per workload: how many studies and trials ran, the budget, metric, target, best value."""
    by_workload: dict[str, list[Any]] = defaultdict(list)
    for r in results:
        by_workload[r.workload].append(r)
    out = {}
    for workload, trials in by_workload.items():
        first = trials[0]
        out[workload] = {
            "studies": len({t.study for t in trials}),
            "trials": len(trials),
            "budget_sec": first.budget_sec,
            "metric": first.target_metric,
            "target": first.validation_target,
            "best": _best(first.target_metric, trials),
        }
    return out


def _best(metric: str, trials: list[Any]) -> float | None:
    values = [t.best_validation_metric for t in trials if t.best_validation_metric is not None]
    if not values:
        return None
    from sdk.target_reach import is_minimized

    return min(values) if is_minimized(metric) else max(values)


REASON_WIDTH = 120


def trials_table(results: Sequence[Any]) -> str:
    """One row per trial; a ``reason`` column when a trial failed (shortened to fit a line)."""
    from sdk.trial_status import is_failure

    failed = any(is_failure(r.status) for r in results)
    compiled = any(getattr(r, "compile_sec", 0.0) for r in results)
    doubtful = any(not getattr(r, "measurement_trusted", True) for r in results)
    rows = [
        (r.workload, r.study, r.trial, r.status, r.global_step, r.submission_time_sec,
         r.best_validation_metric, r.validation_target, r.time_to_target_sec,
         *([getattr(r, "compile_sec", 0.0)] if compiled else []),
         *(["ok" if getattr(r, "measurement_trusted", True) else "CHECK"] if doubtful else []),
         *([_shorten(r.reason if is_failure(r.status) else "")] if failed else []))
        for r in results
    ]
    return format_table(
        ["workload", "study", "trial", "status", "steps", "time(s)", "best val", "target",
         "time-to-target(s)", *(["compile(s), not charged"] if compiled else []),
         *(["timing"] if doubtful else []), *(["reason"] if failed else [])],
        rows,
    )


def measurement_note(results: Sequence[Any]) -> str:
    """Trials whose dev-clock measurement cannot be trusted, each with what to do ('' if none)."""
    doubtful = [r for r in results if not getattr(r, "measurement_trusted", True)]
    if not doubtful:
        return ""
    lines = [f"{len(doubtful)} trial(s) marked CHECK: their timing cannot be trusted:"]
    for r in doubtful:
        lines.append(f"  {r.workload} study {r.study} trial {r.trial}: {r.measurement_note}.")
    return "\n".join(lines)


def _shorten(text: str, width: int = REASON_WIDTH) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


def failed_trials_note(results: Sequence[Any]) -> str:
    """Which trials failed and where each one's full reason is written ('' if none failed)."""
    from sdk.trial_status import TrialStatus, is_failure

    failed = [r for r in results if is_failure(r.status)]
    if not failed:
        return ""
    lines = [f"{len(failed)} of {len(results)} trial(s) failed and count as misses; each "
             "reason is in the trial's paceline_trial.json:"]
    for r in failed:
        where = f"{r.trial_dir}/paceline_trial.json" if r.trial_dir else "(not written)"
        tb = Path(r.trial_dir or ".") / "paceline_traceback.txt"
        full = f" (traceback: {tb})" if r.trial_dir and tb.is_file() else ""
        lines.append(f"  {r.workload} study {r.study} trial {r.trial}: {r.status}: {where}{full}")
    if any(r.status == TrialStatus.FAILED for r in failed):
        lines.append("Rerun with --pdb (and --jobs 1) to debug a failure where it was raised.")
    return "\n".join(lines)


def workloads_table(results: Sequence[Any], times: dict[str, Any]) -> str:
    """Per workload: the scorer's time-to-target (``times``: workload -> WorkloadTime)."""
    rows = []
    for workload, w in sorted(workload_summary(results).items()):
        scored = times.get(workload)
        t = scored.time_sec if scored is not None else math.inf
        hit = sum(math.isfinite(s.time_sec) for s in scored.studies) if scored else 0
        share = f"{100 * t / w['budget_sec']:.0f}%" if math.isfinite(t) else "-"
        rows.append((workload, w["metric"], w["target"], w["best"],
                     f"{hit}/{w['studies']}", t, w["budget_sec"], share))
    return format_table(
        ["workload", "metric", "target", "best val", "studies hit", "time-to-target(s)",
         "budget(s)", "of budget"],
        rows,
    )
