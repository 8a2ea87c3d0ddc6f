"""Dev-scale ruleset numbers of ``fastmri`` and its official variants.

Each workload's v0.5 numbers are data, ``numbers.json`` beside this file, which ``paceline
targets <name> --scale dev --write`` rewrites (docs/targets.md); later versions follow from
their official step hints and measured baseline step shares (workloads/common/numbers.py).
calibration.json beside this file records the runs behind them.
"""

from pathlib import Path

from workloads.common.numbers import load_dev_numbers

DEV_NUMBERS = load_dev_numbers(Path(__file__).with_name("numbers.json"))
