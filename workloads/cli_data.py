"""`paceline data prepare`: build the dev datasets once into the cache.

    paceline data prepare              # every registered workload with dev data
    paceline data prepare mnist fastmri
    paceline data list
    paceline data check --scale official --data-dir DIR [--workload W ...]

Deterministic (fixed seeds), safe to interrupt and rerun (a dataset is swapped in only when
complete). The cache is ``$PACELINE_DATA_DIR`` or ``~/.cache/paceline/data``. ``check``
asks each family whether DIR holds usable official data (:mod:`sdk.cli.data_check`).
"""

from __future__ import annotations

import argparse
import sys
import time

from sdk.cli import data_check
from sdk.cli.command import Command


def configure(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    prep = sub.add_parser("prepare", help="prepare datasets (default: all)")
    prep.add_argument("workloads", nargs="*", metavar="WORKLOAD")
    prep.add_argument("--force", action="store_true", help="rebuild even if prepared")
    prep.add_argument("--data-dir", metavar="DIR",
                      help="build into DIR/<dataset> instead of the cache (the rest of DIR "
                           "is left alone)")
    sub.add_parser("list", help="show which datasets are prepared and where")
    data_check.configure(sub.add_parser(
        "check", help="say per workload family whether DIR holds usable official data"))


def _datasets() -> dict[str, object]:
    from sdk.registry import workloads

    out = {}
    for name in workloads().names():
        entry = workloads().entry(name)
        if entry.prepare and entry.prepare not in out.values():
            out[name] = entry.prepare
    return out


def run(args: argparse.Namespace) -> int:
    from sdk.errors import PacelineError
    from sdk.registry import _import_ref, workloads
    from workloads.common import data_cache

    if args.action == "check":
        return data_check.run(args)
    datasets = _datasets()
    if args.action == "list":
        print(f"cache: {data_cache.cache_root()}")
        for name in datasets:
            folder = data_cache.dataset_dir(name)
            state = "prepared" if data_cache.is_prepared(folder) else "missing"
            print(f"  {name:28s} {state}")
        return 0
    names = args.workloads or list(datasets)
    if args.data_dir:
        from sdk.cli.validate import check_output_dir

        check_output_dir(args.data_dir, "--data-dir")
    refs = []
    for name in names:
        ref = workloads().entry(name).prepare
        if ref is None:
            raise PacelineError(f"Workload {name!r} has no dev data to prepare.")
        if ref not in refs:
            refs.append(ref)
    for ref in refs:
        started = time.time()
        folder = _import_ref(ref)(data_dir=args.data_dir, force=args.force)
        print(f"{ref.split(':')[0].split('.')[1]}: {folder} ({time.time() - started:.1f}s)",
              file=sys.stderr)
    return 0


COMMAND = Command(
    name="data",
    help="prepare the dev-scale datasets into paceline's cache",
    description=__doc__,
    configure=configure,
    run=run,
)
