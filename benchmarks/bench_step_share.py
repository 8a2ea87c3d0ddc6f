"""How many step hints' worth of baseline steps each official budget buys, from published logs.

    .venv/bin/python benchmarks/bench_step_share.py \\
        ../shared/algoperf_reference_logs/algoperf_v06/logs/external_tuning/baseline
    .venv/bin/python benchmarks/bench_step_share.py \\
        ../shared/algoperf_reference_logs/rolling_a100_scoring_branch/logs/self_tuning/nadamw_baselinev05 \\
        ../shared/algoperf_reference_logs/rolling_a100_scoring_branch/logs/self_tuning/nadamw

Prints, per workload and framework, the trials measured and the median, minimum and maximum
step share (steps per second of submission time x budget / step hint;
sdk/scoring/step_share.py). With ``--field`` (every published trial of the round) it also
prints the shares shipped in ``sdk.rulesets.BASELINE_STEP_SHARES``, per framework (a framework
the baseline did not run in: by the field's relative step rate), which set the dev budgets of
each rules version (workloads/common/numbers.py):

    R=../shared/algoperf_reference_logs/rolling_a100_scoring_branch/logs/self_tuning
    .venv/bin/python benchmarks/bench_step_share.py --field $R -- $R/nadamw_baselinev05 $R/nadamw
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sdk.scoring.step_share import (  # noqa: E402
    framework_step_shares,
    shares_by_framework,
)
from sdk.text_tables import format_table  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="submission folders (or folders of them)")
    parser.add_argument("--field", nargs="+", default=None,
                        help="every published trial of the round, for the shipped per-framework "
                             "shares")
    args = parser.parse_args(argv)
    rows = [[w, f, str(len(v)), f"{statistics.median(v):.3f}", f"{min(v):.3f}", f"{max(v):.3f}"]
            for (w, f), v in shares_by_framework(args.paths).items()]
    print(format_table(["workload", "framework", "trials", "median share", "min", "max"], rows))
    if args.field:
        shipped = framework_step_shares(args.paths, args.field)
        frameworks = sorted({f for v in shipped.values() for f in v})
        print("\nShipped shares (BASELINE_STEP_SHARES):")
        print(format_table(["workload", *frameworks],
                           [[w, *(f"{v[f]:.3f}" if f in v else "-" for f in frameworks)]
                            for w, v in shipped.items()]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
