"""The DeepSpeech workloads in PyTorch, both scales: the workload class; the registry rows
(``entries.py``) make the classes of the base workload and its official variants.

    paceline run --workload librispeech_deepspeech_no_resnet --submission nadamw
    paceline run --workload librispeech_deepspeech --scale official --data-dir ~/data/librispeech
"""

from __future__ import annotations

from torch import nn

from sdk import spec
from workloads.common.speech.torch_workload import SpeechTorchWorkload
from workloads.common.variants import row_classes
from workloads.librispeech_deepspeech import config
from workloads.librispeech_deepspeech.entries import ROWS
from workloads.librispeech_deepspeech.model_pytorch import DeepspeechModel
from workloads.librispeech_deepspeech.workload import LibrispeechDeepspeechWorkload


class LibrispeechDeepspeechPyTorchWorkload(SpeechTorchWorkload, LibrispeechDeepspeechWorkload):
    """The family model on the shared speech pipeline; CTC loss and WER from the base."""

    DROPOUT_RATE = config.DROPOUT_RATE

    def _build_model(self) -> nn.Module:
        return DeepspeechModel(self.model_config, *self._frontend_stats())

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key in ("lin.weight", "lin.bias")


__getattr__ = row_classes(__name__, ROWS, LibrispeechDeepspeechPyTorchWorkload)
