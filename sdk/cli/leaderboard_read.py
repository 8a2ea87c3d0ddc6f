"""A leaderboard run read back: its summary, its dev times and scores, the dev leaderboard
file built from it, and both as text (`paceline leaderboard show`, `sdk/cli/leaderboard_cmd.py`).

    paceline leaderboard show experiments/leaderboard/self_va100-2026
    paceline leaderboard show baselines/reference_timings/dev_leaderboard_self_va100-2026.json
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from sdk.errors import PacelineError
from sdk.rulesets import version_label

SUMMARY_FILE = "leaderboard.json"
SUMMARY_FORMAT = "paceline-leaderboard-run/1"


def read_summary(folder: Path) -> dict[str, Any] | None:
    from sdk.input_files import read_json_object

    path = folder / SUMMARY_FILE
    return read_json_object(path, "leaderboard summary") if path.is_file() else None


def check_official(logs: str | None, targets: str | None) -> None:
    """Refuse, before any work, official logs or a targets file that are not there."""
    if logs is not None and not Path(logs).is_dir():
        raise PacelineError(f"--official {logs} is not a folder of official logs.")
    if targets is not None and not Path(targets).is_file():
        raise PacelineError(f"--official-targets {targets} is not a file.")
    if targets is not None and logs is None:
        raise PacelineError("--official-targets goes with --official LOGS_DIR.")


def load_run(path: str | Path) -> dict[str, Any]:
    """The summary of a leaderboard run from its folder (or its leaderboard.json)."""
    p = Path(path)
    if p.is_file():
        p = p.parent
    summary = read_summary(p) if p.is_dir() else None
    if summary is None:
        found = sorted(p.glob(f"leaderboard/*/{SUMMARY_FILE}")) if p.is_dir() else []
        if len(found) == 1:
            return load_run(found[0].parent)
        raise PacelineError(f"{path} is not a leaderboard run (no {SUMMARY_FILE}); pass "
                            "<experiment-dir>/leaderboard/<ruleset>_v<version>.")
    if summary.get("format") != SUMMARY_FORMAT or not isinstance(summary.get("entries"), dict):
        raise PacelineError(f"{p / SUMMARY_FILE} is not a paceline leaderboard summary.")
    summary["_folder"] = str(p)
    return summary


CURRENT_TARGETS = "current"


def refuse_dev_targets_on_file(dev_targets: str | None) -> None:
    """A dev leaderboard file holds scored times, not curves: ``--dev-targets`` cannot apply."""
    if dev_targets:
        raise PacelineError("--dev-targets needs a run folder: a dev leaderboard file holds "
                            "times, not the curves to score again.")


def dev_rules(summary: dict[str, Any], targets: str | None = None) -> Any:
    """Scoring rules over the run's workloads (no held-out rule: variants are not run).

    ``targets``: a targets JSON that replaces the dev targets the trials recorded (to ask how
    the same runs would score against other targets, e.g. candidate dev targets), or
    ``"current"`` for the dev targets paceline ships now (runs made before a recalibration).
    """
    from sdk.scoring import rules_over
    from sdk.scoring.targets import apply_targets

    rules = rules_over(summary["ruleset_version"], summary["workloads"],
                       self_tuning=summary["ruleset"] == "self",
                       targets_file=None if targets == CURRENT_TARGETS else targets)
    if targets == CURRENT_TARGETS:
        rules = apply_targets(rules, _current_dev_targets(summary), source="targets (current)")
    return rules


def _current_dev_targets(summary: dict[str, Any]) -> dict[str, Any]:
    """The dev targets shipped now for the run's workloads and rules version."""
    from sdk.registry import workloads

    out = {}
    for name in summary["workloads"]:
        n = workloads().dev_numbers(name, summary["ruleset_version"])
        if n is None:
            continue  # no dev workload: the trials' own targets stand
        out[name] = {"target_metric_name": n.target_metric_name,
                     "validation_target_value": n.validation_target_value,
                     "metric_minimized": n.metric_minimized}
    return {"workloads": out}


def dev_times(summary: dict[str, Any], targets: str | None = None) -> dict[str, Any]:
    """``{entry: SubmissionTimes}`` of every entry that ran (its logs read back)."""
    from sdk.scoring import load_submission_times

    rules = dev_rules(summary, targets)
    out = {}
    for name, record in summary["entries"].items():
        if record.get("status") != "ran":
            continue
        folder = Path(summary["_folder"]) / name
        if folder.is_dir():
            out[name] = load_submission_times(folder, rules, framework=record.get("framework"))
    return out


def show_text(folder: str | Path, targets: str | None = None) -> str:
    """The dev leaderboard of a run as text: rank, score, time per workload, what failed
    (``targets``: score against these instead of the trials' own, as :func:`dev_rules`)."""
    from sdk.scoring import score_submissions
    from sdk.text_tables import format_table

    summary = load_run(folder)
    times = dev_times(summary, targets)
    workloads = list(summary["workloads"])
    out = []
    if times:
        from sdk.dev_leaderboard import ranks

        board = score_submissions(list(times.values()), dev_rules(summary, targets))
        scores = board.scores.scores
        place = ranks(scores)
        rows = []
        for name in board.scores.ranking():
            rank = place[name]
            rec = summary["entries"][name]
            rows.append([rank, name, rec.get("framework"), f"{scores[name]:.3f}",
                         *[_spread(times[name], w) for w in workloads]])
        out.append(f"Dev leaderboard ({summary['ruleset']} tuning, rules "
                   f"{version_label(summary['ruleset_version'])}, {len(times)} entries; "
                   "time to target in dev seconds, median [range] over studies):")
        out.append(format_table(["rank", "entry", "framework", "score",
                                 *[f"{w}(s)" for w in workloads]], rows))
    else:
        out.append("No entry ran.")
    others = [f"{n}: {r['status']}: {r.get('reason')}" for n, r in
              sorted(summary["entries"].items()) if r.get("status") != "ran"]
    if others:
        out.append("Not scored:\n  " + "\n  ".join(others))
    return "\n".join(out)


def _spread(times: Any, workload: str) -> str:
    wt = times.workloads.get(workload)
    if wt is None:
        return "-"
    studies = [s.time_sec for s in wt.studies]
    median = "miss" if not math.isfinite(wt.time_sec) else f"{wt.time_sec:.1f}"
    if len(studies) < 2:
        return median
    finite = [t for t in studies if math.isfinite(t)]
    if not finite:
        return f"miss ({len(studies)} studies)"
    missed = len(studies) - len(finite)
    return (f"{median} [{min(finite):.1f}-{max(finite):.1f}"
            f"{f', {missed} missed' if missed else ''}]")


def file_text(data: dict[str, Any]) -> str:
    """A dev leaderboard file as a table."""
    from sdk.text_tables import format_table

    workloads = list(data["workloads"])
    ran = {n: e for n, e in data["entries"].items() if e["status"] == "ran"}
    rows = []
    for name in sorted(ran, key=lambda n: (ran[n]["dev_rank"], n)):
        e = ran[name]
        cells = []
        for w in workloads:
            row = e["workloads"].get(w)
            t = None if row is None else row.get("time_to_target_sec")
            cells.append("-" if row is None else ("miss" if t is None else f"{t:.1f}"))
        rows.append([e["dev_rank"], name, e["framework"], f"{e['dev_score']:.3f}",
                     "-" if e.get("official_score") is None else f"{e['official_score']:.3f}",
                     e.get("official_rank") or "-", *cells])
    out = [f"Dev leaderboard ({data['ruleset']} tuning, rules "
           f"{version_label(data['ruleset_version'])}; built with: {data['command']}):",
           format_table(["rank", "entry", "framework", "dev score", "official score",
                         "official rank", *[f"{w}(s)" for w in workloads]], rows)]
    others = [f"{n}: {e['status']}: {e.get('reason')}" for n, e in sorted(data["entries"].items())
              if e["status"] != "ran"]
    if others:
        out.append("Not scored:\n  " + "\n  ".join(others))
    return "\n".join(out)


# --- the dev leaderboard file ---------------------------------------------------------------

def official_board(logs: str | Path, version: str, ruleset: str,
                   targets: str | None) -> tuple[dict[str, Any], Any]:
    """``({entry: SubmissionTimes}, Leaderboard)`` of the official logs, scored as one group."""
    from sdk.scoring import load_submissions_times, score_submissions, scoring_rules

    rules = scoring_rules(version, self_tuning=ruleset == "self", targets_file=targets)
    times = {t.name: t for t in load_submissions_times([logs], rules)}
    return times, score_submissions(list(times.values()), rules)


def build_dev_leaderboard(folder: str | Path, official: str | None,
                          official_targets: str | None,
                          dev_targets: str | None = None) -> dict[str, Any]:
    """The dev leaderboard file's content (sdk/dev_leaderboard.py) from a run's folder."""
    from sdk.dev_leaderboard import FORMAT, ranks, scores_of

    summary = load_run(folder)
    workloads = list(summary["workloads"])
    times = dev_times(summary, dev_targets)
    table = {n: {w: t.times.get(w, math.inf) for w in workloads} for n, t in times.items()}
    scores = scores_of(table, workloads)
    place = ranks(scores)
    off_scores: dict[str, float] = {}
    off_ranks: dict[str, int] = {}
    official_info = None
    if official:
        _, board = official_board(official, summary["ruleset_version"], summary["ruleset"],
                                  official_targets)
        off_scores = board.scores.scores
        off_ranks = ranks(off_scores)
        official_info = {"logs": str(official), "targets": official_targets,
                         "ruleset_version": summary["ruleset_version"],
                         "entries": len(off_scores)}
    entries = {}
    for name, rec in sorted(summary["entries"].items()):
        status = rec["status"] if rec["status"] != "ran" or name in times else "failed"
        entry = {"framework": rec.get("framework") or "unknown",
                 "upstream": rec.get("upstream") or {"repository": "unknown",
                                                     "commit": "unknown",
                                                     "path": rec.get("folder", "unknown")},
                 "command": rec.get("command") or "(not run)", "status": status,
                 "reason": rec.get("reason") or ("" if status == "ran" else "no logs"),
                 "note": rec.get("note", ""), "attempted": list(rec.get("workloads") or []),
                 "dev_score": scores.get(name), "dev_rank": place.get(name),
                 "official_score": off_scores.get(name), "official_rank": off_ranks.get(name),
                 "workloads": {}}
        if name in times:
            for w, wt in times[name].workloads.items():
                if w not in workloads:
                    continue
                finite = math.isfinite(wt.time_sec)
                entry["workloads"][w] = {
                    "time_to_target_sec": wt.time_sec if finite else None,
                    "study_times": [s.time_sec if math.isfinite(s.time_sec) else None
                                    for s in wt.studies],
                    "budget_sec": wt.target.budget_sec, "metric": wt.target.metric,
                    "target": wt.target.value,
                }
        entries[name] = entry
    return {"format": FORMAT, "scale": "dev", "ruleset": summary["ruleset"],
            "ruleset_version": summary["ruleset_version"], "command": summary["command"],
            "created": summary.get("created"), "seed": summary.get("seed"),
            "workloads": workloads, "official": official_info, "entries": entries}


