"""The knobs of the ogbg graph network, as one frozen dataclass.

``OFFICIAL`` is AlgoPerf's model exactly (3,554,176 parameters with 128 tasks); ``DEV`` is the
same network shrunk for CPU minutes. A workload builds its model from
``make_config(scale, overrides)``, where ``overrides`` are the variant's ``variant_overrides``
plus any ``model_overrides`` given to the workload constructor:

    >>> from sdk.registry import workloads
    >>> w = workloads().create("ogbg", "dev", "pytorch", model_overrides={"activation": "tanh"})

``PERTURBATION_SPACE`` says which knobs a random held-out variant may change and how far.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sdk.errors import PacelineError
from workloads.common.model_config import override

ACTIVATIONS = ("relu", "gelu", "silu", "tanh", "leaky_relu")
NORMS = ("layernorm", "rmsnorm", "none")
AGGREGATIONS = ("sum", "mean")


@dataclass(frozen=True)
class GnnConfig:
    """A jraph-style GraphNetwork: embed, ``num_message_passing_steps`` blocks, decode.

    Each block updates edges, then nodes, then globals with its own MLP; an MLP is, per hidden
    width, Linear -> norm -> activation -> dropout. The decoder maps the globals to one logit
    per task.
    """

    num_tasks: int = 128
    node_features: int = 9
    edge_features: int = 3
    latent_dim: int = 256
    hidden_dims: tuple[int, ...] = (256,)
    num_message_passing_steps: int = 5
    activation: str = "relu"  # "gelu" is the tanh approximation, as the official variant
    norm: str = "layernorm"
    norm_eps: float = 1e-6
    aggregation: str = "sum"  # how edges are pooled into nodes and nodes/edges into globals
    dropout_rate: float = 0.1  # the default when a submission passes none
    init_scale: float = 1.0  # multiplies the LeCun-normal standard deviation of every Linear

    def check(self) -> GnnConfig:
        """Raise PacelineError if a knob is out of range; return self."""
        if self.activation not in ACTIVATIONS:
            raise PacelineError(f"ogbg activation must be one of {', '.join(ACTIVATIONS)}, "
                                f"got {self.activation!r}.")
        if self.norm not in NORMS:
            raise PacelineError(f"ogbg norm must be one of {', '.join(NORMS)}, got {self.norm!r}.")
        if self.aggregation not in AGGREGATIONS:
            raise PacelineError(f"ogbg aggregation must be one of {', '.join(AGGREGATIONS)}, "
                                f"got {self.aggregation!r}.")
        if not self.hidden_dims or min(self.hidden_dims) < 1 or self.latent_dim < 1:
            raise PacelineError("ogbg latent_dim and hidden_dims must be positive widths.")
        if self.num_message_passing_steps < 1:
            raise PacelineError("ogbg needs at least one message-passing step.")
        if not 0.0 <= self.dropout_rate < 1.0 or self.init_scale <= 0:
            raise PacelineError("ogbg dropout_rate must be in [0, 1) and init_scale positive.")
        return self


# AlgoPerf's model (algoperf/workloads/ogbg/ogbg_pytorch/models.py).
OFFICIAL = GnnConfig()

# Dev scale: the same structure, narrower and shallower, for the dev tasks (see data.TASKS).
DEV = GnnConfig(num_tasks=32, latent_dim=64, hidden_dims=(64,), num_message_passing_steps=3)

# The official held-out variants (AlgoPerf's algoperf/workloads/ogbg/ogbg_pytorch/workload.py) at each scale. ogbg_model_size
# halves the latent width, doubles the MLP depth and drops 2 of 5 steps; dev keeps the
# proportions (2 of 3 steps).
VARIANTS: dict[str, dict[str, dict[str, Any]]] = {
    "ogbg_gelu": {"official": {"activation": "gelu"}, "dev": {"activation": "gelu"}},
    "ogbg_silu": {"official": {"activation": "silu"}, "dev": {"activation": "silu"}},
    "ogbg_model_size": {
        "official": {"latent_dim": 128, "hidden_dims": (256, 256),
                     "num_message_passing_steps": 3},
        "dev": {"latent_dim": 32, "hidden_dims": (64, 64), "num_message_passing_steps": 2},
    },
}

# What a random held-out variant may change (dev scale): choices, or (low, high) ranges with
# "log" scaling for multiplicative knobs. Widths stay multiples of 8; the number of tasks and
# the input features are fixed by the data.
PERTURBATION_SPACE: dict[str, dict[str, Any]] = {
    "activation": {"choices": ACTIVATIONS},
    "norm": {"choices": NORMS},
    "aggregation": {"choices": AGGREGATIONS},
    "latent_dim": {"choices": (32, 48, 64, 96, 128)},
    "hidden_dims": {"choices": ((64,), (96,), (128,), (64, 64), (32, 64))},
    "num_message_passing_steps": {"choices": (1, 2, 3, 4, 5)},
    "dropout_rate": {"range": (0.0, 0.3), "scale": "linear"},
    "init_scale": {"range": (0.25, 4.0), "scale": "log"},
}


def make_config(scale: str, overrides: dict[str, Any] | None = None) -> GnnConfig:
    """The base config of ``scale`` with ``overrides`` applied and checked."""
    base = OFFICIAL if scale == "official" else DEV
    return override("ogbg", base, overrides, tuples=("hidden_dims",)).check()

