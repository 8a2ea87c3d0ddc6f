"""`paceline leaderboard`: real AlgoPerf entries on the dev suite, and how well dev predicts.

    # every entry of a clone of mlcommons/submissions_algorithms, self-tuning, v0.6 rules
    paceline leaderboard run ../submissions_algorithms/submissions/self_tuning \\
        --ruleset self --ruleset-version 0.6 --jobs 2
    paceline leaderboard run PATH --ruleset self --entry lion --entry ademamix --workload ogbg
    paceline leaderboard show experiments/leaderboard/self_v0.6
    paceline leaderboard fidelity experiments/leaderboard/self_v0.6 \\
        --official ../shared/algoperf_reference_logs/rolling_a100_scoring_branch/logs/self_tuning
    paceline leaderboard run PATH --ruleset self --ruleset-version 0.6 --official LOGS \\
        --write baselines/reference_timings/dev_leaderboard_self_v0.6.json

`run` trains every submission folder under PATH unmodified, exactly as `paceline run` would
(the command it stands for is recorded per entry), with the framework each entry names
(``submission_info.yml``'s ``framework:``, else its imports), into
``<experiment-dir>/leaderboard/<ruleset>_v<version>/<entry>/`` in AlgoPerf's layout, plus
``leaderboard.json`` there. An entry that cannot run gets one line saying why; the others go
on. See docs/fidelity.md.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path
from typing import Any

from sdk.cli.command import Command
from sdk.cli.leaderboard_fidelity import fidelity_command
from sdk.cli.leaderboard_read import (
    SUMMARY_FILE,
    SUMMARY_FORMAT,
    build_dev_leaderboard,
    check_official,
    file_text,
    load_run,
    read_summary,
    refuse_dev_targets_on_file,
    show_text,
)
from sdk.cli.validate import (
    MAX_JOBS,
    MAX_STUDIES,
    MAX_THREADS,
    check_output_paths,
    finite_positive_float,
    positive_int,
)
from sdk.clock import CLOCKS
from sdk.errors import MixedTargetsError, PacelineError
from sdk.rulesets import RULESETS, VERSION_CHOICES, resolve_version, version_label

DEFAULT_VERSION = "0.6"  # the rolling leaderboard's rules


DEV_TARGETS_HELP = ("score the dev runs against these targets instead of the ones they ran "
                    "with: a targets JSON, or 'current' for the dev targets paceline ships "
                    "now (a run stops at its own target, so only targets no harder than "
                    "those are measured fairly)")


def configure(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    run_p = sub.add_parser("run", help="run every AlgoPerf submission folder under PATH on "
                                       "the dev suite", description=__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    run_p.add_argument("path", metavar="PATH",
                       help="a folder of AlgoPerf submission folders (each with submission.py),"
                            " e.g. a clone's submissions/self_tuning, or one such folder")
    run_p.add_argument("--ruleset", choices=RULESETS, default="self")
    run_p.add_argument("--ruleset-version", choices=VERSION_CHOICES, type=resolve_version,
                       default=DEFAULT_VERSION)
    run_p.add_argument("--workload", action="append", metavar="NAME",
                       help="workload to run; repeat for several (default: 'suite', the scored "
                            "dev workloads)")
    run_p.add_argument("--entry", action="append", metavar="NAME",
                       help="run only the entry with this folder name; repeat for several")
    run_p.add_argument("--framework-from-entry", action="store_true", default=True,
                       help="each entry runs in the framework it names (submission_info.yml's "
                            "framework:, else the framework it imports); the default, and the "
                            "only choice")
    run_p.add_argument("--studies", type=positive_int(MAX_STUDIES), default=1, metavar="N",
                       help="studies per workload (each its own seeds; the spread; default 1)")
    run_p.add_argument("--trials", type=positive_int(MAX_STUDIES), default=1, metavar="M",
                       help="trials per study under external tuning (default 1)")
    run_p.add_argument("--seed", type=int, help="base seed shared by every entry (default: "
                                                 "random, recorded)")
    run_p.add_argument("--jobs", type=positive_int(MAX_JOBS), metavar="N",
                       help="trials side by side (default: one per core under the dev clock)")
    run_p.add_argument("--experiment-dir", default="experiments", metavar="DIR")
    run_p.add_argument("--data-dir", metavar="DIR")
    run_p.add_argument("--max-global-steps", type=positive_int(), metavar="N")
    run_p.add_argument("--clock", choices=CLOCKS, default=None)
    run_p.add_argument("--speed-factor", type=finite_positive_float, metavar="X")
    run_p.add_argument("--threads", type=positive_int(MAX_THREADS), metavar="N")
    run_p.add_argument("--no-checkpoints", action="store_true",
                       help="do not checkpoint after evals (no --resume possible)")
    run_p.add_argument("--no-tensorboard", action="store_true")
    run_p.add_argument("--whole-budget", action="store_true",
                       help="every trial trains its whole budget, past its targets, so the "
                            "runs can be timed against other targets later "
                            "(`fidelity --dev-targets`)")
    run_p.add_argument("--resume", action="store_true",
                       help="keep finished trials, continue killed ones")
    run_p.add_argument("--overwrite", action="store_true", help="start existing trials again")
    run_p.add_argument("--official", metavar="LOGS_DIR",
                       help="official logs (a folder of entry folders) for the official scores "
                            "and ranks written by --write")
    run_p.add_argument("--official-targets", metavar="JSON",
                       help="targets file the official logs are scored with (e.g. "
                            "workload_targets_latest_9wl.json for the rolling A100 logs)")
    run_p.add_argument("--write", metavar="FILE",
                       help="write the dev leaderboard file (docs/fidelity.md) here")
    run_p.add_argument("--dev-targets", metavar="JSON|current",
                       help="with --write: " + DEV_TARGETS_HELP)
    run_p.set_defaults(_action=run_leaderboard)

    show_p = sub.add_parser("show", help="print the dev leaderboard of a `leaderboard run`")
    show_p.add_argument("dir", metavar="DIR",
                        help="<experiment-dir>/leaderboard/<ruleset>_v<version>, its "
                             "leaderboard.json, or a dev leaderboard file")
    show_p.add_argument("--json", metavar="OUT", help="write scores and times here")
    show_p.add_argument("--dev-targets", metavar="JSON|current", help=DEV_TARGETS_HELP)
    show_p.set_defaults(_action=show_leaderboard)

    _configure_fidelity(sub)


def _configure_fidelity(sub: Any) -> None:
    """`paceline leaderboard fidelity`'s flags."""
    fid_p = sub.add_parser("fidelity", help="compare dev results with the official logs")
    fid_p.add_argument("dir", metavar="DEV_DIR",
                       help="<experiment-dir>/leaderboard/<ruleset>_v<version>, or a dev "
                            "leaderboard file")
    fid_p.add_argument("--official", required=True, metavar="LOGS_DIR",
                       help="official logs: a folder of entry folders in AlgoPerf's layout")
    fid_p.add_argument("--official-version", choices=VERSION_CHOICES, type=resolve_version,
                       default=None,
                       help="rules the official logs are scored under (default: the dev run's)")
    fid_p.add_argument("--official-targets", metavar="JSON",
                       help="targets file for the official logs (default: the rules' tables)")
    fid_p.add_argument("--dev-targets", metavar="JSON|current", help=DEV_TARGETS_HELP)
    fid_p.add_argument("--leave-out-failed", action="store_true",
                       help="leave out entries that failed at dev (default: they count as "
                            "missing every workload they tried)")
    fid_p.add_argument("--entry", action="append", metavar="NAME",
                       help="only this entry (repeatable): e.g. the calibration set apart "
                            "from the entries held out of it")
    fid_p.add_argument("--json", metavar="OUT", help="write every statistic here")
    fid_p.set_defaults(_action=fidelity_command)


def run(args: argparse.Namespace) -> int:
    action = getattr(args, "_action", None)
    if action is None:
        raise PacelineError("Say what to do: `paceline leaderboard run PATH`, `show DIR` or "
                            "`fidelity DEV_DIR --official LOGS_DIR`; see --help.")
    return action(args)


# --- run ------------------------------------------------------------------------------------

def run_leaderboard(args: argparse.Namespace) -> int:
    """Run every entry under ``args.path``; one line for each that cannot run."""
    from sdk.cli.validate import check_output_dir, exclusive
    from sdk.entries import discover_entries, upstream
    from sdk.experiment import random_seed

    exclusive(args, "resume", "overwrite")
    check_output_paths(args, "write")
    check_output_dir(args.experiment_dir, "--experiment-dir")
    check_official(args.official, args.official_targets)
    if args.dev_targets and not args.write:
        raise PacelineError("--dev-targets is used by --write (the times in the dev "
                            "leaderboard file); add --write FILE, or drop --dev-targets.")
    if args.official and not args.write:
        raise PacelineError("--official is used by --write (the official scores and ranks in "
                            "the dev leaderboard file); add --write FILE, or drop --official.")
    entries = discover_entries(args.path)
    if args.entry:
        unknown = sorted(set(args.entry) - {e.name for e in entries})
        if unknown:
            raise PacelineError(f"No entry named {', '.join(unknown)} under {args.path} "
                                f"(entries: {', '.join(e.name for e in entries)}).")
        entries = [e for e in entries if e.name in args.entry]
    workloads = _workloads(args.workload, args.ruleset_version)
    seed = args.seed if args.seed is not None else random_seed()
    folder = board_dir(args.experiment_dir, args.ruleset, args.ruleset_version)
    summary = read_summary(folder) or {}
    summary.update({
        "format": SUMMARY_FORMAT, "scale": "dev", "ruleset": args.ruleset,
        "ruleset_version": args.ruleset_version, "path": str(Path(args.path).resolve()),
        "command": " ".join(["paceline", *map(shlex.quote, getattr(args, "_argv", []))]),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "seed": seed,
    })
    summary["workloads"] = list(dict.fromkeys([*summary.get("workloads", []), *workloads]))
    records = summary.setdefault("entries", {})
    print(f"paceline leaderboard: {len(entries)} entr{'y' if len(entries) == 1 else 'ies'} on "
          f"{', '.join(workloads)}, {args.ruleset} tuning, rules "
          f"{version_label(args.ruleset_version)}, seed {seed}; logs in {folder}", file=sys.stderr)
    # A field that mixes frameworks runs every entry in worker processes, so that no entry
    # finds the other framework already started in this process (sdk/clock.py).
    isolate = len({e.framework for e in entries if e.framework}) > 1
    partial = []
    for entry in entries:
        record = _run_entry(entry, args, workloads, seed, folder, isolate)
        record["upstream"] = upstream(entry.folder)
        records[entry.name] = record
        _write_summary(folder, summary)
        if record["status"] != "ran" or record.get("note"):
            line = f"{entry.name}: {record['status']}: {record.get('reason') or record['note']}"
            print(f"paceline leaderboard: {line}", file=sys.stderr)
            if record["status"] == "ran":
                partial.append(line)
    try:
        print(show_text(folder))
    except MixedTargetsError as exc:  # every entry ran; only scoring them together failed
        print(f"paceline leaderboard: the runs are kept, but cannot be ranked together: {exc}",
              file=sys.stderr)
    if partial:
        print("Scored, but not every trial ran:\n  " + "\n  ".join(partial))
    if args.write:
        data = build_dev_leaderboard(folder, args.official, args.official_targets,
                                     args.dev_targets)
        from sdk.trial_logs import atomic_write_json

        atomic_write_json(Path(args.write), data)
        print(f"paceline leaderboard: wrote {args.write}", file=sys.stderr)
    return 0


def board_dir(experiment_dir: str | Path, ruleset: str, version: str) -> Path:
    """``<experiment-dir>/leaderboard/<ruleset>_v<version>``."""
    return Path(experiment_dir) / "leaderboard" / f"{ruleset}_v{version}"


def _workloads(names: list[str] | None, version: str) -> list[str]:
    from sdk.rulesets import get_ruleset
    from sdk.run_context import resolve_workloads

    return resolve_workloads(names or ["suite"], "dev", get_ruleset(version).base_workloads)


def _run_argv(entry: Any, args: argparse.Namespace, workloads: list[str], seed: int,
              folder: Path) -> list[str]:
    """The `paceline run` flags that run ``entry`` as this leaderboard does."""
    argv = ["--submission", str(entry.submission), "--framework", entry.framework,
            "--ruleset", args.ruleset, "--ruleset-version", args.ruleset_version,
            "--scale", "dev", "--seed", str(seed), "--studies", str(args.studies),
            "--experiment-dir", str(folder), "--experiment-name", entry.name]
    for w in workloads:
        argv += ["--workload", w]
    if args.ruleset == "external":
        argv += ["--tuning-search-space", str(entry.search_space), "--trials", str(args.trials)]
    for flag in ("data_dir", "max_global_steps", "clock", "speed_factor", "threads", "jobs"):
        value = getattr(args, flag)
        if value is not None:
            argv += ["--" + flag.replace("_", "-"), str(value)]
    for flag in ("resume", "overwrite", "no_checkpoints", "no_tensorboard", "whole_budget"):
        if getattr(args, flag):
            argv.append("--" + flag.replace("_", "-"))
    return argv


def _run_entry(entry: Any, args: argparse.Namespace, workloads: list[str], seed: int,
               folder: Path, isolate: bool = False) -> dict[str, Any]:
    """Run one entry; its record for the summary (status ``ran``, ``failed`` or ``skipped``)."""
    from sdk.entries import unmet_requirements
    from sdk.registry import workloads as registry

    record: dict[str, Any] = {"folder": str(entry.folder), "framework": entry.framework,
                              "framework_source": entry.framework_source, "workloads": [],
                              "skipped_workloads": {}, "trials": [], "reason": "", "note": ""}
    if entry.framework is None:
        return {**record, "status": "skipped",
                "reason": f"framework unknown ({entry.framework_source})"}
    if args.ruleset == "external" and entry.search_space is None:
        return {**record, "status": "skipped",
                "reason": "external tuning needs tuning_search_space.json beside submission.py"}
    runnable = []
    for w in workloads:
        if entry.framework in registry().entry(w).classes.get("dev", ()):
            runnable.append(w)
        else:
            record["skipped_workloads"][w] = f"no dev {entry.framework} implementation"
    if not runnable:
        return {**record, "status": "skipped",
                "reason": f"no dev {entry.framework} implementation of "
                          f"{', '.join(workloads)}"}
    argv = _run_argv(entry, args, runnable, seed, folder)
    record["command"] = "paceline run " + " ".join(map(shlex.quote, argv))
    record["workloads"] = runnable
    record["unmet_requirements"] = unmet_requirements(entry.folder)
    from sdk.cli.run_cmd import run_like_paceline_run

    try:
        results = run_like_paceline_run(argv, isolate)
    except KeyboardInterrupt:
        raise
    except PacelineError as exc:
        return {**record, "status": "failed",
                "reason": _one_line(str(exc)) + _requirements_hint(record)}
    except Exception as exc:  # noqa: BLE001 - one entry's failure must not stop the field
        return {**record, "status": "failed", "reason": _one_line(
            f"{type(exc).__name__}: {exc}") + _requirements_hint(record)}
    return _ran_record(record, results)


def _requirements_hint(record: dict[str, Any]) -> str:
    unmet = record.get("unmet_requirements") or []
    if not unmet:
        return ""
    return (f" (its requirements.txt asks for {', '.join(unmet)}: install them, in another "
            "environment if they clash, and run it again)")


def _ran_record(record: dict[str, Any], results: list[Any]) -> dict[str, Any]:
    """The record of an entry whose trials ran (some may have failed)."""
    from sdk.trial_status import TrialStatus, is_failure

    record["trials"] = [{"workload": r.workload, "study": r.study, "trial": r.trial,
                         "status": r.status, "reason": r.reason,
                         "time_to_target_sec": r.time_to_target_sec,
                         "global_step": r.global_step} for r in results]
    failed = [r for r in results if is_failure(r.status) and r.status != TrialStatus.DIVERGED]
    if results and len(failed) == len(results):
        first = failed[0]
        return {**record, "status": "failed", "reason": _one_line(
            f"every trial failed; {first.workload}: {first.reason}") + _requirements_hint(record)}
    notes = []
    if record.get("unmet_requirements"):
        notes.append(f"ran without {', '.join(record['unmet_requirements'])}")
    if failed:
        notes.append(f"{len(failed)} of {len(results)} trials failed ({failed[0].workload}: "
                     f"{_one_line(failed[0].reason)})")
    if record["skipped_workloads"]:
        notes.append("not run on " + ", ".join(
            f"{w} ({why})" for w, why in record["skipped_workloads"].items()))
    return {**record, "status": "ran", "note": "; ".join(notes)}


def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= 300 else line[:297] + "..."


def _write_summary(folder: Path, summary: dict[str, Any]) -> None:
    from sdk.trial_logs import atomic_write_json

    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / SUMMARY_FILE, summary)


def show_leaderboard(args: argparse.Namespace) -> int:
    """`paceline leaderboard show DIR`: a run's folder or a dev leaderboard file."""
    check_output_paths(args, "json")
    p = Path(args.dir)
    if p.is_file() and p.name != SUMMARY_FILE:
        from sdk.dev_leaderboard import load_dev_leaderboard

        refuse_dev_targets_on_file(args.dev_targets)
        data = load_dev_leaderboard(p)
        print(file_text(data))
        if args.json:
            from sdk.trial_logs import atomic_write_json

            atomic_write_json(Path(args.json), data)
        return 0
    print(show_text(p, args.dev_targets))
    if args.json:
        from sdk.trial_logs import atomic_write_json

        summary = load_run(p)
        folder = Path(summary.pop("_folder"))
        atomic_write_json(Path(args.json), build_dev_leaderboard(folder, None, None,
                                                                 args.dev_targets))
    return 0


COMMAND = Command(
    name="leaderboard",
    help="run real AlgoPerf entries on the dev suite; show the dev leaderboard; measure "
         "fidelity against the official logs",
    description=__doc__,
    configure=configure,
    run=run,
)
