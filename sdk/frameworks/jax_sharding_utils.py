"""Data/parameter placement helpers with the names of AlgoPerf v0.6's ``jax_sharding_utils``.

Batches are sharded along their first axis over a 1-D mesh named ``'batch'`` and parameters
are replicated, as in AlgoPerf v0.6 (``algoperf/jax_sharding_utils.py``).
"""

from __future__ import annotations

import functools
from typing import Any

import jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec


@functools.cache
def get_mesh() -> Mesh:
    """A 1-D mesh over all local devices, axis name ``'batch'``."""
    return Mesh(jax.devices(), ("batch",))


def get_replicate_sharding() -> NamedSharding:
    """Sharding that replicates an array on every device."""
    return NamedSharding(get_mesh(), PartitionSpec())


def get_batch_dim_sharding() -> NamedSharding:
    """Sharding that splits an array along its first axis."""
    return NamedSharding(get_mesh(), PartitionSpec("batch"))


def shard_along_batch_dim(x: Any) -> Any:
    """Place a (tree of) array(s) split along the first axis."""
    return jax.device_put(x, get_batch_dim_sharding())


def replicate(x: Any) -> Any:
    """Place a (tree of) array(s) on every device."""
    return jax.device_put(x, get_replicate_sharding())


def display_shard_info(x: jax.Array) -> None:
    """Print how an array is laid out over devices."""
    jax.debug.visualize_array_sharding(x)
