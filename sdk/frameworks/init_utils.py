"""Initialisers shared by paceline's PyTorch models (AlgoPerf's ``init_utils``)."""

from __future__ import annotations

import math

from torch import nn


def pytorch_default_init(module: nn.Module) -> None:
    """LeCun-normal kernel init truncated at two standard deviations, zero bias.

    This is Flax's default ``lecun_normal`` (a truncated normal rescaled so its standard
    deviation is sqrt(1/fan_in)), which AlgoPerf's PyTorch models use to match JAX.
    """
    fan_in = nn.init._calculate_correct_fan(module.weight, "fan_in")
    std = math.sqrt(1.0 / fan_in) / 0.87962566103423978
    nn.init.trunc_normal_(module.weight, std=std, a=-2 * std, b=2 * std)
    if getattr(module, "bias", None) is not None:
        nn.init.zeros_(module.bias)
