"""DeepSpeech's dev numbers: v0.5 read from ``numbers.json``, later versions derived.

The base workload was calibrated on the quiet 2-core machine by ``paceline targets
librispeech_deepspeech --scale dev --write`` (runs in calibration.json; docs/targets.md); its
variants' entries were synced from it (same budget, eval period and step hint). The derivation
of later versions is workloads/common/numbers.py's.
"""

from pathlib import Path

from workloads.common.numbers import load_dev_numbers

DEV_NUMBERS = load_dev_numbers(Path(__file__).with_name("numbers.json"))
