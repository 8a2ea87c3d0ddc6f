"""The DeepSpeech workloads in JAX/Flax, both scales: the workload class; the registry rows
(``entries.py``) make the classes of the base workload and its official variants.

    paceline run --workload librispeech_deepspeech --framework jax --submission nadamw
    paceline run --workload librispeech_deepspeech --framework jax --scale official \
        --data-dir ~/data/librispeech --submission nadamw
"""

from __future__ import annotations

from sdk import spec
from workloads.common.speech.jax_workload import SpeechJaxWorkload
from workloads.common.variants import row_classes
from workloads.librispeech_deepspeech import config
from workloads.librispeech_deepspeech.entries import ROWS
from workloads.librispeech_deepspeech.model_jax import Deepspeech
from workloads.librispeech_deepspeech.workload import LibrispeechDeepspeechWorkload


class LibrispeechDeepspeechJaxWorkload(SpeechJaxWorkload, LibrispeechDeepspeechWorkload):
    """The family model on the shared speech pipeline; CTC loss and WER from the base."""

    DROPOUT_RATE = config.DROPOUT_RATE

    def _build_model(self) -> Deepspeech:
        mean, std = self._frontend_stats()
        return Deepspeech(self.model_config, tuple(map(float, mean)), tuple(map(float, std)))

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key == "lin"


__getattr__ = row_classes(__name__, ROWS, LibrispeechDeepspeechJaxWorkload)
