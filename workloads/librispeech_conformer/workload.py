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

# Dev-scale ruleset numbers, v0.5 (v0.6 follows from the official v0.5 -> v0.6 ratios).
# PROVISIONAL: docs/workloads/librispeech_conformer.md ("Numbers") says how they were
# obtained. `paceline targets librispeech_conformer --scale dev --write` (then its variants) on a
# quiet 2-core machine replaces them, rewriting the blocks between the markers.
# paceline-targets: begin librispeech_conformer
LIBRISPEECH_CONFORMER = WorkloadNumbers(
    target_metric_name='wer',
    validation_target_value=0.5,
    test_target_value=0.5,
    max_allowed_runtime_sec=150.0,
    eval_period_time_sec=12.0,
    step_hint=1600,
    metric_minimized=True,
)
# paceline-targets: end librispeech_conformer
# paceline-targets: begin librispeech_conformer_attention_temperature
LIBRISPEECH_CONFORMER_ATTENTION_TEMPERATURE = WorkloadNumbers(
    target_metric_name='wer',
    validation_target_value=0.5,
    test_target_value=0.5,
    max_allowed_runtime_sec=150.0,
    eval_period_time_sec=12.0,
    step_hint=1600,
    metric_minimized=True,
)
# paceline-targets: end librispeech_conformer_attention_temperature
# paceline-targets: begin librispeech_conformer_layernorm
LIBRISPEECH_CONFORMER_LAYERNORM = WorkloadNumbers(
    target_metric_name='wer',
    validation_target_value=0.5,
    test_target_value=0.5,
    max_allowed_runtime_sec=150.0,
    eval_period_time_sec=12.0,
    step_hint=1600,
    metric_minimized=True,
)
# paceline-targets: end librispeech_conformer_layernorm
# paceline-targets: begin librispeech_conformer_gelu
LIBRISPEECH_CONFORMER_GELU = WorkloadNumbers(
    target_metric_name='wer',
    validation_target_value=0.5,
    test_target_value=0.5,
    max_allowed_runtime_sec=150.0,
    eval_period_time_sec=12.0,
    step_hint=1600,
    metric_minimized=True,
)
# paceline-targets: end librispeech_conformer_gelu
DEV_NUMBERS: dict[str, dict[str, WorkloadNumbers]] = {
    name: dev_numbers_by_version(name, v05) for name, v05 in (
        ("librispeech_conformer", LIBRISPEECH_CONFORMER),
        ("librispeech_conformer_attention_temperature", LIBRISPEECH_CONFORMER_ATTENTION_TEMPERATURE),
        ("librispeech_conformer_layernorm", LIBRISPEECH_CONFORMER_LAYERNORM),
        ("librispeech_conformer_gelu", LIBRISPEECH_CONFORMER_GELU),
    )
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
