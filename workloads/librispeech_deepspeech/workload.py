"""The framework-neutral half of the DeepSpeech workloads: numbers tables and model config.

    paceline run --workload librispeech_deepspeech --submission nadamw
    paceline run --workload librispeech_deepspeech_tanh --submission nadamw
"""

from __future__ import annotations

from typing import Any

from sdk.rulesets import WorkloadNumbers
from workloads.common.numbers import dev_numbers_by_version
from workloads.common.speech.workload import SpeechWorkload
from workloads.librispeech_deepspeech import config


def _numbers(val: float, test: float, runtime: float, period: float,
             hint: int) -> dict[str, WorkloadNumbers]:
    v05 = WorkloadNumbers("wer", val, test, runtime, period, hint, True)
    return dev_numbers_by_version("librispeech_deepspeech", v05)


# Dev-scale ruleset numbers (v0.5; v0.6 follows from the official v0.5 -> v0.6 ratios).
# PROVISIONAL: from `python -m workloads.common.speech.calibrate librispeech_deepspeech`
# (NAdamW + heavy-ball momentum, a miniature of the target-setting procedure; see
# docs/workloads/librispeech_deepspeech.md) on a heavily shared 2-core machine. To be
# replaced by `paceline targets librispeech_deepspeech --scale dev` on a quiet one.
DEV_NUMBERS: dict[str, dict[str, WorkloadNumbers]] = {
    "librispeech_deepspeech": _numbers(0.5, 0.5, 120.0, 12.0, 600),
    "librispeech_deepspeech_tanh": _numbers(0.5, 0.5, 120.0, 12.0, 600),
    "librispeech_deepspeech_no_resnet": _numbers(0.5, 0.5, 120.0, 12.0, 600),
    "librispeech_deepspeech_norm_and_spec_aug": _numbers(0.5, 0.5, 120.0, 12.0, 600),
}


class LibrispeechDeepspeechWorkload(SpeechWorkload):
    """The DeepSpeech family at dev or official scale; variants set ``variant_overrides``."""

    name = "librispeech_deepspeech"
    DEV_NUMBERS = DEV_NUMBERS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model_config  # noqa: B018 - bad model overrides fail here, with one sentence

    @property
    def model_config(self) -> config.DeepspeechConfig:
        if "_model_config" not in self.__dict__:
            base = config.DEV if self.scale == "dev" else config.OFFICIAL
            self._model_config = config.make_config(base, self.model_overrides)
        return self._model_config
