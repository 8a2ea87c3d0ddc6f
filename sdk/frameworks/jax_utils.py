"""Flax helpers (AlgoPerf's ``jax_utils``): dropout whose rate is given at call time."""

from __future__ import annotations

import flax.linen as nn
import jax
import jax.numpy as jnp


class Dropout(nn.Module):
    """Dropout taking ``rate`` at call time, so a submission can change it during training."""

    broadcast_dims: tuple[int, ...] = ()
    rng_collection: str = "dropout"

    @nn.compact
    def __call__(self, inputs: jax.Array, deterministic: bool, rate: float = 0.0) -> jax.Array:
        if deterministic or rate == 0.0:
            return inputs
        if rate == 1.0:
            return jnp.zeros_like(inputs)
        keep = 1.0 - rate
        shape = list(inputs.shape)
        for dim in self.broadcast_dims:
            shape[dim] = 1
        mask = jax.random.bernoulli(self.make_rng(self.rng_collection), keep, shape)
        mask = jnp.broadcast_to(mask, inputs.shape)
        return jax.lax.select(mask, inputs / keep, jnp.zeros_like(inputs))
