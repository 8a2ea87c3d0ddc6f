"""`paceline calibrate`: probe this machine's dev clock (the cost of the reference step).

    paceline calibrate                                  # every dev workload, PyTorch
    paceline calibrate --framework jax --workloads mnist ogbg
    paceline calibrate --show                           # what is cached, probing nothing
    paceline calibrate --check --workloads ogbg fastmri   # has this machine drifted since?

Dev budgets are seconds on the calibration machine (the one that ran ``paceline targets``).
The dev clock charges a trial its CPU time and multiplies it by a per-workload, per-framework
scale: the calibration machine's recorded NAdamW step time over this machine's CPU time of
the same step (one thread, compilation left out, measured as a trial pays for it). `paceline
run` probes a missing scale by itself the first time (a short trial, under a minute); this
command probes them all again, e.g. after upgrading torch or jax or when a trial's timing was
marked CHECK. The scales are cached in ``$PACELINE_CACHE_DIR/dev_clock.json`` (default
``~/.cache/paceline``). ``--quiet`` prints the geometric-mean speed factor only (>1 = slower
than the calibration machine), the value ``--speed-factor`` would override the probed scales
with. ``--check`` probes again without touching the cache and says how far each step's cost
has moved since it was cached: a shared or virtual machine's speed can drift by 10-20% over
tens of minutes (docs/runner.md), which no trial can tell from its own CPU time. Run it
before a long measurement; above :data:`CHECK_DRIFT` it says to calibrate again.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from sdk.cli.command import Command

# A step cost this far from the cached one (either way) is worth a fresh calibration.
CHECK_DRIFT = 0.10


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workloads", nargs="+", metavar="NAME",
                   help="dev workloads to probe (default: every base dev workload)")
    p.add_argument("--framework", choices=["pytorch", "jax"], default="pytorch")
    p.add_argument("--data-dir", metavar="DIR")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--show", action="store_true", help="print the cache, probe nothing")
    mode.add_argument("--check", action="store_true",
                      help="probe again and compare with the cache, keeping the cache")
    p.add_argument("--json", metavar="OUT", help="write the scales here")
    p.add_argument("--quiet", action="store_true", help="print only the speed factor")


def chosen_workloads(names: list[str] | None, framework: str) -> list[str]:
    """Base dev workloads with a recorded reference step; unknown or unrecorded names fail."""
    from sdk.errors import PacelineError
    from sdk.registry import workloads
    from workloads.dev_clock import reference_step

    registry = workloads()
    out = []
    for name in names or registry.names(scale="dev", variants=False):
        if "dev" not in registry.entry(name).classes:
            raise PacelineError(f"Workload {name!r} has no dev scale.")
        if framework not in registry.entry(name).classes["dev"]:
            if names:
                raise PacelineError(f"Workload {name!r} has no {framework} implementation.")
            continue
        found = reference_step(name)
        if found is None:
            if names:
                raise PacelineError(f"Workload {name!r} has no recorded reference step; "
                                    f"`paceline targets {name} --write` makes one.")
            continue
        out.append(found[0])
    if not out:
        raise PacelineError("No dev workload has a recorded reference step yet; run `paceline "
                            "targets suite --write` on the calibration machine first.")
    return list(dict.fromkeys(out))


def speed_factor(scales: list[float]) -> float:
    """Geometric mean of 1/scale: how many times slower than the calibration machine."""
    return round(math.exp(-sum(math.log(s) for s in scales) / len(scales)), 2)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from sdk.run_context import hold_to_one_thread
    from sdk.text_tables import format_table
    from workloads.dev_clock import cache_path, normalisation, read_cache

    names = chosen_workloads(args.workloads, args.framework)
    if not args.show:
        hold_to_one_thread(args.framework)
    if args.check:
        return check(names, args)
    data, note = read_cache()
    if note and args.show:
        print(f"paceline: {note}.")
    rows, entries = [], {}
    for name in names:
        key = f"{name}/{args.framework}"
        if not args.show:
            normalisation(name, args.framework, args.data_dir, refresh=True)
            data, _ = read_cache()
        entry: dict[str, Any] | None = data["entries"].get(key)
        if entry is None:
            rows.append((name, args.framework, "-", "-", "not probed", "-"))
            continue
        entries[key] = entry
        rows.append((name, args.framework, 1000 * entry["recorded_step_sec"],
                     1000 * entry["step_cpu_sec"], f"{entry['scale']:.3f}", entry["probed"]))
    factor = speed_factor([e["scale"] for e in entries.values()]) if entries else None
    if args.json:
        from sdk.trial_logs import atomic_write_json

        atomic_write_json(Path(args.json), {"speed_factor": factor, "entries": entries,
                                            "machine": data["machine"]})
    if args.quiet:
        print(factor if factor is not None else "")
        return 0
    print(format_table(["workload", "framework", "calibration ms/step", "this machine CPU "
                        "ms/step", "scale", "probed"], rows))
    print(f"\ncache: {cache_path()}")
    if factor is not None:
        print(f"this machine is {factor:g}x the calibration machine's step time (geometric "
              "mean; the dev clock corrects for it per workload, no --speed-factor needed)")
    return 0


def check(names: list[str], args: argparse.Namespace) -> int:
    """Probe ``names`` again, compare each step cost with the cached one; the cache stays."""
    from sdk.text_tables import format_table
    from workloads.dev_clock import probe, read_cache, reference_step

    cached = read_cache()[0]["entries"]
    rows, drifted = [], []
    for name in names:
        key = f"{name}/{args.framework}"
        before = cached.get(key)
        now = probe(name, args.framework, reference_step(name)[1], args.data_dir)
        if before is None:
            rows.append((name, args.framework, "-", 1000 * now["step_cpu_sec"], "not cached"))
            continue
        drift = now["step_cpu_sec"] / before["step_cpu_sec"] - 1
        if abs(drift) > CHECK_DRIFT:
            drifted.append(name)
        rows.append((name, args.framework, 1000 * before["step_cpu_sec"],
                     1000 * now["step_cpu_sec"], f"{drift:+.1%} (cached {before['probed']})"))
    print(format_table(["workload", "framework", "cached CPU ms/step", "now CPU ms/step",
                        "drift"], rows))
    if drifted:
        print(f"\n{', '.join(drifted)}: the step costs more than {CHECK_DRIFT:.0%} more or "
              "less than when cached; trials now would be charged for a machine that is no "
              f"longer this one: run `paceline calibrate --framework {args.framework} "
              f"--workloads {' '.join(drifted)}` before measuring.")
    else:
        print(f"\nevery step within {CHECK_DRIFT:.0%} of its cached cost; the cache stands.")
    return 0


COMMAND = Command(
    name="calibrate",
    help="probe this machine's dev clock against the calibration machine",
    description=__doc__,
    configure=configure,
    run=run,
)
