"""Dev-scale ruleset numbers of ``ogbg`` and its official variants, from ``numbers.json``.

``paceline targets ogbg --scale dev --write`` measured the base's v0.5 numbers on the quiet
2-core development machine (calibration.json beside this file has the command and every run)
and rewrote its entry in ``numbers.json`` (docs/targets.md); the variants' entries were synced
from it: the base's budget, eval period and step hint, as AlgoPerf's variants keep theirs, with
targets of their own. Later versions follow from v0.5 (workloads/common/numbers.py).
"""

from pathlib import Path

from workloads.common.numbers import load_dev_numbers

DEV_NUMBERS = load_dev_numbers(Path(__file__).with_name("numbers.json"))
