"""Dev-scale ruleset numbers of the Conformer family (``DEV_NUMBERS``).

``numbers.json`` beside this file holds each workload's v0.5 numbers; ``paceline targets
<name> --scale dev --write`` rewrites its entry (docs/targets.md) and calibration.json keeps
the runs. The variants take the base's budget, eval period and step hint; later ruleset
versions are derived from v0.5 by workloads/common/numbers.py.
"""

from pathlib import Path

from workloads.common.numbers import load_dev_numbers

DEV_NUMBERS = load_dev_numbers(Path(__file__).with_name("numbers.json"))
