"""Dev-scale ruleset numbers of ``imagenet_vit`` and its official variants.

Each workload's v0.5 numbers are data, ``numbers.json`` beside this file, which ``paceline
targets <name> --scale dev --write`` rewrites (docs/targets.md); later versions follow from
their official step hints and measured baseline step shares (workloads/common/numbers.py).
Variants keep the base workload's budget, eval period and step hint, as AlgoPerf's variants do;
only their targets are their own.

calibration.json in this folder records the runs behind the numbers.
"""

from pathlib import Path

from workloads.common.numbers import load_dev_numbers

DEV_NUMBERS = load_dev_numbers(Path(__file__).with_name("numbers.json"))
