"""The framework-neutral half of the DeepSpeech workloads: its tables (numbers in numbers.py,
model config and variants in config.py).

    paceline run --workload librispeech_deepspeech --submission nadamw
    paceline run --workload librispeech_deepspeech_tanh --submission nadamw
"""

from __future__ import annotations

from workloads.common.speech.workload import SpeechWorkload
from workloads.librispeech_deepspeech import config
from workloads.librispeech_deepspeech.numbers import DEV_NUMBERS


class LibrispeechDeepspeechWorkload(SpeechWorkload):
    """The DeepSpeech family at dev or official scale; registry rows make the variants."""

    name = "librispeech_deepspeech"
    dev_numbers = DEV_NUMBERS
    config_module = config
    variants = config.VARIANTS
