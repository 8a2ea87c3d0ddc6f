"""How many step hints' worth of baseline steps each official budget buys, from published logs.

    .venv/bin/python benchmarks/bench_step_share.py \\
        ../shared/algoperf_reference_logs/algoperf_v06/logs/external_tuning/baseline
    .venv/bin/python benchmarks/bench_step_share.py \\
        ../shared/algoperf_reference_logs/rolling_a100_scoring_branch/logs/self_tuning/nadamw_baselinev05 \\
        ../shared/algoperf_reference_logs/rolling_a100_scoring_branch/logs/self_tuning/nadamw

Prints, per workload, the trials measured and the median, minimum and maximum step share (the
baseline's steps per second of submission time x budget / step hint; sdk/scoring/step_share.py).
The medians are the shares shipped in ``sdk.rulesets.BASELINE_STEP_SHARES``, which set the dev
budgets of each rules version (workloads/common/numbers.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sdk.scoring.step_share import step_shares  # noqa: E402
from sdk.text_tables import format_table  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", help="submission folders (or folders of them)")
    args = parser.parse_args(argv)
    rows = [[w, str(len(v)), f"{statistics.median(v):.3f}", f"{min(v):.3f}", f"{max(v):.3f}"]
            for w, v in step_shares(args.paths).items()]
    print(format_table(["workload", "trials", "median share", "min", "max"], rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
