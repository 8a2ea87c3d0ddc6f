"""`paceline score`: the benchmark score of one or more submissions from their logs.

    paceline score experiments/dev/external_tuning/nadamw
    paceline score ../shared/algoperf_reference_logs/algoperf_v06/logs/external_tuning \\
        --ruleset-version 0.6 \\
        --targets ../shared/algoperf_reference_logs/workload_targets/workload_targets_v06_8wl_DERIVED.json
    paceline score runs/a runs/b --baseline b --json scores.json --plot profiles.png
    paceline score runs/a runs/b --html report.html

Each DIR is a submission folder in AlgoPerf's layout (``study_<k>/<workload>_<framework>/
trial_<n>/eval_measurements.csv``, study folders optional) or a folder of such submission
folders. All submissions are scored together: scores are relative to the group. See
docs/scoring.md for every rule and how it matches the reference scorer.
"""

from __future__ import annotations

import argparse
import sys

from sdk.cli.command import Command
from sdk.cli.validate import check_output_paths
from sdk.errors import PacelineError
from sdk.rulesets import DEFAULT_VERSION, VERSION_CHOICES, resolve_version


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("dirs", nargs="+", metavar="DIR",
                   help="a submission folder, or a folder of submission folders")
    p.add_argument("--ruleset-version", choices=VERSION_CHOICES, type=resolve_version,
                   default=None,
                   help="AlgoPerf rules to score under; 'latest' is the newest (default: what "
                        f"paceline runs recorded in their meta_data, else {DEFAULT_VERSION})")
    p.add_argument("--self-tuning", action=argparse.BooleanOptionalAction, default=None,
                   help="score under the self-tuning ruleset, or not (default: what paceline "
                        "runs recorded, else external tuning)")
    p.add_argument("--strict", action="store_true",
                   help="fail, listing every missing workload, study and trial, instead of "
                        "scoring what is there")
    p.add_argument("--baseline", metavar="NAME",
                   help="also report each submission's geometric-mean speedup over this one")
    p.add_argument("--targets", metavar="JSON",
                   help="targets (and base/held-out workload lists) overriding the tables "
                        "and dev meta_data; AlgoPerf's workload_targets*.json works")
    p.add_argument("--against", choices=["baselines", "leaderboard"], default=None,
                   help="score dev runs on the workloads they trained (no targets file "
                        "needed) against the kit's shipped reference timings, with each "
                        "reference's spread ('baselines'), or rank them among the real "
                        "AlgoPerf entries of the shipped dev leaderboard ('leaderboard')")
    p.add_argument("--json", metavar="OUT", help="write scores and per-workload times here")
    p.add_argument("--plot", metavar="OUT.png", help="write the performance profiles here")
    p.add_argument("--html", metavar="OUT.html",
                   help="write a self-contained HTML report (scores, times, training "
                        "curves, chosen trials and hyperparameters, spread over studies, "
                        "machine/clock/seed, targets); works offline")
    p.add_argument("--score-method", choices=("grid", "exact"), default="grid",
                   help="rank by the reference scorer's grid+trapezoid value (default) or the "
                        "exact integral of the profile; both are shown")
    p.add_argument("--trial-rule", choices=("earliest-eval", "fastest"),
                   default="earliest-eval",
                   help="per study, the trial reaching the target at the earliest eval (the "
                        "reference scorer, default) or the one with the smallest time")
    p.add_argument("--ignore-budget", action="store_true",
                   help="count targets reached after the budget, as the reference scorer does")
    p.add_argument("--only-workloads-run", action="store_true",
                   help="score over the workloads the runs trained, without the held-out "
                        "rule (dev runs and studies of a few workloads; the leaderboard "
                        "scores the whole suite, a workload not run being a miss)")
    p.add_argument("--verbose", "-v", action="store_true",
                   help="also list skipped files and the chosen trial of every study")


def run(args: argparse.Namespace) -> int:
    from sdk.scoring.leaderboard import score_submissions
    from sdk.scoring.reader import declared_rules, find_submissions
    from sdk.scoring.report import json_report, text_report
    from sdk.scoring.targets import rules_over, scoring_rules
    from sdk.scoring.time_to_target import submission_times

    check_output_paths(args, "json", "plot", "html")
    trees = find_submissions(args.dirs)
    if not trees:
        raise PacelineError(f"No submission folders found in {', '.join(args.dirs)}.")
    declared = declared_rules(trees)
    version = args.ruleset_version or _unanimous(declared, "paceline.ruleset_version") \
        or DEFAULT_VERSION
    self_tuning = args.self_tuning
    if self_tuning is None:
        self_tuning = _unanimous(declared, "paceline.ruleset") == "self"
    if args.against:
        return _against(args, trees, version, self_tuning)
    if args.only_workloads_run:
        rules = rules_over(version, _workloads_run(trees, args.dirs), self_tuning, args.targets)
    else:
        rules = scoring_rules(version, self_tuning, args.targets)
    subs = [submission_times(t, rules, args.trial_rule, not args.ignore_budget) for t in trees]
    for s in subs:
        for key, used in (("paceline.ruleset_version", rules.version),
                          ("paceline.ruleset", rules.ruleset)):
            recorded = {str(v) for v in s.meta.get(key, set())}
            if recorded and recorded != {used}:
                s.problems.append(f"{s.name} was run with {key.split('.')[1]} "
                                  f"{', '.join(sorted(recorded))} but is scored under {used}.")
    board = score_submissions(subs, rules, args.score_method, args.strict, args.baseline)
    print(text_report(board, verbose=args.verbose))
    if args.json:
        _write_json(args.json, json_report(board))
        print(f"\nWrote {args.json}.")
    if args.plot:
        from sdk.scoring.plot import plot_profiles

        title = (f"AlgoPerf {rules.version} {'self-tuning' if rules.self_tuning else 'external'}"
                 " tuning: performance profiles")
        plot_profiles(board.scores.ratios, board.scores.scores, args.plot, rules.r_max,
                      len(rules.base_workloads), title)
        print(f"Wrote {args.plot}.")
    if args.html:
        from sdk.scoring.html import write_html

        write_html(board, args.html, f"paceline score: {', '.join(args.dirs)}")
        print(f"Wrote {args.html}.")
    sys.stdout.flush()
    return 0


def _against(args: argparse.Namespace, trees: list, version: str, self_tuning: bool) -> int:
    """``--against baselines``: the runs and the shipped references over the runs' workloads."""
    from sdk.scoring.against import compare
    from sdk.scoring.targets import rules_over
    from sdk.scoring.time_to_target import submission_times

    names = _workloads_run(trees, args.dirs)
    rules = rules_over(version, names, self_tuning, args.targets)
    runs = {}
    for tree in trees:
        times = submission_times(tree, rules, args.trial_rule, not args.ignore_budget)
        if times.scale not in (None, "dev"):
            raise PacelineError(f"{tree.name} ran at {times.scale} scale; --against baselines "
                                "compares dev runs with the kit's dev reference timings.")
        runs[tree.name] = times
    ruleset = "self" if self_tuning else "external"
    if args.against == "leaderboard":
        from sdk.dev_leaderboard import place_runs

        print(place_runs(runs, names, ruleset, version))
    else:
        print(compare(runs, names, "dev", ruleset, version, rules))
    if args.html:
        from sdk.scoring.html import write_html
        from sdk.scoring.leaderboard import score_submissions

        board = score_submissions(list(runs.values()), rules, args.score_method)
        write_html(board, args.html, f"paceline score: {', '.join(args.dirs)}")
        print(f"Wrote {args.html}.")
    return 0


def _workloads_run(trees: list, dirs: list[str]) -> list[str]:
    """Every workload some trial of ``trees`` trained, sorted (one sentence if none)."""
    names = sorted({t.workload for tree in trees for t in tree.trials})
    if not names:
        raise PacelineError(f"No trials found in {', '.join(dirs)}.")
    return names


def _unanimous(declared: dict[str, set], key: str) -> str | None:
    values = declared.get(key, set())
    return next(iter(values)) if len(values) == 1 else None


def _write_json(path: str, data: dict) -> None:
    from sdk.trial_logs import atomic_write_json

    try:
        atomic_write_json(path, data)
    except OSError as exc:
        raise PacelineError(f"Cannot write {path} ({exc.strerror}).") from None


COMMAND = Command(
    name="score",
    help="score submissions from their logs, as the AlgoPerf leaderboard does",
    description=__doc__,
    configure=configure,
    run=run,
)
