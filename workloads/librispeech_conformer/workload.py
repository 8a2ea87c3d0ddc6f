"""The framework-neutral half of the Conformer workloads: numbers tables and model config.

    paceline run --workload librispeech_conformer --submission nadamw
    paceline run --workload librispeech_conformer_gelu --submission nadamw
"""

from __future__ import annotations

from typing import Any

from sdk.rulesets import WorkloadNumbers
from workloads.common.numbers import dev_numbers_by_version
from workloads.common.speech.workload import SpeechWorkload
from workloads.librispeech_conformer import config


def _numbers(val: float, test: float, runtime: float, period: float,
             hint: int) -> dict[str, WorkloadNumbers]:
    v05 = WorkloadNumbers("wer", val, test, runtime, period, hint, True)
    return dev_numbers_by_version("librispeech_conformer", v05)


# Dev-scale ruleset numbers (v0.5; v0.6 follows from the official v0.5 -> v0.6 ratios).
# PROVISIONAL: from `python -m workloads.common.speech.calibrate librispeech_conformer`
# (NAdamW + heavy-ball momentum, a miniature of the target-setting procedure; see
# docs/workloads/librispeech_conformer.md) on a heavily shared 2-core machine. To be replaced
# by `paceline targets librispeech_conformer --scale dev` on a quiet one.
DEV_NUMBERS: dict[str, dict[str, WorkloadNumbers]] = {
    "librispeech_conformer": _numbers(0.5, 0.5, 120.0, 12.0, 600),
    "librispeech_conformer_attention_temperature": _numbers(0.5, 0.5, 120.0, 12.0, 600),
    "librispeech_conformer_layernorm": _numbers(0.5, 0.5, 120.0, 12.0, 600),
    "librispeech_conformer_gelu": _numbers(0.5, 0.5, 120.0, 12.0, 600),
}


class LibrispeechConformerWorkload(SpeechWorkload):
    """The Conformer family at dev or official scale; variants set ``variant_overrides``."""

    name = "librispeech_conformer"
    DEV_NUMBERS = DEV_NUMBERS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.model_config  # noqa: B018 - bad model overrides fail here, with one sentence

    @property
    def model_config(self) -> config.ConformerConfig:
        if "_model_config" not in self.__dict__:
            base = config.DEV if self.scale == "dev" else config.OFFICIAL
            self._model_config = config.make_config(base, self.model_overrides)
        return self._model_config
