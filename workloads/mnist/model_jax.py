"""The MNIST model in JAX/Flax: AlgoPerf's two-layer MLP."""

from __future__ import annotations

import flax.linen as nn
import jax


class MnistNet(nn.Module):
    """Dense 128 -> sigmoid -> Dense 10 on flattened pixels (101,770 parameters)."""

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        x = x.reshape((x.shape[0], -1))
        x = nn.sigmoid(nn.Dense(128)(x))
        return nn.Dense(10)(x)
