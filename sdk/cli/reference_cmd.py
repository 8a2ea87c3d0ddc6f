"""`paceline reference`: build or show the reference timings new runs are scored against.

    paceline reference build --baselines nadamw adamw momentum nesterov --workload suite
    paceline reference build --baselines nadamw --workload suite --ruleset self
    paceline reference build --baselines nadamw momentum nesterov --variants   # held-out variants
    paceline reference show [--ruleset self] [--ruleset-version 0.6]

`build` runs each baseline through the normal protocol (logs under
experiments/reference/...), scores it, and writes the kit's reference file for that scale,
ruleset and version (or --out FILE), recording the command that produced it. With
--variants it times the official held-out variants of the --workload bases instead (default:
every scored base) and writes the ``..._variants.json`` file `paceline heldout` reads. Each
entry counts its trials that flagged their own measurement; ``--retime-flagged`` moves those
aside and times them again:

    paceline reference build --baselines nadamw --workload suite --studies 3 --retime-flagged
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import platform
import shlex
import sys
from pathlib import Path
from typing import Any

from sdk.cli.command import Command
from sdk.cli.validate import (
    MAX_JOBS,
    MAX_STUDIES,
    MAX_THREADS,
    MAX_TRIALS,
    check_output_dir,
    check_output_path,
    positive_int,
)
from sdk.clock import CLOCKS
from sdk.errors import PacelineError
from sdk.rulesets import (
    DEFAULT_VERSION,
    RULESETS,
    VERSION_CHOICES,
    resolve_version,
    version_label,
)
from sdk.trial_record import measurement_doubt


def configure(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    build = sub.add_parser("build", help="run baselines and write reference timings")
    build.add_argument("--baselines", nargs="+", required=True, metavar="NAME")
    build.add_argument("--workload", action="append", metavar="NAME",
                       help="repeatable; 'suite' = every scored workload (default)")
    build.add_argument("--framework", choices=["pytorch", "jax"], default="pytorch")
    build.add_argument("--ruleset", choices=RULESETS, default="external")
    build.add_argument("--ruleset-version", choices=VERSION_CHOICES, type=resolve_version,
                       default=DEFAULT_VERSION)
    build.add_argument("--scale", choices=["dev"], default="dev")
    build.add_argument("--studies", type=positive_int(MAX_STUDIES), default=1)
    build.add_argument("--trials", type=positive_int(MAX_TRIALS), default=1)
    build.add_argument("--seed", type=int, default=0)
    build.add_argument("--experiment-dir", default="experiments/reference")
    build.add_argument("--resume", action="store_true", help="keep finished trials")
    build.add_argument("--retime-flagged", action="store_true",
                       help="move the finished trials that flagged their own measurement "
                            "aside (to <experiment-dir>/flagged/) and time them again; keeps "
                            "the others, as --resume")
    build.add_argument("--max-global-steps", type=positive_int(), metavar="N",
                       help="cap every trial (quick checks only: never for shipped files)")
    build.add_argument("--variants", action="store_true",
                       help="time the official held-out variants of the --workload bases "
                            "(default: every scored base) into the variants file")
    build.add_argument("--threads", type=positive_int(MAX_THREADS), metavar="N",
                       help="CPU threads per trial (default 1 under the dev clock)")
    build.add_argument("--clock", choices=CLOCKS, default="dev",
                       help="how trials are timed (default: the dev clock, docs/runner.md)")
    build.add_argument("--jobs", type=positive_int(MAX_JOBS), metavar="N",
                       help="trials side by side (default: one per core)")
    build.add_argument("--replace", action="store_true",
                       help="drop what the file holds (default: keep the baselines and "
                            "workloads this build does not time, so builds add up)")
    build.add_argument("--out", metavar="FILE", help="default: the kit's reference file")
    show = sub.add_parser("show", help="print the reference timings")
    show.add_argument("--ruleset", choices=RULESETS, default="external")
    show.add_argument("--ruleset-version", choices=VERSION_CHOICES, type=resolve_version,
                      default=DEFAULT_VERSION)
    show.add_argument("--scale", choices=["dev"], default="dev")
    show.add_argument("--variants", action="store_true", help="the held-out variants' file")
    show.add_argument("--file", metavar="FILE")


def run(args: argparse.Namespace) -> int:
    if args.action == "show":
        return _show(args)
    return _build(args)


def _show(args: argparse.Namespace) -> int:
    from sdk.references import find_reference_file, load_reference

    kind = "variants" if args.variants else ""
    path = Path(args.file) if args.file else find_reference_file(
        args.scale, args.ruleset, args.ruleset_version, kind=kind)
    if path is None:
        raise PacelineError(f"No reference timings for {args.scale} scale, {args.ruleset} "
                            f"tuning, rules {version_label(args.ruleset_version)}; build "
                            "them with `paceline reference build`.")
    print(show_text(path, load_reference(path)))
    return 0


def show_text(path: Path, data: dict[str, Any]) -> str:
    """A reference file as `paceline reference show` prints it: one row per workload and
    baseline with the median and range over studies, the target, the budget and the clock,
    and the commands that made the rows (builds add up, so a file can hold several)."""
    from sdk.references import made_by, reference_spread
    from sdk.text_tables import format_table

    spreads = reference_spread(data)
    commands: list[str] = []
    rows = []
    for baseline, per_workload in sorted(data["baselines"].items()):
        for workload, entry in sorted(per_workload.items()):
            command, clock = made_by(data, entry)
            command = command or "?"
            if command not in commands:
                commands.append(command)
            flagged = entry.get("untrusted_trials")
            rows.append([workload, baseline, spreads[baseline][workload].text(),
                         entry.get("target"), entry.get("budget_sec"), clock,
                         f"[{commands.index(command) + 1}]",
                         f"CHECK: {flagged} flagged" if flagged else ""])
    rows.sort(key=lambda r: (r[0], r[1]))
    columns = ["workload", "baseline", "median [range] (studies)", "target", "budget(s)",
               "clock", "made by", "measurement"]
    if not any(r[-1] for r in rows):  # nothing flagged: no column to say so
        rows, columns = [r[:-1] for r in rows], columns[:-1]
    head = (f"{path}\n{data.get('scale')} scale, {data.get('ruleset')} tuning, rules "
            f"{version_label(str(data.get('ruleset_version')))}, {data.get('framework', '?')}; "
            f"last built {data.get('created', '?')}; seconds of the calibration machine")
    made = "\n".join(f"[{i}] {c}" for i, c in enumerate(commands, 1))
    table = format_table(columns, rows)
    return f"{head}\n{table}\nmade by:\n{made}"


def _out_path(args: argparse.Namespace) -> Path:
    """Where the built file goes: --out, else the kit's reference file for these rules."""
    from sdk.references import file_name, reference_dirs

    if args.out:
        return Path(args.out)
    dirs = reference_dirs()
    if not dirs:
        raise PacelineError("No reference-timings folder is registered; pass --out FILE.")
    return dirs[0] / file_name(args.scale, args.ruleset, args.ruleset_version,
                               kind="variants" if args.variants else "")


def _timing_entry(summary: Any, clock: str, untrusted: int) -> dict[str, Any]:
    """One baseline's timing of one workload, as the reference file stores it, with how many
    of its trials flagged their own measurement (``untrusted_trials``; sdk/clock.py)."""
    return {
        "clock": clock,
        "time_to_target_sec": _finite(summary.time_sec),
        "study_times": [_finite(study.time_sec) for study in summary.studies],
        "budget_sec": summary.target.budget_sec,
        "metric": summary.target.metric,
        "target": summary.target.value,
        "untrusted_trials": untrusted,
    }


def untrusted_trials(summary: Any) -> list[tuple[Path, str]]:
    """(trial folder, why) of every trial of a workload's studies whose measurement flagged
    itself."""
    folders = [Path(trial.path).parent for study in summary.studies for trial in study.trials]
    return [(f, why) for f in folders if (why := measurement_doubt(f)) is not None]


def _say_untrusted(flagged: list[tuple[Path, str]]) -> None:
    """One line per untrusted trial, then what to do (the file is written all the same)."""
    for folder, why in flagged:
        print(f"reference: {folder}: {why}", file=sys.stderr)
    if flagged:
        print(f"reference: {len(flagged)} trial(s) above flagged their own measurement and "
              "are counted in the file's `untrusted_trials`; run the same command with "
              "--retime-flagged to time them again before shipping the file.", file=sys.stderr)


def move_flagged(root: Path, dest: Path) -> list[Path]:
    """Move every finished trial under ``root`` that flagged its own measurement to the same
    place under ``dest`` (nothing is deleted; a name taken there gets a number); the moved
    trials' new folders."""
    from sdk.trial_logs import STATUS_FILE

    moved = []
    for status in sorted(root.rglob(STATUS_FILE)):
        folder = status.parent
        if measurement_doubt(folder) is None:
            continue
        target = dest / folder.relative_to(root)
        n = 1
        while target.exists():
            target = target.with_name(f"{folder.name}.{n}")
            n += 1
        target.parent.mkdir(parents=True, exist_ok=True)
        folder.rename(target)
        moved.append(target)
    return moved


def _build(args: argparse.Namespace) -> int:
    from sdk.experiment import plan_trials
    from sdk.parallel import SubmissionRef, jobs_for, run_specs
    from sdk.rulesets import get_ruleset
    from sdk.run_context import clock_options, default_search_space, resolve_workloads
    from sdk.runner import RunOptions
    from sdk.scoring import load_submission_times, scoring_rules
    from sdk.submission import load_submission
    from sdk.trial_logs import atomic_write_json, system_metadata

    check_output_path(args.out, "--out")
    check_output_dir(args.experiment_dir, "--experiment-dir")
    out = _out_path(args)
    table = get_ruleset(args.ruleset_version)
    timing = clock_options(args)
    workloads = resolve_workloads(args.workload or ["suite"], args.scale, table.base_workloads)
    if args.variants:
        workloads = _official_variants(workloads, args.scale, args.framework)
    # dev runs carry their own targets; the rules only need the names they know
    known = tuple(w for w in workloads if w in table.workloads)
    rules = scoring_rules(args.ruleset_version, self_tuning=args.ruleset == "self",
                          base_workloads=known or None)
    result: dict[str, dict[str, dict]] = {}
    for baseline in args.baselines:
        submission = load_submission(baseline, args.framework, args.ruleset)
        ns = argparse.Namespace(ruleset=args.ruleset, tuning_search_space=None)
        space = default_search_space(ns, submission)
        root = Path(args.experiment_dir) / args.scale / f"{args.ruleset}_tuning" / baseline
        specs = plan_trials(workloads, args.framework, args.scale, args.ruleset, space,
                            args.studies, args.trials, args.seed, root)
        resume = args.resume or args.retime_flagged
        if args.retime_flagged and root.is_dir():
            aside = Path(args.experiment_dir) / "flagged" / root.relative_to(args.experiment_dir)
            moved = move_flagged(root, aside)
            if moved:
                print(f"reference: {len(moved)} flagged trial(s) of {baseline} moved to "
                      f"{aside}; timing them again", file=sys.stderr)
        options = RunOptions(ruleset=args.ruleset, resume=resume,
                             max_global_steps=args.max_global_steps,
                             overwrite=not resume, save_checkpoints=False, **timing)
        jobs = jobs_for(args.jobs, options, len(specs))
        options.progress = sys.stderr.isatty() and jobs == 1
        print(f"reference: {baseline} on {len(workloads)} workload(s), {len(specs)} trial(s), "
              f"{jobs} side by side", file=sys.stderr)
        run_specs(specs, submission, SubmissionRef(baseline, args.framework, args.ruleset),
                  table, options, jobs)
        times = load_submission_times(root, rules, framework=args.framework)
        missing = [w for w in workloads if w not in times.workloads]
        if missing:
            raise PacelineError(f"{baseline} left no logs for {missing[0]} under {root}.")
        flagged = {w: untrusted_trials(times.workloads[w]) for w in workloads}
        result[baseline] = {w: _timing_entry(times.workloads[w], timing["clock"],
                                             len(flagged[w])) for w in workloads}
        _say_untrusted([f for per_workload in flagged.values() for f in per_workload])
    command = "paceline " + " ".join(shlex.quote(a)
                                     for a in getattr(args, "_argv", sys.argv[1:]))
    for entries in result.values():
        for entry in entries.values():
            entry["command"] = command
    header = {"scale": args.scale, "ruleset": args.ruleset,
              "ruleset_version": args.ruleset_version, "framework": args.framework,
              "clock": timing["clock"]}
    baselines = dict(result)
    if not args.replace:  # keep what this build did not time (other baselines or workloads)
        earlier = _earlier_baselines(out, header)
        baselines = {**earlier, **{b: {**earlier.get(b, {}), **t} for b, t in result.items()}}
    atomic_write_json(out, {
        **header,
        "command": command,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {**system_metadata(), "processor": platform.processor()},
        "baselines": baselines,
    })
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _earlier_baselines(path: Path, header: dict) -> dict:
    """The other baselines of an existing file built for the same scale, rules and framework
    (each entry keeps the command that produced it); nothing if the file differs."""
    from sdk.input_files import read_json
    from sdk.references import made_by

    try:
        data = read_json(path, "reference-timings file")
    except PacelineError:
        return {}
    # A file made before the dev clock has no "clock": its seconds are the calibration
    # machine's wall seconds, which the dev clock is normalised to, so its entries still count.
    if not isinstance(data, dict) or any(
            data.get(k, v if k == "clock" else None) != v for k, v in header.items()):
        return {}
    earlier = data.get("baselines", {})
    for entries in earlier.values():
        for entry in entries.values():  # what each entry was made by and timed with
            entry["command"], entry["clock"] = made_by(data, entry)
    return earlier


def _official_variants(bases: list[str], scale: str, framework: str) -> list[str]:
    """The registered official held-out variants of ``bases`` at ``scale``."""
    from sdk.registry import workloads as registry

    found = []
    for name in registry().names(scale=scale, variants=True):
        entry = registry().entry(name)
        if entry.official_variant and entry.base in bases and \
                framework in entry.frameworks(scale):
            found.append(name)
    if not found:
        raise PacelineError(f"No official held-out variants of {', '.join(bases)} are "
                            f"registered at {scale} scale in {framework}.")
    return found


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


COMMAND = Command(
    name="reference",
    help="build or show the baselines' reference timings that runs are scored against",
    description=__doc__,
    configure=configure,
    run=run,
)
