"""The ogbg graph network in PyTorch, built from a :class:`~workloads.ogbg.config.GnnConfig`.

With ``config.OFFICIAL`` this is AlgoPerf's model (3,554,176 parameters): embed nodes and
edges, run message-passing blocks that each update edges, nodes and globals (Battaglia et
al. 2018, Alg. 1, nodes pooling sent and received edges separately), decode the globals.
Parameter names follow AlgoPerf's PyTorch model, so ``decoder.*`` is the output layer.
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from sdk.frameworks.init_utils import pytorch_default_init
from workloads.ogbg.batching import GraphsTuple
from workloads.ogbg.config import GnnConfig

ACTIVATIONS = {
    "relu": nn.ReLU,
    "gelu": partial(nn.GELU, approximate="tanh"),
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "leaky_relu": nn.LeakyReLU,
}


def _norm(kind: str, width: int, eps: float) -> nn.Module:
    if kind == "layernorm":
        return nn.LayerNorm(width, eps=eps)
    if kind == "rmsnorm":
        return nn.RMSNorm(width, eps=eps)
    return nn.Identity()


class Mlp(nn.Module):
    """Per hidden width: Linear -> norm -> activation -> dropout (rate given per call)."""

    def __init__(self, in_dim: int, config: GnnConfig) -> None:
        super().__init__()
        for i, width in enumerate(config.hidden_dims):
            self.add_module(f"dense_{i}", nn.Linear(in_dim, width))
            self.add_module(f"norm_{i}", _norm(config.norm, width, config.norm_eps))
            self.add_module(f"activation_fn_{i}", ACTIVATIONS[config.activation]())
            in_dim = width
        self.depth = len(config.hidden_dims)

    def forward(self, x: torch.Tensor, dropout_rate: float) -> torch.Tensor:
        for i in range(self.depth):
            x = getattr(self, f"activation_fn_{i}")(getattr(self, f"norm_{i}")(
                getattr(self, f"dense_{i}")(x)))
            x = F.dropout(x, dropout_rate, training=self.training)
        return x


def _pool(values: torch.Tensor, index: torch.Tensor, size: int, mean: bool) -> torch.Tensor:
    out = values.new_zeros((size, values.shape[1])).index_add_(0, index, values)
    if mean:
        counts = torch.bincount(index, minlength=size).clamp(min=1).to(values.dtype)
        out = out / counts[:, None]
    return out


class GraphNetwork(nn.Module):
    """One message-passing block: edge, node and global updates, each an :class:`Mlp`."""

    def __init__(self, edge_in: int, node_in: int, global_in: int, config: GnnConfig) -> None:
        super().__init__()
        self.update_edge_fn = Mlp(edge_in, config)
        self.update_node_fn = Mlp(node_in, config)
        self.update_global_fn = Mlp(global_in, config)
        self.mean = config.aggregation == "mean"

    def forward(self, nodes: torch.Tensor, edges: torch.Tensor, globals_: torch.Tensor,
                graph: GraphsTuple, node_graph: torch.Tensor, edge_graph: torch.Tensor,
                dropout_rate: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        senders, receivers = graph.senders, graph.receivers
        edges = self.update_edge_fn(torch.cat(
            [edges, nodes[senders], nodes[receivers], globals_[edge_graph]], dim=-1),
            dropout_rate)
        n = nodes.shape[0]
        sent = _pool(edges, senders, n, self.mean)
        received = _pool(edges, receivers, n, self.mean)
        nodes = self.update_node_fn(
            torch.cat([nodes, sent, received, globals_[node_graph]], dim=-1), dropout_rate)
        g = globals_.shape[0]
        pooled = [_pool(nodes, node_graph, g, self.mean), _pool(edges, edge_graph, g, self.mean)]
        globals_ = self.update_global_fn(torch.cat([*pooled, globals_], dim=-1), dropout_rate)
        return nodes, edges, globals_


class GNN(nn.Module):
    """Embed -> ``num_message_passing_steps`` :class:`GraphNetwork` blocks -> decode globals."""

    def __init__(self, config: GnnConfig) -> None:
        super().__init__()
        self.config = config
        latent, hidden, tasks = config.latent_dim, config.hidden_dims[-1], config.num_tasks
        self.node_embedder = nn.Linear(config.node_features, latent)
        self.edge_embedder = nn.Linear(config.edge_features, latent)
        blocks = []
        for step in range(config.num_message_passing_steps):
            if step == 0:  # globals start as zeros of width num_tasks, as upstream
                dims = (3 * latent + tasks, latent + 2 * hidden + tasks, 2 * hidden + tasks)
            else:
                dims = (4 * hidden, 4 * hidden, 3 * hidden)
            blocks.append(GraphNetwork(*dims, config))
        self.graph_network = nn.ModuleList(blocks)
        self.decoder = nn.Linear(hidden, tasks)
        for module in self.modules():
            if isinstance(module, nn.Linear):
                pytorch_default_init(module)
                if config.init_scale != 1.0:
                    with torch.no_grad():
                        module.weight.mul_(config.init_scale)

    def forward(self, graph: GraphsTuple, dropout_rate: float) -> torch.Tensor:
        num_graphs = graph.n_node.shape[0]
        index = torch.arange(num_graphs, device=graph.n_node.device)
        node_graph = torch.repeat_interleave(index, graph.n_node)
        edge_graph = torch.repeat_interleave(index, graph.n_edge)
        globals_ = graph.nodes.new_zeros((num_graphs, self.config.num_tasks))
        nodes = self.node_embedder(graph.nodes)
        edges = self.edge_embedder(graph.edges)
        for block in self.graph_network:
            nodes, edges, globals_ = block(nodes, edges, globals_, graph, node_graph,
                                           edge_graph, dropout_rate)
        return self.decoder(globals_)


def count_parameters(config: GnnConfig) -> int:
    """Trainable parameters of the model for ``config`` (built on the meta device)."""
    with torch.device("meta"):
        model = GNN(config)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
