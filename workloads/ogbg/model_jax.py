"""The ogbg graph network in Flax, built from the same :class:`~workloads.ogbg.config.GnnConfig`.

The same computation as :mod:`workloads.ogbg.model_pytorch` (and jraph's ``GraphNetwork``):
embed, ``num_message_passing_steps`` edge/node/global updates, decode the globals. Every
shape is static (batches are padded to fixed budgets), so the model jits once.
"""

from __future__ import annotations

from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from workloads.ogbg.batching import GraphsTuple
from workloads.ogbg.config import GnnConfig

ACTIVATIONS = {
    "relu": jax.nn.relu,
    "gelu": lambda x: jax.nn.gelu(x, approximate=True),
    "silu": jax.nn.silu,
    "tanh": jnp.tanh,
    "leaky_relu": lambda x: jax.nn.leaky_relu(x, 0.01),  # torch's default slope
}


def dropout(x: jax.Array, rate: Any, rng: jax.Array | None) -> jax.Array:
    """Inverted dropout whose rate may be a traced value; ``rng=None`` keeps everything."""
    if rng is None:
        return x
    keep = jax.random.bernoulli(rng, 1.0 - rate, x.shape)
    return jnp.where(keep, x / jnp.maximum(1.0 - rate, 1e-12), 0.0)


def _dense(width: int, scale: float, name: str | None = None) -> nn.Dense:
    init = nn.initializers.variance_scaling(scale**2, "fan_in", "truncated_normal")
    return nn.Dense(width, kernel_init=init, name=name)


class Mlp(nn.Module):
    """Per hidden width: Dense -> norm -> activation -> dropout."""

    config: GnnConfig

    @nn.compact
    def __call__(self, x: jax.Array, rate: Any, rng: jax.Array | None) -> jax.Array:
        cfg = self.config
        for i, width in enumerate(cfg.hidden_dims):
            x = _dense(width, cfg.init_scale)(x)
            if cfg.norm == "layernorm":
                x = nn.LayerNorm(epsilon=cfg.norm_eps)(x)
            elif cfg.norm == "rmsnorm":
                x = nn.RMSNorm(epsilon=cfg.norm_eps)(x)
            x = ACTIVATIONS[cfg.activation](x)
            x = dropout(x, rate, None if rng is None else jax.random.fold_in(rng, i))
        return x


def _pool(values: jax.Array, index: jax.Array, size: int, mean: bool) -> jax.Array:
    out = jax.ops.segment_sum(values, index, num_segments=size)
    if mean:
        counts = jax.ops.segment_sum(jnp.ones_like(index, values.dtype), index, size)
        out = out / jnp.maximum(counts, 1.0)[:, None]
    return out


class GNN(nn.Module):
    """Input a :class:`GraphsTuple` of arrays; output ``[graphs, tasks]`` logits."""

    config: GnnConfig

    @nn.compact
    def __call__(self, graph: GraphsTuple, dropout_rate: Any = 0.0,
                 dropout_rng: jax.Array | None = None) -> jax.Array:
        cfg = self.config
        num_nodes, num_edges = graph.nodes.shape[0], graph.edges.shape[0]
        num_graphs = graph.n_node.shape[0]
        index = jnp.arange(num_graphs)
        node_graph = jnp.repeat(index, graph.n_node, total_repeat_length=num_nodes)
        edge_graph = jnp.repeat(index, graph.n_edge, total_repeat_length=num_edges)
        globals_ = jnp.zeros((num_graphs, cfg.num_tasks), graph.nodes.dtype)
        nodes = _dense(cfg.latent_dim, cfg.init_scale, "node_embedder")(graph.nodes)
        edges = _dense(cfg.latent_dim, cfg.init_scale, "edge_embedder")(graph.edges)
        mean = cfg.aggregation == "mean"
        for step in range(cfg.num_message_passing_steps):
            keys = ([None] * 3 if dropout_rng is None
                    else list(jax.random.split(jax.random.fold_in(dropout_rng, step), 3)))
            edges = Mlp(cfg, name=f"edge_mlp_{step}")(jnp.concatenate(
                [edges, nodes[graph.senders], nodes[graph.receivers], globals_[edge_graph]],
                axis=-1), dropout_rate, keys[0])
            sent = _pool(edges, graph.senders, num_nodes, mean)
            received = _pool(edges, graph.receivers, num_nodes, mean)
            nodes = Mlp(cfg, name=f"node_mlp_{step}")(jnp.concatenate(
                [nodes, sent, received, globals_[node_graph]], axis=-1), dropout_rate, keys[1])
            pooled = [_pool(nodes, node_graph, num_graphs, mean),
                      _pool(edges, edge_graph, num_graphs, mean)]
            globals_ = Mlp(cfg, name=f"global_mlp_{step}")(
                jnp.concatenate([*pooled, globals_], axis=-1), dropout_rate, keys[2])
        return _dense(cfg.num_tasks, cfg.init_scale, "decoder")(globals_)
