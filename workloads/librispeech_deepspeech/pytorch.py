"""The DeepSpeech workloads in PyTorch, both scales: the base workload and its official variants.

    paceline run --workload librispeech_deepspeech_no_resnet --submission nadamw
    paceline run --workload librispeech_deepspeech --scale official --data-dir ~/data/librispeech
"""

from __future__ import annotations

from torch import nn

from sdk import spec
from workloads.common.speech.torch_workload import SpeechTorchWorkload
from workloads.librispeech_deepspeech import config
from workloads.librispeech_deepspeech.model import DeepspeechModel
from workloads.librispeech_deepspeech.workload import LibrispeechDeepspeechWorkload


class LibrispeechDeepspeechPyTorch(SpeechTorchWorkload, LibrispeechDeepspeechWorkload):
    DROPOUT_RATE = config.DROPOUT_RATE

    def _build_model(self) -> nn.Module:
        return DeepspeechModel(self.model_config, *self._frontend_stats())

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key in ("lin.weight", "lin.bias")


class LibrispeechDeepspeechPyTorchDev(LibrispeechDeepspeechPyTorch):
    scale = "dev"


class LibrispeechDeepspeechPyTorchOfficial(LibrispeechDeepspeechPyTorch):
    scale = "official"


class _Tanh:
    """tanh instead of ReLU in the subsampling convolutions and the FFN layers."""

    name = "librispeech_deepspeech_tanh"
    variant_overrides = {"use_tanh": True}


class _NoResnet:
    """No residual connections around the LSTM and FFN layers."""

    name = "librispeech_deepspeech_no_resnet"
    variant_overrides = {"enable_residual_connections": False}


class _NormAndSpecAug:
    """LayerNorm instead of BatchNorm, no decoder LayerNorm, 4 frequency and 15 time masks,
    half the eval batch size."""

    name = "librispeech_deepspeech_norm_and_spec_aug"
    variant_overrides = {"layernorm_everywhere": True, "enable_decoder_layer_norm": False,
                         "freq_mask_count": 4, "time_mask_count": 15}
    eval_batch_divisor = 2


class TanhPyTorchDev(_Tanh, LibrispeechDeepspeechPyTorchDev):
    pass


class TanhPyTorchOfficial(_Tanh, LibrispeechDeepspeechPyTorchOfficial):
    pass


class NoResnetPyTorchDev(_NoResnet, LibrispeechDeepspeechPyTorchDev):
    pass


class NoResnetPyTorchOfficial(_NoResnet, LibrispeechDeepspeechPyTorchOfficial):
    pass


class NormAndSpecAugPyTorchDev(_NormAndSpecAug, LibrispeechDeepspeechPyTorchDev):
    pass


class NormAndSpecAugPyTorchOfficial(_NormAndSpecAug, LibrispeechDeepspeechPyTorchOfficial):
    pass
