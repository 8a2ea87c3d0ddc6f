"""The Conformer workloads in PyTorch: the base workload and its official variants.

    paceline run --workload librispeech_conformer_layernorm --submission nadamw
"""

from __future__ import annotations

import numpy as np
from torch import nn

from sdk import spec
from workloads.common.speech.torch_workload import SpeechTorchWorkload
from workloads.librispeech_conformer import config
from workloads.librispeech_conformer.model import ConformerModel
from workloads.librispeech_conformer.workload import LibrispeechConformerWorkload


class LibrispeechConformerPyTorch(SpeechTorchWorkload, LibrispeechConformerWorkload):
    DROPOUT_RATE = config.DROPOUT_RATE

    def build_model(self, mean: np.ndarray, std: np.ndarray) -> nn.Module:
        return ConformerModel(self.model_config, mean, std)

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key in ("lin.weight", "lin.bias")


class LibrispeechConformerPyTorchDev(LibrispeechConformerPyTorch):
    scale = "dev"


class AttentionTemperaturePyTorchDev(LibrispeechConformerPyTorchDev):
    """Attention outputs multiplied by 1.6."""

    name = "librispeech_conformer_attention_temperature"
    variant_overrides = {"attention_temperature": 1.6}


class LayerNormPyTorchDev(LibrispeechConformerPyTorchDev):
    """No LayerNorm at the end of each Conformer block."""

    name = "librispeech_conformer_layernorm"
    variant_overrides = {"use_post_layer_norm": False}


class GeluPyTorchDev(LibrispeechConformerPyTorchDev):
    """GELU instead of swish (tanh approximation in FF, exact in the conv module)."""

    name = "librispeech_conformer_gelu"
    variant_overrides = {"activation_function_name": "gelu"}
