"""The dev leaderboard as data: real AlgoPerf entries' dev timings, shipped to rank against.

    paceline leaderboard run ../submissions_algorithms/submissions/self_tuning --ruleset self \\
        --ruleset-version 0.6 --official ../shared/algoperf_reference_logs/rolling_a100_scoring_branch/logs/self_tuning \\
        --write baselines/reference_timings/dev_leaderboard_self_v0.6.json
    paceline leaderboard show baselines/reference_timings/dev_leaderboard_self_v0.6.json

File format (``dev_leaderboard_<ruleset>_v<version>.json``, :data:`FORMAT`)::

    {"format": "paceline-dev-leaderboard/1", "scale": "dev", "ruleset": "self",
     "ruleset_version": "0.6", "command": "paceline leaderboard run ...",
     "created": "2026-12-05T...", "workloads": ["fastmri", "ogbg"],
     "official": {"logs": ".../logs/self_tuning", "targets": null, "ruleset_version": "0.6",
                  "entries": 17} | null,
     "entries": {
       "lion": {"framework": "pytorch",
                "upstream": {"repository": "...", "commit": "12c8e4ea...",
                             "path": "submissions/self_tuning/lion"},
                "command": "paceline run --submission .../lion/submission.py ...",
                "status": "ran", "reason": "", "note": "", "attempted": ["fastmri"],
                "dev_score": 0.41, "dev_rank": 3,
                "official_score": 0.62, "official_rank": 5,
                "workloads": {"fastmri": {"time_to_target_sec": 12.9, "study_times": [12.9],
                                          "budget_sec": 41.9, "metric": "ssim",
                                          "target": 0.748558}}}}}

``time_to_target_sec`` is ``null`` for a miss and is the median of ``study_times`` (one per
study: the spread). ``status`` is ``ran`` (scored), or ``failed`` / ``skipped`` with the one
``reason`` line; such entries keep ``dev_score`` ``null``. ``attempted`` lists the workloads
the entry's run tried (a failed entry missed all of them; fidelity counts it so). ``dev_score`` is the benchmark
score over ``workloads`` with every ``ran`` entry scored as one group; ``official_*`` are the
entry's score and rank among all entries of the official logs (``null`` when the logs have no
folder of that name). :func:`check_dev_leaderboard` enforces all of this, and that every
``ran`` entry is scored and its score follows from its times.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sdk.errors import PacelineError
from sdk.rulesets import version_label

FORMAT = "paceline-dev-leaderboard/1"
STATUSES = ("ran", "failed", "skipped")
# A stored score may differ from the one recomputed from the stored times by this much.
SCORE_TOLERANCE = 1e-6


def file_name(ruleset: str, version: str) -> str:
    """``dev_leaderboard_<ruleset>_v<version>.json``."""
    return f"dev_leaderboard_{ruleset}_v{version}.json"


def entry_times(entry: Mapping[str, Any], workloads: list[str]) -> dict[str, float]:
    """``{workload: seconds}`` of one entry (``inf`` for a miss or a workload not run)."""
    out = {}
    for w in workloads:
        t = (entry.get("workloads") or {}).get(w, {}).get("time_to_target_sec")
        out[w] = math.inf if t is None else float(t)
    return out


def field_times(data: Mapping[str, Any], only_run: bool = False
                ) -> dict[str, dict[str, float]]:
    """``{entry: {workload: seconds}}`` of the entries that ran (``only_run``: leave out the
    workloads an entry did not run, instead of counting them as misses)."""
    workloads = list(data["workloads"])
    out = {}
    for name, e in data["entries"].items():
        if e.get("status") != "ran":
            continue
        times = entry_times(e, workloads)
        if only_run:
            times = {w: t for w, t in times.items() if w in (e.get("workloads") or {})}
        out[name] = times
    return out


def scores_of(times: Mapping[str, Mapping[str, float]], workloads: list[str],
              r_max: float = 4.0) -> dict[str, float]:
    """Benchmark scores of a times table, every entry scored as one group."""
    from sdk.scoring.profiles import benchmark_scores

    return benchmark_scores(times, workloads, r_max=r_max) if times else {}


def ranks(scores: Mapping[str, float]) -> dict[str, int]:
    """1 = best; equal scores share the better rank."""
    order = sorted(scores, key=lambda s: -scores[s])
    out: dict[str, int] = {}
    for i, name in enumerate(order, start=1):
        prev = order[i - 2] if i > 1 else None
        tied = prev is not None and abs(scores[prev] - scores[name]) <= SCORE_TOLERANCE
        out[name] = out[prev] if tied else i
    return out


def check_dev_leaderboard(data: Any, where: str = "dev leaderboard") -> list[str]:
    """Every problem with a dev leaderboard file's content, as sentences (empty: valid)."""
    if not isinstance(data, dict):
        return [f"{where} must hold a JSON object."]
    problems = []
    if data.get("format") != FORMAT:
        problems.append(f"{where}: format must be {FORMAT!r}, not {data.get('format')!r}.")
    for key in ("ruleset", "ruleset_version", "command", "workloads", "entries"):
        if key not in data:
            problems.append(f"{where} lacks {key!r}.")
    if problems:
        return problems
    workloads = data["workloads"]
    if not isinstance(workloads, list) or not workloads or \
            not all(isinstance(w, str) for w in workloads):
        return [f"{where}: 'workloads' must be a non-empty list of workload names."]
    if not isinstance(data["entries"], dict) or not data["entries"]:
        return [f"{where}: 'entries' must be a non-empty object."]
    for name, entry in data["entries"].items():
        problems.extend(_check_entry(f"{where}: entry {name!r}", entry, workloads))
    if problems:
        return problems
    recomputed = scores_of(field_times(data), workloads)
    for name, score in recomputed.items():
        stored = data["entries"][name].get("dev_score")
        if stored is None or abs(float(stored) - score) > SCORE_TOLERANCE:
            problems.append(f"{where}: entry {name!r} has dev_score {stored!r} but its times "
                            f"score {score:.6f} among the entries that ran.")
    for name, rank in ranks(recomputed).items():
        if data["entries"][name].get("dev_rank") != rank:
            problems.append(f"{where}: entry {name!r} has dev_rank "
                            f"{data['entries'][name].get('dev_rank')!r}, not {rank}.")
    return problems


def _check_entry(where: str, entry: Any, workloads: list[str]) -> list[str]:
    if not isinstance(entry, dict):
        return [f"{where} must be an object."]
    problems = []
    for key in ("framework", "upstream", "command", "status"):
        if not entry.get(key):
            problems.append(f"{where} lacks {key!r}.")
    up = entry.get("upstream")
    if isinstance(up, dict):
        problems += [f"{where}: upstream lacks {k!r}." for k in ("path", "commit") if not up.get(k)]
    elif up is not None:
        problems.append(f"{where}: upstream must be an object with path and commit.")
    status = entry.get("status")
    if status not in STATUSES:
        return problems + [f"{where}: status must be one of {', '.join(STATUSES)}."]
    if status != "ran":
        if not entry.get("reason"):
            problems.append(f"{where} did not run but gives no reason.")
        return problems
    if not isinstance(entry.get("dev_score"), (int, float)):
        problems.append(f"{where} ran but is not scored (no dev_score).")
    runs = entry.get("workloads")
    if not isinstance(runs, dict):
        return problems + [f"{where}: 'workloads' must be an object."]
    for w in runs:
        if w not in workloads:
            problems.append(f"{where} has times for {w!r}, which the file's workloads lack.")
    for w, row in runs.items():
        if not isinstance(row, dict) or not isinstance(row.get("study_times"), list) \
                or not row["study_times"]:
            problems.append(f"{where}: {w} needs study_times, one per study.")
            continue
        studies = [math.inf if t is None else t for t in row["study_times"]]
        if not all(isinstance(t, (int, float)) and t > 0 for t in studies):
            problems.append(f"{where}: {w} study_times must be positive seconds or null.")
            continue
        median = float(sorted(studies)[len(studies) // 2]) if len(studies) % 2 else \
            float(sum(sorted(studies)[len(studies) // 2 - 1:len(studies) // 2 + 1]) / 2)
        stored = row.get("time_to_target_sec")
        stored = math.inf if stored is None else stored
        if not isinstance(stored, (int, float)) or not (
                stored == median or abs(stored - median) <= 1e-9 * max(1.0, abs(median))):
            problems.append(f"{where}: {w} time_to_target_sec {row.get('time_to_target_sec')!r} "
                            "is not the median of its study_times.")
    return problems


def load_dev_leaderboard(path: str | Path) -> dict[str, Any]:
    """Read and check a dev leaderboard file; one sentence naming the first problem if bad."""
    from sdk.input_files import read_json

    data = read_json(path, "dev leaderboard")
    problems = check_dev_leaderboard(data, str(path))
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise PacelineError(f"{problems[0].rstrip('.')}{more}.")
    return data


def find_dev_leaderboard(ruleset: str, version: str) -> Path | None:
    """The shipped ``dev_leaderboard_<ruleset>_v<version>.json`` (reference-timings folders)."""
    from sdk.references import reference_dirs

    for folder in reference_dirs():
        if (folder / file_name(ruleset, version)).is_file():
            return folder / file_name(ruleset, version)
    return None


def shipped_versions(ruleset: str) -> list[str]:
    """The rules versions a dev leaderboard of ``ruleset`` ships for, oldest first."""
    from sdk.rulesets import VERSIONS

    return [v for v in VERSIONS if find_dev_leaderboard(ruleset, v) is not None]


def rank_in_field(name: str, times: Mapping[str, float], data: Mapping[str, Any],
                  workloads: list[str] | None = None) -> str:
    """Where a run (``{workload: seconds}``) ranks among the field's entries, as text.

    Scored together with every entry that ran, over the run's workloads that the file timed;
    each entry's official score and rank are shown beside (`paceline run --ruleset self` and
    `paceline score --against leaderboard` print it through :func:`place_runs`).
    """
    from sdk.text_tables import format_table

    wanted = [w for w in (workloads or list(times)) if w in data["workloads"]]
    if not wanted:
        return (f"The dev leaderboard times none of {', '.join(workloads or list(times))}; "
                f"it has {', '.join(data['workloads'])}.")
    table = {e: {w: t[w] for w in wanted} for e, t in field_times(data).items()}
    label = f"{name} (this run)"
    table[label] = {w: float(times.get(w, math.inf)) for w in wanted}
    scores = scores_of(table, wanted)
    place = ranks(scores)
    rows = []
    for e in sorted(scores, key=lambda s: (place[s], s)):
        entry = data["entries"].get(e, {})
        rows.append([place[e], e, f"{scores[e]:.3f}", entry.get("framework", ""),
                     _opt(entry.get("official_score"), 3), _opt(entry.get("official_rank"), 0),
                     *[_secs(table[e][w]) for w in wanted]])
    head = (f"{name} ranks {place[label]} of {len(scores)} among the dev leaderboard's real "
            f"entries over {', '.join(wanted)} (rules {version_label(data['ruleset_version'])}, "
            f"{data['ruleset']} tuning):")
    return head + "\n" + format_table(
        ["rank", "entry", "dev score", "framework", "official score", "official rank",
         *[f"{w}(s)" for w in wanted]], rows)


def _opt(value: Any, digits: int) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if digits else str(value)


def _secs(value: float) -> str:
    return f"{value:.1f}" if math.isfinite(value) else "miss"


def _timed_otherwise(data: Mapping[str, Any], mine: Any) -> bool:
    """Whether the shipped entries ran ``mine.workload`` against another target, or (those of
    the run's framework; budgets differ by framework under later rules) another budget."""
    rows = [(e.get("framework"), row) for e in data["entries"].values()
            for w, row in (e.get("workloads") or {}).items() if w == mine.workload]
    targets = {row.get("target") for _, row in rows} - {None}
    if targets and targets != {mine.target.value}:
        return True
    budgets = {row.get("budget_sec") for fw, row in rows if fw == mine.framework} - {None}
    return (mine.target.budget_sec is not None and bool(budgets)
            and not any(math.isclose(b, mine.target.budget_sec, rel_tol=1e-6) for b in budgets))


def place_runs(runs: Mapping[str, Any], workloads: list[str], ruleset: str,
               version: str) -> str:
    """Each run (``{name: SubmissionTimes}``) among the shipped dev leaderboard, as text.

    The hook for `paceline run --ruleset self` and `paceline score --against leaderboard`
    (``print(place_runs({name: times}, workloads, ruleset, version))``). Workloads whose
    shipped entries were timed against another target than the run's are left out with a
    note, as `--against baselines` does, and so are workloads whose shipped entries of the
    run's framework had another budget (the file predates a change of the dev budgets).
    """
    path = find_dev_leaderboard(ruleset, version)
    if path is None:
        shipped = shipped_versions(ruleset)
        where = (f"rerun with --ruleset-version {shipped[-1]} to rank among the entries "
                 "timed under those rules, or " if shipped else "")
        return (f"No dev leaderboard ships for {ruleset} tuning, rules {version_label(version)}; "
                f"{where}build one with `paceline leaderboard run ... --write` "
                "(docs/fidelity.md).")
    data = load_dev_leaderboard(path)
    out = []
    for name, times in runs.items():
        usable, stale = [], []
        for w in workloads:
            if w not in data["workloads"]:
                continue
            (stale if w in times.workloads and _timed_otherwise(data, times.workloads[w])
             else usable).append(w)
        if not usable:
            other = f" (other targets or budgets: {', '.join(stale)})" if stale else ""
            out.append(f"{name}: the dev leaderboard ({path.name}) times none of its workloads "
                       f"against the same targets and budgets{other}.")
            continue
        out.append(rank_in_field(name, times.times, data, usable))
        if stale:
            out.append("Left out (the leaderboard was timed against other targets or "
                       f"budgets): {', '.join(stale)}.")
    return "\n".join(out)
