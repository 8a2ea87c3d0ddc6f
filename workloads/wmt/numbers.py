"""``DEV_NUMBERS``: the dev-scale ruleset numbers of ``wmt`` and its three official variants.

The v0.5 values are data in ``numbers.json`` (the command that wrote each entry is its
comment, the runs are in calibration.json); ``paceline targets <name> --scale dev --write``
rewrites an entry, and a base's write syncs its variants' budget, eval period and step hint
(docs/targets.md). Every later ruleset version is derived in workloads/common/numbers.py.
"""

from pathlib import Path

from workloads.common.numbers import load_dev_numbers

DEV_NUMBERS = load_dev_numbers(Path(__file__).with_name("numbers.json"))
