"""The Conformer workloads in JAX/Flax, both scales: the workload class; the registry rows
(``entries.py``) make the classes of the base workload and its official variants.

    paceline run --workload librispeech_conformer --framework jax --submission nadamw
    paceline run --workload librispeech_conformer --framework jax --scale official \
        --data-dir ~/data/librispeech --submission nadamw
"""

from __future__ import annotations

from sdk import spec
from workloads.common.speech.jax_workload import SpeechJaxWorkload
from workloads.common.variants import row_classes
from workloads.librispeech_conformer import config
from workloads.librispeech_conformer.entries import ROWS
from workloads.librispeech_conformer.model_jax import Conformer
from workloads.librispeech_conformer.workload import LibrispeechConformerWorkload


class LibrispeechConformerJaxWorkload(SpeechJaxWorkload, LibrispeechConformerWorkload):
    """The family model on the shared speech pipeline; CTC loss and WER from the base."""

    DROPOUT_RATE = config.DROPOUT_RATE

    def _build_model(self) -> Conformer:
        mean, std = self._frontend_stats()
        return Conformer(self.model_config, tuple(map(float, mean)), tuple(map(float, std)))

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key == "lin"


__getattr__ = row_classes(__name__, ROWS, LibrispeechConformerJaxWorkload)
