"""The framework-neutral half of the Conformer workloads: its tables (numbers in numbers.py,
model config and variants in config.py).

    paceline run --workload librispeech_conformer --submission nadamw
    paceline run --workload librispeech_conformer_gelu --submission nadamw
"""

from __future__ import annotations

from workloads.common.speech.workload import SpeechWorkload
from workloads.librispeech_conformer import config
from workloads.librispeech_conformer.numbers import DEV_NUMBERS


class LibrispeechConformerWorkload(SpeechWorkload):
    """The Conformer family at dev or official scale; registry rows make the variants."""

    name = "librispeech_conformer"
    dev_numbers = DEV_NUMBERS
    config_module = config
    variants = config.VARIANTS
