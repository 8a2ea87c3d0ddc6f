"""`paceline leaderboard fidelity`: a leaderboard run (or dev leaderboard file) against the
official logs (`sdk/scoring/fidelity.py`, `sdk/scoring/step_cost.py`).

    paceline leaderboard fidelity experiments/leaderboard/self_va100-2026 \\
        --official ../shared/algoperf_reference_logs/rolling_a100_scoring_branch/logs/self_tuning
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from sdk.cli.leaderboard_read import (
    SUMMARY_FILE,
    check_official,
    dev_times,
    load_run,
    official_board,
    refuse_dev_targets_on_file,
)
from sdk.cli.validate import check_output_paths
from sdk.errors import PacelineError


def fidelity_command(args: argparse.Namespace) -> int:
    """`paceline leaderboard fidelity DEV_DIR --official LOGS_DIR`."""
    from sdk.scoring.disagreements import disagreements, format_disagreements
    from sdk.scoring.fidelity import fidelity, format_report

    check_output_paths(args, "json")
    check_official(args.official, args.official_targets)
    p = Path(args.dir)
    if p.is_file() and p.name != SUMMARY_FILE:
        refuse_dev_targets_on_file(args.dev_targets)
        from sdk.dev_leaderboard import field_times, load_dev_leaderboard

        data = load_dev_leaderboard(p)
        dev = field_times(data, only_run=True)
        workloads = list(data["workloads"])
        frameworks = {n: e["framework"] for n, e in data["entries"].items()}
        version, ruleset = data["ruleset_version"], data["ruleset"]
        records = data["entries"]
        logs: dict[str, Any] = {}  # a file holds times, not eval logs
    else:
        summary = load_run(p)
        workloads = list(summary["workloads"])
        logs = dev_times(summary, args.dev_targets)
        dev = {n: {w: t.times[w] for w in workloads if w in t.times}  # absent: not run
               for n, t in logs.items()}
        frameworks = {n: r.get("framework") or "unknown" for n, r in summary["entries"].items()}
        version, ruleset = summary["ruleset_version"], summary["ruleset"]
        records = summary["entries"]
    records = _only(records, getattr(args, "entry", None), p)
    dev = {n: t for n, t in dev.items() if n in records}
    # An entry that failed at dev (import error, every trial failed) missed every workload
    # it tried: a disagreement wherever the official run reached the target.
    failed = sorted(n for n, r in records.items() if r.get("status") == "failed"
                    and n not in dev and _attempted(r))
    if not args.leave_out_failed:
        dev.update({n: {w: math.inf for w in _attempted(records[n]) if w in workloads}
                    for n in failed})
    official_times, _ = official_board(args.official, args.official_version or version, ruleset,
                                       args.official_targets)
    official = {n: {w: t.times.get(w, math.inf) for w in workloads}
                for n, t in official_times.items()}
    report = fidelity(dev, official, workloads, frameworks)
    absent = [w for w in workloads if not any(w in t.workloads for t in official_times.values())]
    if absent:
        print(f"paceline leaderboard: the official logs have no {', '.join(absent)} logs; "
              "every entry counts as missing there.", file=sys.stderr)
    print(f"Fidelity of dev ({p}) against official ({args.official}), {ruleset} tuning, "
          f"{len(report.entries)} entries matched by folder name:\n")
    print(format_report(report, dev, official))
    if failed:
        how = "left out (--leave-out-failed)" if args.leave_out_failed else \
            "counted as missing every workload they tried"
        print(f"Entries that failed at dev, {how}: {', '.join(failed)}.")
    far = disagreements(logs, dev, official, report.entries, workloads) if logs else None
    if far is not None:
        print("\n" + format_disagreements(far))
    ratios = _step_ratios(p, args.official, report.entries, workloads)
    if ratios is not None:
        from sdk.scoring.step_cost import format_step_ratios

        print("\n" + format_step_ratios(ratios))
    if args.json:
        from sdk.trial_logs import atomic_write_json

        atomic_write_json(Path(args.json), {
            **report.to_json(), "dev": str(p), "official": str(args.official),
            "failed_at_dev": failed, "failed_left_out": bool(args.leave_out_failed),
            "official_targets": args.official_targets, "workload_list": workloads,
            "dev_times": _json_times(dev, report.entries),
            "official_times": _json_times(official, report.entries),
            "disagreements": None if far is None else [d.to_json() for d in far],
            "step_ratios": None if ratios is None else [
                {**asdict(r), "ratio": r.ratio} for r in ratios]})
    return 0


def _step_ratios(dev_dir: Path, official: str, entries: list[str],
                 workloads: list[str]) -> list[Any] | None:
    """Each matched entry's step cost at dev against officially (sdk/scoring/step_cost.py);
    None for a dev leaderboard file, which holds times, not eval logs."""
    if dev_dir.is_file():
        return None
    from sdk.scoring.step_cost import step_rates, step_ratios

    root = dev_dir.parent if dev_dir.name == SUMMARY_FILE else dev_dir
    keep = set(workloads)
    dev = {k: v for k, v in step_rates([root]).items() if k[1] in keep}
    return step_ratios(dev, step_rates([official]), entries)


def _only(records: dict[str, Any], names: list[str] | None, where: Path) -> dict[str, Any]:
    """The entries ``--entry`` names (all without it); a name the run lacks is an error."""
    if not names:
        return records
    unknown = sorted(set(names) - set(records))
    if unknown:
        raise PacelineError(f"{where} has no entry {', '.join(unknown)} (it has "
                            f"{', '.join(sorted(records)) or 'none'}).")
    return {n: r for n, r in records.items() if n in names}


def _attempted(record: dict[str, Any]) -> list[str]:
    """The workloads an entry's run tried (a summary record or a dev leaderboard entry)."""
    tried = record.get("attempted", record.get("workloads"))
    return list(tried) if isinstance(tried, (list, dict)) else []


def _json_times(table: dict[str, dict[str, float]], entries: list[str]) -> dict[str, Any]:
    return {e: {w: (t if math.isfinite(t) else None) for w, t in table[e].items()}
            for e in entries}
