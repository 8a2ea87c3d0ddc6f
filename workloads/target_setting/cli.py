"""`paceline targets`: set dev workloads' targets and budgets by AlgoPerf's procedure.

    paceline targets mnist --scale dev --runtime 15
    paceline targets ogbg wmt --trials 8 --seeds 5 --json targets.json --write
    paceline targets suite --write        # the scored dev workloads, then 'variants'
    paceline targets mnist --resume       # continue an interrupted calibration

Tunes AdamW, NAdamW, Nesterov and heavy-ball momentum for a fixed number of steps (the
runtime divided by the measured NAdamW step time), reruns the best point with several seeds,
and derives target, test target, budget, eval period and step hint. ``--write`` stores the
provenance in ``workloads/<family>/calibration.json`` and rewrites the family's generated
numbers block. See docs/targets.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sdk.cli.command import Command
from sdk.cli.validate import (
    MAX_JOBS,
    MAX_THREADS,
    MAX_TRIALS,
    check_output_dir,
    check_output_path,
    finite_positive_float,
    positive_int,
)
from sdk.clock import CLOCKS
from sdk.rulesets import VERSION_CHOICES, resolve_version


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("workloads", nargs="+", metavar="WORKLOAD",
                   help="dev workload names; 'suite' = the scored ones, 'variants' = their "
                        "held-out variants, 'all' = every dev workload")
    p.add_argument("--scale", choices=["dev", "official"], default="dev",
                   help="only dev: official numbers are fixed by the benchmark")
    p.add_argument("--framework", choices=["pytorch", "jax"], default="pytorch")
    p.add_argument("--runtime", type=finite_positive_float, metavar="SEC",
                   help="target-setting runtime per run (default: the current dev budget "
                        "divided by the budget factor; variants: their base's)")
    p.add_argument("--steps", type=positive_int(), metavar="N",
                   help="fix the steps per run instead of deriving them from --runtime")
    p.add_argument("--trials", type=positive_int(MAX_TRIALS), default=5, metavar="N",
                   help="search points per algorithm (default 5; AlgoPerf: 200)")
    p.add_argument("--seeds", type=positive_int(MAX_TRIALS), default=5, metavar="K",
                   help="reruns of the best point (default 5; AlgoPerf: 20)")
    p.add_argument("--algorithms", metavar="LIST",
                   help="comma-separated baselines (default adamw,nadamw,nesterov,momentum; "
                        "variants: the base's two best)")
    p.add_argument("--search-space", action="append", default=[], metavar="ALGO=JSON",
                   help="use this search space for one algorithm (repeatable)")
    p.add_argument("--official-configuration", action="store_true",
                   help="set only the targets, with AlgoPerf's published target-setting "
                        "point of each workload (its algorithm and hyperparameters; "
                        "workloads/official_target_setting) rerun --seeds times for the "
                        "calibrated step count; budgets, eval periods and step hints stay")
    p.add_argument("--anchor", metavar="LOGS",
                   help="set only the targets, anchored on the reference algorithm's official "
                        "runs in LOGS (an AlgoPerf submission folder of the self-tuning NAdamW "
                        "baseline, e.g. .../self_tuning/nadamw_baselinev05): paceline's NAdamW "
                        "runs --seeds whole dev budgets under --ruleset-version, and the dev "
                        "target is what it reaches at the official share of the budget "
                        "(docs/targets.md#anchored-targets); budgets, eval periods and step "
                        "hints stay")
    p.add_argument("--ruleset-version", choices=VERSION_CHOICES, type=resolve_version,
                   default="latest", help="with --anchor: the rules of the anchor logs and of "
                                          "the dev runs (default latest)")
    p.add_argument("--budget-factor", default="4/3", metavar="F",
                   help="budget = F x target-setting runtime (default 4/3, as AlgoPerf v0.5)")
    p.add_argument("--seed", type=int, default=0, help="base seed of the procedure")
    p.add_argument("--experiment-dir", default="experiments/targets", metavar="DIR",
                   help="where the runs' logs go (default experiments/targets)")
    p.add_argument("--resume", action="store_true",
                   help="keep finished runs and continue interrupted ones")
    p.add_argument("--overwrite", action="store_true", help="delete earlier runs first")
    p.add_argument("--data-dir", metavar="DIR")
    p.add_argument("--threads", type=positive_int(MAX_THREADS), metavar="N",
                   help="CPU threads for the framework (default 1 under the dev clock)")
    p.add_argument("--clock", choices=CLOCKS, default="dev",
                   help="time the probe and the runs in this machine's CPU seconds ('dev', "
                        "the unit other machines' dev clocks are scaled to) or wall seconds")
    p.add_argument("--jobs", type=positive_int(MAX_JOBS), default=1, metavar="N",
                   help="target-setting runs side by side, one thread each (default 1)")
    p.add_argument("--probe-seconds", type=finite_positive_float, metavar="SEC",
                   help="length of the speed probe (default: 10%% of the runtime, 4-15 s)")
    p.add_argument("--json", metavar="OUT", help="write every run and the derived numbers here")
    p.add_argument("--write", action="store_true",
                   help="update workloads/<family>/calibration.json and the family's "
                        "generated numbers block")


def resolve(names: list[str]) -> list[str]:
    """Expand 'suite', 'variants' and 'all'; base workloads come before variants."""
    from sdk.errors import PacelineError
    from sdk.registry import workloads

    registry = workloads()
    groups = {"suite": dict(scale="dev", scored=True, variants=False),
              "variants": dict(scale="dev", variants=True),
              "all": dict(scale="dev")}
    out: list[str] = []
    for name in names:
        if name in groups:
            found = registry.names(**groups[name])
            if not found:
                raise PacelineError(f"No dev workloads match {name!r} yet.")
            out.extend(found)
        else:
            registry.entry(name)  # unknown names fail here with suggestions
            out.append(name)
    out = list(dict.fromkeys(out))
    return sorted(out, key=lambda n: registry.entry(n).base is not None)


def options_from(args: argparse.Namespace) -> Any:
    from sdk.errors import PacelineError
    from workloads.target_setting.procedure import TargetOptions, parse_factor

    if args.scale != "dev":
        raise PacelineError("Target setting calibrates dev workloads; the official targets "
                            "and budgets are fixed by the benchmark (use --scale dev).")
    if args.resume and args.overwrite:
        raise PacelineError("Pass either --resume or --overwrite, not both.")
    check_output_path(args.json, "--json")
    check_output_dir(args.experiment_dir, "--experiment-dir")
    spaces = {}
    for item in args.search_space:
        algorithm, sep, path = item.partition("=")
        if not sep or not algorithm or not path:
            raise PacelineError(f"--search-space {item!r} must look like ALGORITHM=PATH.")
        spaces[algorithm] = path
    algorithms = None
    if args.algorithms:
        algorithms = tuple(a.strip() for a in args.algorithms.split(",") if a.strip())
        if not algorithms:
            raise PacelineError("--algorithms names no algorithm.")
    return TargetOptions(
        framework=args.framework, runtime_sec=args.runtime, steps=args.steps,
        trials=args.trials, seeds=args.seeds, algorithms=algorithms,
        budget_factor=parse_factor(args.budget_factor), seed=args.seed, search_spaces=spaces,
        root=Path(args.experiment_dir), resume=args.resume, overwrite=args.overwrite,
        data_dir=args.data_dir, threads=args.threads, probe_sec=args.probe_seconds,
        clock=args.clock, jobs=args.jobs,
    )


def official_options(opts: Any, name: str) -> Any:
    """``opts`` with the search replaced by AlgoPerf's published point for ``name``."""
    from dataclasses import replace

    from workloads.official_target_setting import configuration

    algorithm, space = configuration(name)
    return replace(opts, algorithms=(algorithm,), search_spaces={algorithm: str(space)},
                   trials=1, keep_speed=True)


# A published configuration sets the dev target only if it gets at least this share of the way
# from the untrained model to the workload's current (tuned) dev target: one that does not
# train at dev scale measures nothing an entry would face.
MIN_TRANSFER = 0.5


def transfer_share(record: dict[str, Any], current: float) -> tuple[float, float]:
    """``(share, untrained)``: how far the reruns' median best value got from the untrained
    model (the median of the reruns' first evaluation) towards ``current``."""
    import statistics

    from workloads.target_setting.procedure import eval_rows

    column = f"validation/{record['numbers']['0.5']['target_metric_name']}"
    firsts = [rows[0][column] for t in record["trials"] if t["kind"] == "rerun"
              for rows in [eval_rows(Path(t["trial_dir"]))] if rows and column in rows[0]]
    untrained = statistics.median(firsts) if firsts else float("nan")
    reached = record["derivation"]["median_best_validation"]
    if current == untrained:
        return float("inf"), untrained
    return (reached - untrained) / (current - untrained), untrained


def official_transfers(record: dict[str, Any], current: Any) -> bool:
    """Whether the published point trains at dev scale (else say so: the target stays)."""
    share, untrained = transfer_share(record, current.validation_target_value)
    record["official_configuration"] = {"transfer_share": share, "untrained": untrained,
                                        "tuned_target": current.validation_target_value,
                                        "min_transfer": MIN_TRANSFER,
                                        "used": share >= MIN_TRANSFER}
    if share >= MIN_TRANSFER:
        return True
    metric = record["numbers"]["0.5"]["target_metric_name"]
    print(f"{record['workload']}: the published configuration got {share:.0%} of the way from "
          f"the untrained model ({metric} {untrained:.4g}) to the current target "
          f"({current.validation_target_value:.4g}), under {MIN_TRANSFER:.0%}: it does not "
          "train at dev scale, so the current target stays (nothing written).")
    return False


def run(args: argparse.Namespace) -> int:
    from sdk.errors import PacelineError
    from workloads.calibration_record import read_record
    from workloads.target_setting.procedure import check_options, set_targets

    opts = options_from(args)
    check_options(opts)
    if args.official_configuration and (args.algorithms or args.search_space):
        raise PacelineError("--official-configuration picks the algorithm and its point; "
                            "leave out --algorithms and --search-space.")
    names = resolve(args.workloads)
    if args.anchor:
        if args.official_configuration or args.algorithms or args.search_space:
            raise PacelineError("--anchor runs the reference algorithm at its self-tuning "
                                "point; leave out --official-configuration, --algorithms and "
                                "--search-space.")
        from workloads.target_setting import anchor_runs

        return anchor_runs.run(args, names)
    from sdk.registry import workloads

    for name in names:  # every name must exist in this framework before anything runs
        workloads().workload_class(name, "dev", opts.framework)
        if args.official_configuration:
            official_options(opts, name)
    records: dict[str, Any] = {}
    for name in names:
        current = workloads().workload_class(name, "dev", opts.framework).numbers_for("0.5")
        previous = read_record(name) if args.official_configuration else None
        record = set_targets(name, official_options(opts, name) if args.official_configuration
                             else opts, known=records)
        if previous and previous.get("speed"):  # only the targets change, not the speed
            record["speed"] = previous["speed"]
        records[name] = record
        print(describe(record))
        keep = args.official_configuration and not official_transfers(record, current)
        print()
        if args.json:
            from sdk.trial_logs import atomic_write_json

            atomic_write_json(Path(args.json), {"workloads": records})
        if args.write and not keep:
            write(name, record)
    if len(records) > 1:
        print(summary_table(list(records.values())))
    return 0


def write(name: str, record: dict[str, Any], sync: bool = True) -> None:
    """Store the record and regenerate the family's numbers block (or say how to add one);
    ``sync`` gives the base's registered variants its budget (not needed when only targets
    changed)."""
    from workloads.calibration_record import (
        BEGIN,
        END,
        numbers_code,
        rewrite_block,
        write_record,
    )
    from workloads.target_setting.procedure import numbers_from_record

    path = write_record(name, record)
    numbers = numbers_from_record(record)
    comment = (f"Generated by `{record['command']}`\n"
               f"on {record['created']}; provenance: {path.name}. Do not edit by hand.")
    code = rewrite_block(name, numbers, comment, folder=path.parent)
    if code is not None:
        print(f"paceline targets: wrote {path} and the numbers block in {code}",
              file=sys.stderr)
        if sync:
            sync_variants(name, numbers, record["command"])
        refresh_docs()
        return
    print(f"paceline targets: wrote {path}, but no Python file in {path.parent} has a "
          f"generated block for {name!r}; put these lines where its v0.5 dev numbers are "
          f"defined and rerun with --write:\n\n{BEGIN.format(name=name)}\n"
          f"{numbers_code(numbers, 'DEV_NUMBERS')}\n{END.format(name=name)}\n",
          file=sys.stderr)


def sync_variants(base: str, numbers: Any, command: str) -> list[str]:
    """Give the base's registered variants its new budget, eval period and step hint.

    AlgoPerf's variants keep their base's budget, eval period and step hint; only their
    targets are their own. A variant with its own calibration record keeps its targets; one
    without takes the base's (provisional until ``paceline targets <variant> --write``).
    Returns the variants whose blocks were rewritten.
    """
    from dataclasses import replace

    from sdk.registry import workloads
    from workloads.calibration_record import read_record, rewrite_block

    done = []
    for variant in workloads().names(scale="dev", variants=True):
        if workloads().entry(variant).base != base:
            continue
        own = read_record(variant)
        if own is not None:
            from workloads.target_setting.procedure import numbers_from_record

            mine = numbers_from_record(own)
            new = replace(numbers, validation_target_value=mine.validation_target_value,
                          test_target_value=mine.test_target_value)
            why = f"targets from its own record; budget, eval period and step hint from {base}'s"
        else:
            new = numbers
            why = (f"{base}'s numbers, targets included, until `paceline targets {variant} "
                   "--write` sets its own")
        comment = f"Synced by `{command}`: {why}. Do not edit by hand."
        if rewrite_block(variant, new, comment) is not None:
            done.append(variant)
    if done:
        print(f"paceline targets: synced the variants {', '.join(done)} with {base}",
              file=sys.stderr)
    return done


def describe(record: dict[str, Any]) -> str:
    """The runs and the derived numbers of one workload, as text tables."""
    from sdk.text_tables import format_table

    metric = record["numbers"]["0.5"]["target_metric_name"]
    trials = format_table(
        ["run", "algorithm", "trial", "learning rate", "status", "steps", f"best {metric}",
         f"test {metric}"],
        [(t["kind"], t["algorithm"], t["trial"], t["hyperparameters"].get("learning_rate"),
          t["status"], t["global_step"], t["best_validation"], t["test_at_best"])
         for t in record["trials"]],
    )
    rows = []
    for version, n in record["numbers"].items():
        rows.append((version, n["validation_target_value"], n["test_target_value"],
                     n["max_allowed_runtime_sec"], n["eval_period_time_sec"], n["step_hint"]))
    numbers = format_table(["rules", "target", "test target", "budget(s)", "eval period(s)",
                            "step hint"], rows)
    best = record["best"]
    proc = record["procedure"]
    return (f"{record['workload']} ({record['framework']}): {proc['steps']} steps per run "
            f"(~{proc['runtime_sec']:.1f}s at {1000 * record['speed']['step_time_sec']:.2f} "
            f"ms/step)\n{trials}\n\nbest: {best['algorithm']} trial {best['trial']}; "
            f"target = median of {len(record['derivation']['rerun_best_validation'])} reruns' "
            f"best {metric}\n{numbers}\ncommand: {record['command']}")


def summary_table(records: list[dict[str, Any]]) -> str:
    from sdk.text_tables import format_table

    rows = []
    for r in records:
        n = r["numbers"]["0.5"]
        rows.append((r["workload"], n["target_metric_name"], n["validation_target_value"],
                     n["test_target_value"], n["max_allowed_runtime_sec"],
                     n["eval_period_time_sec"], n["step_hint"], r["best"]["algorithm"]))
    return format_table(["workload", "metric", "target", "test target", "budget(s)",
                         "eval period(s)", "step hint", "best algorithm"], rows)


COMMAND = Command(
    name="targets",
    help="set dev workloads' targets and budgets with AlgoPerf's target-setting procedure",
    description=__doc__,
    configure=configure,
    run=run,
)


def refresh_docs() -> None:
    """Regenerate the docs' numbers tables in a fresh process.

    This process imported the numbers before ``--write`` rewrote them, so the tables are made
    by a new interpreter that reads the code as it is now.
    """
    import subprocess

    from workloads import doc_tables

    if not (doc_tables.DOCS / "workloads.md").is_file():
        return
    done = subprocess.run([sys.executable, "-m", "workloads.doc_tables"], capture_output=True,
                          text=True, check=False)
    for line in done.stdout.splitlines():
        print(f"paceline targets: {line}", file=sys.stderr)
    if done.returncode != 0:
        why = (done.stderr.strip().splitlines() or ["no message"])[-1]
        print(f"paceline targets: could not refresh the docs' numbers tables ({why}); run "
              "python -m workloads.doc_tables", file=sys.stderr)
