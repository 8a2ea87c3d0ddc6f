"""The knobs of the finewebedu_lm decoder-only Transformer, as one frozen dataclass.

``OFFICIAL`` is AlgoPerf's model (AlgoPerf algoperf/workloads/finewebedu_lm/workload.py and
its finewebedu_lm_pytorch/models.py, finewebedu_lm_jax/models.py): 252,815,372 parameters
(see :func:`parameter_count`); ``DEV`` is the same architecture shrunk for CPU minutes. A
workload builds its model from ``make_config(scale, overrides)``:

    >>> from sdk.registry import workloads
    >>> w = workloads().create("finewebedu_lm", "dev", "pytorch",
    ...                        model_overrides={"num_layers": 3})

``PERTURBATION_SPACE`` says which knobs a random held-out variant may change and how far.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from sdk.errors import PacelineError
from workloads.common.model_config import override

ACTIVATIONS = ("silu", "gelu", "relu", "tanh")
DTYPES = ("float32", "bfloat16")


@dataclass(frozen=True)
class LmConfig:
    """Decoder-only Transformer with rotary positions, RMSNorm and tied embeddings.

    ``glu``: the feed-forward block is ``W2 (act(Wa x) * Wb x)`` with ``Wa``, ``Wb`` of width
    ``mlp_dim`` (one fused ``2 * mlp_dim`` projection, as upstream); else ``W2 act(W1 x)``.
    ``pre_ln``: RMSNorm before each sublayer and once more before the output projection;
    otherwise after each residual sum and no final norm. ``qk_norm``: queries and keys are
    scaled to unit length per head and the queries multiplied by a learned scalar (initial
    value ``log2(seq_len**2 - seq_len)``) in place of ``1/sqrt(head_dim)``.
    ``compute_dtype``: the autocast dtype of the forward pass (official: bfloat16).
    """

    vocab_size: int = 50_257
    seq_len: int = 1024
    model_dim: int = 1024
    num_heads: int = 8
    num_layers: int = 12
    mlp_dim: int = 4096
    multiple_of: int = 256  # mlp_dim is rounded up to a multiple of this, as upstream
    activation: str = "silu"
    glu: bool = True
    pre_ln: bool = True
    qk_norm: bool = True
    rope_theta: float = 500_000.0
    norm_eps: float = 1e-6
    qk_norm_eps: float = 1e-6
    tie_embeddings: bool = True
    init_std: float = 0.02  # N(0, std) of embeddings and projections
    compute_dtype: str = "bfloat16"

    @property
    def head_dim(self) -> int:
        return self.model_dim // self.num_heads

    @property
    def hidden_dim(self) -> int:
        """The feed-forward width: ``mlp_dim`` rounded up to ``multiple_of``."""
        return -(-self.mlp_dim // self.multiple_of) * self.multiple_of

    def check(self) -> LmConfig:
        """Raise PacelineError if a knob is out of range; return self."""
        if self.activation not in ACTIVATIONS:
            raise PacelineError(f"finewebedu_lm activation must be one of "
                                f"{', '.join(ACTIVATIONS)}, got {self.activation!r}.")
        if self.compute_dtype not in DTYPES:
            raise PacelineError(f"finewebedu_lm compute_dtype must be one of "
                                f"{', '.join(DTYPES)}, got {self.compute_dtype!r}.")
        if min(self.vocab_size, self.seq_len, self.model_dim, self.num_heads,
               self.num_layers, self.mlp_dim, self.multiple_of) < 1:
            raise PacelineError("finewebedu_lm sizes, heads and layer counts must be positive.")
        if self.model_dim % self.num_heads or self.head_dim % 2:
            raise PacelineError(f"finewebedu_lm model_dim ({self.model_dim}) must be "
                                f"num_heads ({self.num_heads}) times an even head width.")
        if min(self.rope_theta, self.norm_eps, self.qk_norm_eps, self.init_std) <= 0:
            raise PacelineError("finewebedu_lm rope_theta, epsilons and init_std must be "
                                "positive.")
        return self


# AlgoPerf's model: width 1024, 12 layers, 8 heads, feed-forward 4096 (GLU, SiLU),
# sequence 1024, GPT-2 vocabulary, bfloat16 compute over float32 parameters.
OFFICIAL = LmConfig()

# Dev scale: 2 layers of width 128 over the prepared corpus's 1,024-piece BPE vocabulary,
# 128-token sequences, float32 on the CPU.
DEV = LmConfig(vocab_size=1024, seq_len=128, model_dim=128, num_heads=4, num_layers=2,
               mlp_dim=512, multiple_of=64, compute_dtype="float32")

# AlgoPerf has no held-out variants of finewebedu_lm (its rules after PR #904 use none).
VARIANTS: dict[str, dict[str, Any]] = {}

# What a random held-out variant may change (dev scale): choices, or (low, high) ranges with
# "log" scaling for multiplicative knobs. Vocabulary and sequence length are fixed by the data.
PERTURBATION_SPACE: dict[str, dict[str, Any]] = {
    "activation": {"choices": ACTIVATIONS},
    "glu": {"choices": (True, False)},
    "pre_ln": {"choices": (True, False)},
    "qk_norm": {"choices": (True, False)},
    "model_dim": {"choices": (96, 128, 192)},
    "num_layers": {"choices": (1, 2, 3, 4)},
    "num_heads": {"choices": (2, 4)},
    "mlp_dim": {"choices": (256, 512, 768)},
    "init_std": {"range": (0.01, 0.05), "scale": "log"},
}


def make_config(scale: str, overrides: dict[str, Any] | None = None,
                vocab_size: int | None = None) -> LmConfig:
    """The base config of ``scale`` with ``overrides`` applied and checked."""
    base = OFFICIAL if scale == "official" else DEV
    if vocab_size is not None:  # the data's vocabulary, unless an override sets it
        base = replace(base, vocab_size=vocab_size)
    return override("finewebedu_lm", base, overrides).check()


def parameter_count(cfg: LmConfig) -> int:
    """Parameters of the model ``cfg`` describes, a tied embedding counted once.

    Per layer: query, key, value and output projections (4 D^2), the learned query scale (1,
    with QK-norm), the feed-forward block (D x 2F and F x D with GLU, else 2 D F) and two
    RMSNorm scales (2 D); then the embedding (V D), the final RMSNorm (D, pre-LN only) and
    an untied output projection (V D). AlgoPerf's model: 12 x 16,779,265 + 51,463,168 +
    1,024 = 252,815,372.
    """
    d, f = cfg.model_dim, cfg.hidden_dim
    mlp = (3 if cfg.glu else 2) * d * f
    layer = 4 * d * d + int(cfg.qk_norm) + mlp + 2 * d
    head = 0 if cfg.tie_embeddings else cfg.vocab_size * d
    return cfg.num_layers * layer + cfg.vocab_size * d + d * int(cfg.pre_ln) + head


def describe(config: LmConfig) -> dict[str, Any]:
    """The config as plain JSON-able values (for logs)."""
    return asdict(config)
