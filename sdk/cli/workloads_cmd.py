"""`paceline workloads`: every registered workload per scale and framework, with its class and
parameter count.

    paceline workloads
    paceline workloads --scale official --framework pytorch
    paceline workloads --scale official --json counts.json

Lists base workloads and their variants as the workload registry holds them; the counts are
taken without allocating the models (PyTorch on the meta device, JAX under
``jax.eval_shape``, see :mod:`sdk.param_count`), so official criteo1tb's 537M-parameter
embedding costs nothing. A workload that cannot be counted that way says why in its row.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sdk.cli.command import Command
from sdk.cli.validate import check_output_paths

SCALES = ("dev", "official")


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("--scale", choices=SCALES, default=None,
                   help="only this scale (default: every scale a workload has)")
    p.add_argument("--framework", choices=("pytorch", "jax"), default=None,
                   help="only this framework (default: both)")
    p.add_argument("--json", metavar="OUT",
                   help="also write the rows here as JSON ({'workloads': [...]})")


def _table(rows: list) -> str:
    from sdk.text_tables import format_table

    body = [(r.name, r.base or "-", r.scale, r.framework,
             f"{r.parameters:,}" if r.parameters is not None else r.note,
             r.workload_class) for r in rows]
    return format_table(("workload", "base", "scale", "framework", "parameters", "class"), body)


def run(args: argparse.Namespace) -> int:
    from sdk.param_count import workload_rows

    check_output_paths(args, "json")
    rows = workload_rows(scale=args.scale, framework=args.framework)
    print(_table(rows) if rows else "No registered workload matches these flags.")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"workloads": [r.as_dict() for r in rows]}, indent=2) + "\n")
    return 0


COMMAND = Command(
    name="workloads",
    help="list every registered workload per scale and framework, with its parameter count",
    description=__doc__,
    configure=configure,
    run=run,
)
