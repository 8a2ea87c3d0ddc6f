"""DeepSpeech's knobs: one frozen config, the official and dev sizes, and the variant space.

``OFFICIAL`` is AlgoPerf's PyTorch model exactly (conv subsampling, 6 bidirectional LSTM
layers, 3 FFN layers, width 512: 18,393,600 parameters); ``DEV`` is the same structure shrunk
for a 2-core CPU. A workload's config is its scale's config with the variant's
``variant_overrides`` and the user's ``model_overrides`` applied.

    >>> make_config(DEV, {"use_tanh": True}).use_tanh
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sdk.errors import PacelineError
from workloads.common.model_config import override
from workloads.common.speech.config import DEV_SHARED, SpeechConfig

DROPOUT_RATE = 0.1  # model_fn's default (subsampling output and FFN outputs)


@dataclass(frozen=True)
class DeepspeechConfig(SpeechConfig):
    """DeepSpeech's knobs on top of the shared ones; ``encoder_dim`` is the LSTM output width
    (each direction has half)."""

    num_lstm_layers: int = 6
    num_ffn_layers: int = 3
    bidirectional: bool = True
    enable_residual_connections: bool = True
    enable_decoder_layer_norm: bool = True
    use_tanh: bool = False  # tanh instead of ReLU in the subsampling convs and FFNs
    layernorm_everywhere: bool = False  # (1+gamma) LayerNorm instead of BN in LSTM/FFN layers
    init_gain: float = 1.0  # gain of the xavier-uniform init of every Linear


OFFICIAL = DeepspeechConfig()
DEV = DeepspeechConfig(encoder_dim=128, num_lstm_layers=2, num_ffn_layers=1, **DEV_SHARED)

# The official held-out variants (the same changes at both scales; norm_and_spec_aug also
# halves the eval batch, see entries.py).
VARIANTS: dict[str, dict[str, Any]] = {
    # tanh instead of ReLU in the subsampling convolutions and the FFN layers
    "librispeech_deepspeech_tanh": {"use_tanh": True},
    # no residual connections around the LSTM and FFN layers
    "librispeech_deepspeech_no_resnet": {"enable_residual_connections": False},
    # LayerNorm instead of BatchNorm, no decoder LayerNorm, 4 frequency and 15 time masks
    "librispeech_deepspeech_norm_and_spec_aug": {
        "layernorm_everywhere": True, "enable_decoder_layer_norm": False,
        "freq_mask_count": 4, "time_mask_count": 15},
}

# Knobs a random held-out variant may change, in AlgoPerf's search-space JSON form
# (sdk.search_space.SearchSpace.from_json reads it). Every combination builds and trains.
PERTURBATION_SPACE: dict[str, dict[str, Any]] = {
    "use_tanh": {"feasible_points": [False, True]},
    "enable_residual_connections": {"feasible_points": [True, False]},
    "enable_decoder_layer_norm": {"feasible_points": [True, False]},
    "layernorm_everywhere": {"feasible_points": [False, True]},
    "init_gain": {"min": 0.5, "max": 2.0, "scaling": "log"},
    "num_lstm_layers": {"feasible_points": [1, 2, 3]},
    "num_ffn_layers": {"feasible_points": [0, 1, 2]},
    "encoder_dim": {"feasible_points": [96, 128, 192]},
    "time_mask_count": {"feasible_points": [5, 10, 15]},
    "freq_mask_count": {"feasible_points": [1, 2, 4]},
}


def make_config(base: DeepspeechConfig, overrides: dict[str, Any] | None) -> DeepspeechConfig:
    """``base`` with ``overrides`` applied; unknown knobs or bad values raise one sentence."""
    config = override("DeepSpeech", base, overrides)
    if config.bidirectional and config.encoder_dim % 2:
        raise PacelineError(f"A bidirectional DeepSpeech needs an even encoder_dim, not "
                            f"{config.encoder_dim}.")
    if config.num_lstm_layers < 1 or config.num_ffn_layers < 0:
        raise PacelineError("DeepSpeech needs at least one LSTM layer and no negative FFN count.")
    return config
