"""The ``imagenet_resnet`` family's dev numbers, per workload and ruleset version.

v0.5 is calibrated: ``numbers.json`` holds it, written by ``paceline targets`` with ``--write``
(docs/targets.md; the runs behind it are in calibration.json). The variants share the base's
budget, eval period and step hint, as in AlgoPerf, and their targets are their own. Later
versions: workloads/common/numbers.py.
"""

from pathlib import Path

from workloads.common.numbers import load_dev_numbers

DEV_NUMBERS = load_dev_numbers(Path(__file__).with_name("numbers.json"))
