"""`paceline targets --anchor LOGS`: run the reference at dev scale and anchor the targets.

    paceline targets suite --anchor $OFF/nadamw_baselinev05 --ruleset-version a100-2026 \
        --seeds 3 --jobs 2 --write

The reference is paceline's ``nadamw`` baseline at its self-tuning point (AlgoPerf's
self-tuning NAdamW, the algorithm of ``nadamw_baselinev05``), in the framework of the official
logs, under ``--ruleset self`` of ``--ruleset-version``, for each workload's whole dev budget
(targets ignored), ``--seeds`` studies; its trials are those of ``paceline run`` and lie in
``<experiment-dir>/anchor/<rules>/study_<k>/<workload>_<framework>/trial_1`` (``--resume``
keeps finished ones). :mod:`workloads.target_setting.anchor` derives each target.
"""

from __future__ import annotations

import argparse
import copy
import shlex
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sdk.errors import PacelineError
from sdk.trial_record import measurement_doubt
from workloads.target_setting.anchor import (
    AnchoredTarget,
    OfficialAnchor,
    anchored_target,
    official_anchor,
    read_run,
)

REFERENCE = "nadamw"


def run_arguments(args: argparse.Namespace, names: list[str], framework: str) -> list[str]:
    """The `paceline run` flags of the reference's dev runs."""
    from sdk.rulesets import version_label

    argv = ["--framework", framework, "--submission", REFERENCE, "--ruleset", "self",
            "--ruleset-version", args.ruleset_version, "--scale", "dev",
            "--studies", str(args.seeds), "--seed", str(args.seed), "--jobs", str(args.jobs),
            "--no-checkpoints", "--no-tensorboard", "--whole-budget",
            "--experiment-dir", args.experiment_dir,
            "--experiment-name", f"anchor/{version_label(args.ruleset_version)}"]
    for name in names:
        argv += ["--workload", name]
    for flag in ("data_dir", "threads", "clock"):
        value = getattr(args, flag, None)
        if value is not None:
            argv += [f"--{flag.replace('_', '-')}", str(value)]
    if args.resume:
        argv.append("--resume")
    if args.overwrite:
        argv.append("--overwrite")
    return argv


def run_reference(argv: list[str]) -> dict[str, list[Path]]:
    """Run the reference's trials as `paceline run ARGV` would (``--whole-budget``: past the
    targets); trial folders by workload."""
    from sdk.cli.run_cmd import run_like_paceline_run
    from sdk.trial_status import is_failure

    results = run_like_paceline_run(argv)
    failed = [r for r in results if is_failure(r.status) or r.best_validation_metric is None]
    if failed:
        first = failed[0]
        raise PacelineError(f"The reference's dev run on {first.workload} (study "
                            f"{first.study}) failed: {first.reason or first.status}.")
    out: dict[str, list[Path]] = {}
    for result in sorted(results, key=lambda r: (r.workload, r.study)):
        out.setdefault(result.workload, []).append(Path(result.trial_dir))
    return out


def anchor_record(previous: dict[str, Any], anchor: OfficialAnchor, target: AnchoredTarget,
                  command: str, trial_dirs: list[Path]) -> dict[str, Any]:
    """``previous`` (the workload's calibration record) with anchored targets in every
    rules version; the earlier procedure's runs and command stay as its provenance."""
    record = copy.deepcopy(previous)
    record.setdefault("target_setting_command", previous.get("command"))
    record["command"] = command
    record["created"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    for numbers in record["numbers"].values():
        numbers["validation_target_value"] = target.validation_target
        numbers["test_target_value"] = target.test_target
    record["anchor"] = {**target.as_record(anchor), "reference": REFERENCE,
                        "dev_trials": [str(p) for p in trial_dirs]}
    return record


def describe(name: str, anchor: OfficialAnchor, target: AnchoredTarget,
             current: tuple[float, float | None]) -> str:
    """One workload's anchoring in a few lines."""
    runs = ", ".join("-" if v is None else f"{v:.4g}" for v in target.per_run)
    if target.rule == "share":
        how = (f"the reference reached {anchor.target:g} officially at "
               f"{anchor.share:.0%} of its budget (median of {len(anchor.shares)} studies); its "
               f"dev runs' best so far at {anchor.share:.0%} of the dev budget (read "
               f"between evals): {runs}")
    else:
        how = (f"the reference missed {anchor.target:g} officially (best "
               f"{', '.join(f'{b:.4g}' for b in anchor.bests)}; error ratio "
               f"{anchor.error_ratio:.3f}); its dev runs' best: {runs}")
    reached = ", ".join("missed" if v is None else f"{v:.0%}" for v in target.dev_shares)
    official = ", ".join("missed" if v is None else f"{v:.0%}" for v in anchor.shares)
    return (f"{name} ({anchor.metric}): {how}\n  target {current[0]:g} -> "
            f"{target.validation_target:g}, test target {current[1]} -> {target.test_target}"
            f"\n  reached at this share of the budget: officially {official}; at dev "
            f"{reached}")


def run(args: argparse.Namespace, names: list[str]) -> int:
    """The `--anchor` mode of `paceline targets`."""
    from sdk.registry import workloads
    from workloads.calibration_record import read_record

    folder = Path(args.anchor)
    if not folder.is_dir():
        raise PacelineError(f"--anchor {folder} is not a folder of official logs.")
    from sdk.rulesets import get_ruleset

    multiplier = get_ruleset(args.ruleset_version).budget_multiplier("self")
    anchors = {name: official_anchor(folder, name, multiplier) for name in names}
    frameworks = {a.framework for a in anchors.values()}
    if len(frameworks) != 1:
        raise PacelineError(f"The anchor logs mix frameworks ({', '.join(sorted(frameworks))}); "
                            "anchor on one reference run.")
    framework = frameworks.pop()
    argv = run_arguments(args, names, framework)
    command = ("paceline targets " + " ".join(shlex.quote(n) for n in args.workloads) +
               f" --anchor {shlex.quote(str(folder))} --ruleset-version {args.ruleset_version}"
               f" --seeds {args.seeds} --seed {args.seed}")
    trials = run_reference(argv)
    derived: dict[str, Any] = {}
    for name in names:
        numbers = workloads().workload_class(name, "dev", framework).numbers_for("0.5")
        current = (numbers.validation_target_value, numbers.test_target_value)
        metric = numbers.target_metric_name
        runs = [read_run(t, metric) for t in trials[name]]
        target = anchored_target(anchors[name], runs, metric, current)
        print(describe(name, anchors[name], target, current))
        derived[name] = {"previous": {"validation_target_value": current[0],
                                      "test_target_value": current[1]},
                         **target.as_record(anchors[name]),
                         "dev_trials": [str(p) for p in trials[name]]}
        doubts = {t: measurement_doubt(t) for t in trials[name]}
        for trial, doubt in doubts.items():
            if doubt:
                print(f"  CHECK {trial}: {doubt}; the target rests on this run: run it again "
                      "(move the folder away, then --resume).")
        previous = read_record(name)
        if args.write:
            if previous is None:
                raise PacelineError(f"{name} has no calibration record to anchor; run "
                                    f"`paceline targets {name} --write` first.")
            from workloads.target_setting.cli import write

            write(name, anchor_record(previous, anchors[name], target, command, trials[name]),
                  sync=False)  # budgets did not move; variants keep their own targets
    if args.json:
        from sdk.trial_logs import atomic_write_json

        atomic_write_json(Path(args.json), {"command": command, "workloads": derived})
    return 0
