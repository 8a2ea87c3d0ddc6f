"""The Conformer's knobs: one frozen config, the official and dev sizes, and the variant space.

``OFFICIAL`` is AlgoPerf's model exactly (4 blocks x 512, 8 heads, 32,321,792 parameters);
``DEV`` is the same structure shrunk for a 2-core CPU. A workload's config is its scale's
config with the variant's ``variant_overrides`` and the user's ``model_overrides`` applied:

    >>> replace(DEV, activation_function_name="gelu").activation_function_name
    'gelu'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sdk.errors import PacelineError
from workloads.common.model_config import override
from workloads.common.speech.config import DEV_SHARED, SpeechConfig

DROPOUT_RATE = 0.1  # model_fn's default (input, FF, attention and conv-module outputs)


@dataclass(frozen=True)
class ConformerConfig(SpeechConfig):
    num_attention_heads: int = 8
    num_encoder_layers: int = 4
    convolution_kernel_size: int = 5
    feed_forward_expansion_factor: int = 4
    feed_forward_dropout_rate: float = 0.0  # inside the FF module (PyTorch official: 0)
    attention_dropout_rate: float = 0.0  # on attention probabilities (official: 0)
    # Multiplies the attention *output* (softmax-weighted values), as AlgoPerf's code does.
    attention_temperature: float = 1.0
    # "swish" or "gelu" officially; "relu" and "tanh" for random variants. GELU is the tanh
    # approximation in the FF modules and exact in the conv module (AlgoPerf's PyTorch quirk).
    activation_function_name: str = "swish"
    use_post_layer_norm: bool = True  # LayerNorm at the end of each block
    init_gain: float = 1.0  # gain of the xavier-uniform init of every Linear and Conv1d


OFFICIAL = ConformerConfig()
DEV = ConformerConfig(encoder_dim=96, num_attention_heads=4, num_encoder_layers=2, **DEV_SHARED)

# The official held-out variants (the same changes at both scales).
VARIANTS: dict[str, dict[str, Any]] = {
    # attention outputs multiplied by 1.6
    "librispeech_conformer_attention_temperature": {"attention_temperature": 1.6},
    # no LayerNorm at the end of each Conformer block
    "librispeech_conformer_layernorm": {"use_post_layer_norm": False},
    # GELU instead of swish (tanh approximation in FF, exact in the conv module)
    "librispeech_conformer_gelu": {"activation_function_name": "gelu"},
}

# Knobs a random held-out variant may change, in AlgoPerf's search-space JSON form
# (sdk.search_space.SearchSpace.from_json reads it). Every combination builds and trains.
PERTURBATION_SPACE: dict[str, dict[str, Any]] = {
    "activation_function_name": {"feasible_points": ["swish", "gelu", "relu", "tanh"]},
    "attention_temperature": {"min": 0.5, "max": 2.0, "scaling": "log"},
    "use_post_layer_norm": {"feasible_points": [True, False]},
    "init_gain": {"min": 0.5, "max": 2.0, "scaling": "log"},
    "num_encoder_layers": {"feasible_points": [1, 2, 3]},
    "encoder_dim": {"feasible_points": [64, 96, 128]},
    "convolution_kernel_size": {"feasible_points": [3, 5, 7]},
    "feed_forward_expansion_factor": {"feasible_points": [2, 4]},
    "time_mask_count": {"feasible_points": [5, 10, 15]},
    "freq_mask_count": {"feasible_points": [1, 2, 4]},
}

ACTIVATIONS = ("swish", "gelu", "relu", "tanh")


def make_config(base: ConformerConfig, overrides: dict[str, Any] | None) -> ConformerConfig:
    """``base`` with ``overrides`` applied; unknown knobs or bad values raise one sentence."""
    config = override("Conformer", base, overrides)
    if config.activation_function_name not in ACTIVATIONS:
        raise PacelineError(f"Conformer activation must be one of {', '.join(ACTIVATIONS)}, "
                            f"not {config.activation_function_name!r}.")
    if config.encoder_dim % config.num_attention_heads:
        raise PacelineError(f"encoder_dim {config.encoder_dim} is not divisible by "
                            f"{config.num_attention_heads} attention heads.")
    if config.num_encoder_layers < 1 or config.encoder_dim < 2:
        raise PacelineError("The Conformer needs at least one block and encoder_dim >= 2.")
    return config
