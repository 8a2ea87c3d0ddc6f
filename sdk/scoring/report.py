"""The leaderboard as terminal text and as a JSON document.

    paceline score logs/external_tuning --ruleset-version 0.6 --json scores.json
"""

from __future__ import annotations

import math
from typing import Any

from sdk.scoring.leaderboard import Leaderboard
from sdk.text_tables import format_table

# Header abbreviations so a row of nine workloads fits a terminal.
_PREFIXES = ("imagenet_", "librispeech_")
MAX_NOTES_SHOWN = 10


def short_name(workload: str, others: list[str]) -> str:
    """``imagenet_resnet`` -> ``resnet`` unless that would clash with another column."""
    short = _strip_prefix(workload)
    clash = any(o != workload and _strip_prefix(o) == short for o in others)
    return workload if clash else short


def _strip_prefix(workload: str) -> str:
    for prefix in _PREFIXES:
        if workload.startswith(prefix):
            return workload[len(prefix):]
    return workload


def fmt_time(value: float) -> str:
    if value is None or math.isnan(value):
        return "-"
    if math.isinf(value):
        return "inf"
    if value >= 1000:
        return f"{value:.0f}"
    return f"{value:.4g}"


def fmt_ratio(value: float) -> str:
    return "inf" if math.isinf(value) else f"{value:.2f}"


def _columns(board: Leaderboard) -> list[str]:
    return list(board.rules.base_workloads) + list(board.rules.held_out_workloads)


def text_report(board: Leaderboard, verbose: bool = False) -> str:
    """Times, ratios, scores and warnings as plain-text tables."""
    rules = board.rules
    scores = board.scores
    ranking = scores.ranking()
    cols = _columns(board)
    extra = sorted({w for s in board.submissions for w in s.workloads} - set(cols))
    heads = [short_name(w, cols + extra) + _marker(w, rules) for w in cols + extra]
    ruleset = "self-tuning" if rules.self_tuning else "external tuning"
    trials = "" if rules.self_tuning else f" x {rules.num_trials} trials"
    targets = f"ruleset {rules.version} tables" + (
        f" overridden by {rules.targets_file}" if rules.targets_file else "")
    scales = {s.scale for s in board.submissions if s.scale}
    if "dev" in scales:
        targets += "; dev-scale trials use the targets in their meta_data"
    out = [
        f"AlgoPerf {rules.version} rules, {ruleset} ({rules.num_studies} studies{trials}); "
        f"targets: {targets}.",
        f"Per study: {_rule_text(board.trial_rule)}; per workload: median over studies; "
        f"{'targets reached after the budget do not count' if board.enforce_budget else 'budget not checked'}.",
        "",
        "Time to target (s), median over studies (inf: missed, -: no logs"
        + ("; *: held-out variant" if rules.held_out_workloads else "")
        + ("; ~: not scored under these rules" if extra else "") + "):",
        format_table(["submission", *heads],
                     [[s, *(fmt_time(board.times[s].get(w, math.nan)) for w in cols + extra)]
                      for s in ranking]),
        "",
        f"Performance ratios t / fastest (credit up to {rules.r_max:g}; inf: no credit):",
        format_table(["submission", *heads[:len(rules.base_workloads)]],
                     [[s, *(fmt_ratio(scores.ratios[s][w]) for w in rules.base_workloads)]
                      for s in ranking]),
    ]
    if scores.reasons:
        out += ["", "Times the 4x / held-out rule turned into misses:"]
        out += [f"  {s} on {w}: {why}." for (s, w), why in sorted(scores.reasons.items())]
    out += ["", _scores_table(board, ranking)]
    if board.warnings:
        out += ["", f"Warnings ({len(board.warnings)}):"]
        out += [f"  - {w}" for w in board.warnings]
    if board.notes:
        if verbose or len(board.notes) <= MAX_NOTES_SHOWN:
            out += ["", "Notes (skipped or not scored):"] + [f"  - {n}" for n in board.notes]
        else:
            out += ["", f"{len(board.notes)} notes on skipped folders and unscored workloads "
                        "(--verbose lists them)."]
    if verbose:
        out += ["", "Per study (chosen trial and its time):", _studies_table(board)]
    return "\n".join(out)


def _marker(workload: str, rules) -> str:
    if workload in rules.held_out_workloads:
        return "*"
    return "" if workload in rules.base_workloads else "~"


def _rule_text(rule: str) -> str:
    if rule == "fastest":
        return "the trial with the smallest time to target"
    return "the trial that reached the target at the earliest eval (ties: the faster)"


def _scores_table(board: Leaderboard, ranking: list[str]) -> str:
    scores = board.scores
    rules = board.rules
    main = "grid" if scores.method == "grid" else "exact"
    headers = ["rank", "submission", f"score ({main})",
               f"score ({'exact' if main == 'grid' else 'grid'})"]
    if board.speedups:
        headers += [f"speedup vs {board.baseline}", "time saved"]
    rows = []
    for i, s in enumerate(ranking, start=1):
        first, second = (scores.grid[s], scores.exact[s]) if main == "grid" else \
            (scores.exact[s], scores.grid[s])
        row: list[Any] = [i, s, f"{first:.4f}", f"{second:.4f}"]
        if board.speedups:
            sp = board.speedups[s]
            row += [f"{sp.geomean:.3f}x", f"{100 * sp.time_reduction:.1f}%"]
        rows.append(row)
    title = (f"Benchmark score: area under the performance profile over tau in "
             f"[1, {rules.r_max:g}] / {rules.r_max - 1:g} ({len(rules.base_workloads)} "
             f"workloads; grid: {rules.tau_grid_points} points + trapezoid, as the reference "
             "scorer):")
    return title + "\n" + format_table(headers, rows)


def _studies_table(board: Leaderboard) -> str:
    rows = []
    for sub in board.submissions:
        for w, wt in sub.workloads.items():
            for st in wt.studies:
                chosen = st.chosen.trial if st.chosen else "-"
                rows.append([sub.name, w, st.study, len(st.trials), chosen,
                             fmt_time(st.time_sec)])
    return format_table(["submission", "workload", "study", "trials", "chosen", "time (s)"],
                        rows)


def json_report(board: Leaderboard) -> dict[str, Any]:
    """Everything the text shows, and the per-study detail, as a JSON-ready dict."""
    rules = board.rules
    scores = board.scores
    ranking = scores.ranking()
    seen = {w for s in board.submissions for w in s.workloads} | set(_columns(board))
    targets = {}
    for w in sorted(seen):
        t = next((s.workloads[w].target for s in board.submissions if w in s.workloads),
                 rules.targets.get(w))
        if t is not None:
            targets[w] = {"metric": t.column, "value": t.value, "minimized": t.minimized,
                          "budget_sec": t.budget_sec, "source": t.source}
    subs = {}
    for sub in board.submissions:
        s = sub.name
        workloads = {}
        for w, wt in sub.workloads.items():
            entry: dict[str, Any] = {
                "time_to_target_sec": wt.time_sec,
                "framework": wt.framework,
                "studies": [{
                    "study": st.study, "time_sec": st.time_sec,
                    "chosen_trial": st.chosen.trial if st.chosen else None,
                    "trials": [{"trial": t.trial, "time_sec": t.time_sec, "eval_index": t.index,
                                "num_evals": t.num_evals, "best_value": t.best_value}
                               for t in st.trials],
                } for st in wt.studies],
            }
            if w in rules.base_workloads:
                entry["counted_time_sec"] = scores.kept_times[s][w]
                entry["ratio"] = scores.ratios[s][w]
                entry["excluded_because"] = scores.reasons.get((s, w))
            workloads[w] = entry
        for w in rules.base_workloads:
            if w not in workloads:
                workloads[w] = {"time_to_target_sec": None, "counted_time_sec": None,
                                "ratio": scores.ratios[s][w], "excluded_because": "no logs"}
        sp = board.speedups[s] if board.speedups else None
        subs[s] = {
            "rank": ranking.index(s) + 1,
            "score": scores.scores[s],
            "score_grid": scores.grid[s],
            "score_exact": scores.exact[s],
            "speedup": None if sp is None else {
                "baseline": sp.baseline, "geomean": sp.geomean,
                "time_reduction": sp.time_reduction, "per_workload": sp.per_workload},
            "workloads": workloads,
            "warnings": sub.problems,
        }
    return {
        "ruleset_version": rules.version,
        "ruleset": rules.ruleset,
        "score_method": scores.method,
        "trial_rule": board.trial_rule,
        "budget_enforced": board.enforce_budget,
        "num_studies": rules.num_studies,
        "num_trials": rules.num_trials,
        "base_workloads": list(rules.base_workloads),
        "held_out_workloads": list(rules.held_out_workloads),
        "targets_file": rules.targets_file,
        "targets": targets,
        "ranking": ranking,
        "submissions": subs,
        "profiles": {"tau": [float(t) for t in scores.taus],
                     "rho": {s: [float(v) for v in scores.profiles[s]] for s in ranking}},
        "warnings": board.warnings,
        "notes": board.notes,
    }
