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

# Dev-scale ruleset numbers, v0.5 (v0.6 follows from the official v0.5 -> v0.6 ratios).
# PROVISIONAL: docs/workloads/librispeech_deepspeech.md ("Numbers") says how they were
# obtained. `paceline targets librispeech_deepspeech --scale dev --write` (then its variants) on a
# quiet 2-core machine replaces them, rewriting the blocks between the markers.
# paceline-targets: begin librispeech_deepspeech
LIBRISPEECH_DEEPSPEECH = WorkloadNumbers(
    target_metric_name='wer',
    validation_target_value=0.5,
    test_target_value=0.5,
    max_allowed_runtime_sec=150.0,
    eval_period_time_sec=12.0,
    step_hint=1600,
    metric_minimized=True,
)
# paceline-targets: end librispeech_deepspeech
# paceline-targets: begin librispeech_deepspeech_tanh
LIBRISPEECH_DEEPSPEECH_TANH = WorkloadNumbers(
    target_metric_name='wer',
    validation_target_value=0.5,
    test_target_value=0.5,
    max_allowed_runtime_sec=150.0,
    eval_period_time_sec=12.0,
    step_hint=1600,
    metric_minimized=True,
)
# paceline-targets: end librispeech_deepspeech_tanh
# paceline-targets: begin librispeech_deepspeech_no_resnet
LIBRISPEECH_DEEPSPEECH_NO_RESNET = WorkloadNumbers(
    target_metric_name='wer',
    validation_target_value=0.5,
    test_target_value=0.5,
    max_allowed_runtime_sec=150.0,
    eval_period_time_sec=12.0,
    step_hint=1600,
    metric_minimized=True,
)
# paceline-targets: end librispeech_deepspeech_no_resnet
# paceline-targets: begin librispeech_deepspeech_norm_and_spec_aug
LIBRISPEECH_DEEPSPEECH_NORM_AND_SPEC_AUG = WorkloadNumbers(
    target_metric_name='wer',
    validation_target_value=0.5,
    test_target_value=0.5,
    max_allowed_runtime_sec=150.0,
    eval_period_time_sec=12.0,
    step_hint=1600,
    metric_minimized=True,
)
# paceline-targets: end librispeech_deepspeech_norm_and_spec_aug
DEV_NUMBERS: dict[str, dict[str, WorkloadNumbers]] = {
    name: dev_numbers_by_version(name, v05) for name, v05 in (
        ("librispeech_deepspeech", LIBRISPEECH_DEEPSPEECH),
        ("librispeech_deepspeech_tanh", LIBRISPEECH_DEEPSPEECH_TANH),
        ("librispeech_deepspeech_no_resnet", LIBRISPEECH_DEEPSPEECH_NO_RESNET),
        ("librispeech_deepspeech_norm_and_spec_aug", LIBRISPEECH_DEEPSPEECH_NORM_AND_SPEC_AUG),
    )
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
