"""The Conformer workloads in PyTorch, both scales: the base workload and its official variants.

    paceline run --workload librispeech_conformer_layernorm --submission nadamw
    paceline run --workload librispeech_conformer --scale official --data-dir ~/data/librispeech
"""

from __future__ import annotations

from torch import nn

from sdk import spec
from workloads.common.speech.torch_workload import SpeechTorchWorkload
from workloads.librispeech_conformer import config
from workloads.librispeech_conformer.model import ConformerModel
from workloads.librispeech_conformer.workload import LibrispeechConformerWorkload


class LibrispeechConformerPyTorch(SpeechTorchWorkload, LibrispeechConformerWorkload):
    DROPOUT_RATE = config.DROPOUT_RATE

    def _build_model(self) -> nn.Module:
        return ConformerModel(self.model_config, *self._frontend_stats())

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key in ("lin.weight", "lin.bias")


class LibrispeechConformerPyTorchDev(LibrispeechConformerPyTorch):
    scale = "dev"


class LibrispeechConformerPyTorchOfficial(LibrispeechConformerPyTorch):
    scale = "official"


class _AttentionTemperature:
    """Attention outputs multiplied by 1.6."""

    name = "librispeech_conformer_attention_temperature"
    variant_overrides = {"attention_temperature": 1.6}


class _LayerNorm:
    """No LayerNorm at the end of each Conformer block."""

    name = "librispeech_conformer_layernorm"
    variant_overrides = {"use_post_layer_norm": False}


class _Gelu:
    """GELU instead of swish (tanh approximation in FF, exact in the conv module)."""

    name = "librispeech_conformer_gelu"
    variant_overrides = {"activation_function_name": "gelu"}


class AttentionTemperaturePyTorchDev(_AttentionTemperature, LibrispeechConformerPyTorchDev):
    pass


class AttentionTemperaturePyTorchOfficial(_AttentionTemperature,
                                          LibrispeechConformerPyTorchOfficial):
    pass


class LayerNormPyTorchDev(_LayerNorm, LibrispeechConformerPyTorchDev):
    pass


class LayerNormPyTorchOfficial(_LayerNorm, LibrispeechConformerPyTorchOfficial):
    pass


class GeluPyTorchDev(_Gelu, LibrispeechConformerPyTorchDev):
    pass


class GeluPyTorchOfficial(_Gelu, LibrispeechConformerPyTorchOfficial):
    pass
