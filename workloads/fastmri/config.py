"""The knobs of the fastmri reconstruction U-Net, as one frozen dataclass.

``OFFICIAL`` is AlgoPerf's U-Net exactly (7,756,097 parameters); ``DEV`` is the same network
with a quarter of the channels, for 64x64 images on a 2-core CPU. A workload builds its model
from ``make_config(scale, overrides)``, where ``overrides`` are the variant's
``variant_overrides`` plus any ``model_overrides`` given to the workload constructor:

    >>> from sdk.registry import workloads
    >>> w = workloads().create("fastmri", "dev", "pytorch",
    ...                        model_overrides={"activation": "silu", "norm": "layer"})

``PERTURBATION_SPACE`` says which knobs a random held-out variant may change and how far.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sdk.errors import PacelineError
from workloads.common.model_config import override

ACTIVATIONS = ("leaky_relu", "relu", "tanh", "gelu", "silu")
NORMS = ("instance", "layer", "none")
POOLINGS = ("avg", "max")


@dataclass(frozen=True)
class UNetConfig:
    """fastMRI's U-Net: ``num_pool_layers`` down levels, a bottleneck, as many up levels.

    * ConvBlock(in, out) = [Conv3x3 (no bias) -> norm -> activation -> channel dropout] x 2.
    * Encoder: ConvBlocks 1 -> C -> 2C -> ... -> C * 2^(P-1), each followed by 2x2
      ``pooling``; bottleneck ConvBlock to C * 2^P.
    * Decoder, per level: ConvTranspose 2x2/2 (no bias) -> ``transpose_norm`` -> activation,
      concatenate the skip, ConvBlock(2c -> c); a final Conv1x1 C -> 1 with bias.
    * ``norm`` of the ConvBlocks: "instance" (no affine, eps 1e-5, the official choice),
      "layer" (per-sample over C,H,W with per-channel affine, eps 1e-6: the
      ``fastmri_layernorm`` variant) or "none". The transposed blocks keep instance norm in
      the official layernorm variant, hence the separate ``transpose_norm``.
    * ``activation``: "leaky_relu" uses ``leaky_relu_slope`` (official 0.2); the
      ``fastmri_tanh`` variant uses tanh everywhere.
    * Init: LeCun-normal truncated at 2 std (AlgoPerf's PyTorch default), zero bias, standard
      deviation times ``init_scale``.
    """

    in_chans: int = 1
    out_chans: int = 1
    num_channels: int = 32
    num_pool_layers: int = 4
    activation: str = "leaky_relu"
    leaky_relu_slope: float = 0.2
    norm: str = "instance"
    transpose_norm: str = "instance"
    pooling: str = "avg"
    init_scale: float = 1.0
    dropout_rate: float = 0.0  # the default when a submission passes none

    def check(self) -> UNetConfig:
        """Raise PacelineError if a knob is out of range; return self."""
        if self.activation not in ACTIVATIONS:
            raise PacelineError(f"fastmri activation must be one of {', '.join(ACTIVATIONS)}, "
                                f"got {self.activation!r}.")
        for key in ("norm", "transpose_norm"):
            if getattr(self, key) not in NORMS:
                raise PacelineError(f"fastmri {key} must be one of {', '.join(NORMS)}, got "
                                    f"{getattr(self, key)!r}.")
        if self.pooling not in POOLINGS:
            raise PacelineError(f"fastmri pooling must be one of {', '.join(POOLINGS)}, got "
                                f"{self.pooling!r}.")
        if self.num_channels < 1 or not 1 <= self.num_pool_layers <= 6:
            raise PacelineError("fastmri num_channels must be positive and num_pool_layers "
                                "between 1 and 6.")
        if not 0.0 <= self.dropout_rate < 1.0 or self.init_scale <= 0:
            raise PacelineError("fastmri dropout_rate must be in [0, 1) and init_scale "
                                "positive.")
        return self


# AlgoPerf's U-Net (algoperf/workloads/fastmri/fastmri_pytorch/models.py).
OFFICIAL = UNetConfig()

# Dev scale: the same four-level structure with a quarter of the channels (8), on 64x64 images.
DEV = UNetConfig(num_channels=8)

# The official held-out variants (AlgoPerf's algoperf/workloads/fastmri/fastmri_pytorch/workload.py) at each scale. fastmri_model_size
# doubles the channels and drops a level at both scales.
VARIANTS: dict[str, dict[str, dict[str, Any]]] = {
    "fastmri_model_size": {"official": {"num_channels": 64, "num_pool_layers": 3},
                           "dev": {"num_channels": 16, "num_pool_layers": 3}},
    "fastmri_tanh": {"official": {"activation": "tanh"}, "dev": {"activation": "tanh"}},
    "fastmri_layernorm": {"official": {"norm": "layer"}, "dev": {"norm": "layer"}},
}

# What a random held-out variant may change (dev scale): choices, or (low, high) ranges with
# "log" scaling for multiplicative knobs. Dev images are 64x64, so at most 4 pooling levels
# keep a bottleneck of at least 4x4.
PERTURBATION_SPACE: dict[str, dict[str, Any]] = {
    "activation": {"choices": ACTIVATIONS},
    "leaky_relu_slope": {"range": (0.01, 0.3), "scale": "log"},
    "norm": {"choices": NORMS},
    "transpose_norm": {"choices": NORMS},
    "pooling": {"choices": POOLINGS},
    "num_channels": {"choices": (4, 6, 8, 12, 16)},
    "num_pool_layers": {"choices": (2, 3, 4)},
    "init_scale": {"range": (0.25, 4.0), "scale": "log"},
    "dropout_rate": {"range": (0.0, 0.3), "scale": "linear"},
}


def make_config(scale: str, overrides: dict[str, Any] | None = None) -> UNetConfig:
    """The base config of ``scale`` with ``overrides`` applied and checked."""
    return override("fastmri", OFFICIAL if scale == "official" else DEV, overrides).check()

