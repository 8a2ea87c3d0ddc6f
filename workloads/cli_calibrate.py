"""`paceline calibrate`: how fast this machine is compared with the calibration machine.

    paceline calibrate                         # every dev workload with a calibration record
    paceline calibrate --workloads mnist ogbg --seconds 8
    export PACELINE_SPEED_FACTOR=$(paceline calibrate --quiet)

Dev budgets are wall-clock seconds on the machine that ran ``paceline targets``. This command
runs a few seconds of the NAdamW baseline on each dev workload, compares the step times with
the ones recorded in ``workloads/<family>/calibration.json``, and prints their geometric mean:
the factor to pass as ``paceline run --speed-factor X`` (or ``PACELINE_SPEED_FACTOR``), which
multiplies dev budgets and eval periods. A factor of 2 means this machine is twice as slow.
See docs/targets.md.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

from sdk.cli.command import Command
from sdk.cli.validate import MAX_THREADS, check_output_path, finite_positive_float, positive_int


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workloads", nargs="+", metavar="NAME",
                   help="dev workloads to time (default: all with a calibration record)")
    p.add_argument("--framework", choices=["pytorch", "jax"], default="pytorch")
    p.add_argument("--seconds", type=finite_positive_float, default=5.0, metavar="SEC",
                   help="NAdamW submission time per workload (default 5)")
    p.add_argument("--threads", type=positive_int(MAX_THREADS), metavar="N",
                   help="CPU threads for the framework")
    p.add_argument("--data-dir", metavar="DIR")
    p.add_argument("--json", metavar="OUT", help="write the measurements here")
    p.add_argument("--quiet", action="store_true", help="print only the factor")


def recorded_workloads(names: list[str] | None) -> list[tuple[str, dict[str, Any]]]:
    """(name, recorded speed) of the workloads to time; unknown or unrecorded names fail."""
    from sdk.errors import PacelineError
    from sdk.registry import workloads
    from workloads.calibration_record import read_record

    registry = workloads()
    chosen = names or registry.names(scale="dev", variants=False)
    out = []
    for name in chosen:
        if "dev" not in registry.entry(name).classes:
            raise PacelineError(f"Workload {name!r} has no dev scale.")
        record = read_record(name)
        speed = (record or {}).get("speed")
        if speed:
            out.append((name, speed))
        elif names:
            raise PacelineError(f"Workload {name!r} has no calibration record with a step "
                                f"time; `paceline targets {name} --write` makes one.")
    if not out:
        raise PacelineError("No dev workload has a calibration record yet; run `paceline "
                            "targets suite --write` on the calibration machine first.")
    return out


def speed_factor(ratios: list[float]) -> float:
    """Geometric mean of measured/recorded step-time ratios, to two decimals."""
    return round(math.exp(sum(math.log(r) for r in ratios) / len(ratios)), 2)


def run(args: argparse.Namespace) -> int:
    import tempfile

    from sdk.errors import PacelineError
    from sdk.report import format_table
    from workloads.target_setting import measure_speed, subject_for

    if not args.seconds > 0:
        raise PacelineError(f"--seconds must be positive, got {args.seconds}.")
    check_output_path(args.json, "--json")
    chosen = recorded_workloads(args.workloads)
    rows, measured = [], []
    with tempfile.TemporaryDirectory(prefix="paceline-calibrate-") as tmp:
        for name, speed in chosen:
            if not args.quiet:
                print(f"timing {name} ({args.framework}, {args.seconds:g}s) ...",
                      file=sys.stderr)
            probe = measure_speed(subject_for(name, args.framework), args.seconds,
                                  Path(tmp) / name, args.data_dir, args.threads)
            ratio = probe["step_time_sec"] / speed["step_time_sec"]
            measured.append({"workload": name, "recorded_framework": speed["framework"],
                             "recorded_step_time_sec": speed["step_time_sec"],
                             "step_time_sec": probe["step_time_sec"], "ratio": ratio})
            rows.append((name, speed["framework"], 1000 * speed["step_time_sec"],
                         args.framework, 1000 * probe["step_time_sec"], f"{ratio:.2f}x"))
    factor = speed_factor([m["ratio"] for m in measured])
    if args.json:
        from sdk.trial_logs import atomic_write_json, system_metadata

        atomic_write_json(Path(args.json), {"speed_factor": factor, "workloads": measured,
                                            "machine": system_metadata()})
    if args.quiet:
        print(factor)
        return 0
    print(format_table(["workload", "recorded on", "recorded ms/step", "measured with",
                        "measured ms/step", "ratio"], rows))
    mixed = {m["recorded_framework"] for m in measured} != {args.framework}
    print(f"\nspeed factor: {factor:g} (geometric mean; >1 = slower than the calibration "
          f"machine{', and it includes the framework difference' if mixed else ''})")
    print(f"use it: paceline run --speed-factor {factor:g} ...   or   "
          f"export PACELINE_SPEED_FACTOR={factor:g}")
    return 0


COMMAND = Command(
    name="calibrate",
    help="measure this machine's speed factor against the dev calibration machine",
    description=__doc__,
    configure=configure,
    run=run,
)
