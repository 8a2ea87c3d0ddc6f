"""The knobs of the wmt encoder-decoder Transformer, as one frozen dataclass.

``OFFICIAL`` is AlgoPerf's model exactly (133,521,408 parameters); ``DEV`` is the same
architecture shrunk for CPU minutes. A workload builds its model from
``make_config(scale, overrides)``, where ``overrides`` are the variant's ``variant_overrides``
plus any ``model_overrides`` given to the workload constructor:

    >>> from sdk.registry import workloads
    >>> w = workloads().create("wmt", "dev", "pytorch", model_overrides={"activation": "gelu"})

``PERTURBATION_SPACE`` says which knobs a random held-out variant may change and how far.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sdk.errors import PacelineError
from workloads.common.model_config import override

ACTIVATIONS = ("relu", "gelu", "silu", "tanh")


@dataclass(frozen=True)
class TransformerConfig:
    """Encoder-decoder Transformer with shared input/output embeddings.

    ``pre_ln``: LayerNorm before each sublayer and a final LayerNorm after each stack
    (official); otherwise LayerNorm after each residual sum and no final LayerNorm (the
    ``wmt_post_ln`` variant). ``glu``: the MLP is ``act(W1 x) * (Wg x)`` (``wmt_glu_tanh``).
    ``attention_temperature`` multiplies the queries (``wmt_attention_temp``).
    """

    vocab_size: int = 32_000
    d_model: int = 1024
    num_heads: int = 16
    mlp_dim: int = 1024
    num_encoder_layers: int = 6
    num_decoder_layers: int = 6
    max_len: int = 256
    activation: str = "relu"
    glu: bool = False
    pre_ln: bool = True
    norm_eps: float = 1e-6
    attention_temperature: float = 1.0
    dropout_rate: float = 0.1  # the default when a submission passes none
    attention_dropout: bool = True  # PyTorch upstream also drops attention probabilities
    embedding_init_std: float = 1.0  # N(0, std) init of the shared embedding
    init_gain: float = 1.0  # multiplies the xavier-uniform bound of every Linear
    # Decoder inputs of packed rows restart at 0 for every segment. Upstream (both frameworks)
    # shifts the whole packed row, so a segment's first input is the previous one's EOS.
    shift_per_segment: bool = True

    def check(self) -> TransformerConfig:
        """Raise PacelineError if a knob is out of range; return self."""
        if self.activation not in ACTIVATIONS:
            raise PacelineError(f"wmt activation must be one of {', '.join(ACTIVATIONS)}, "
                                f"got {self.activation!r}.")
        if self.d_model % self.num_heads:
            raise PacelineError(f"wmt d_model ({self.d_model}) must be a multiple of "
                                f"num_heads ({self.num_heads}).")
        if min(self.d_model, self.mlp_dim, self.num_encoder_layers, self.num_decoder_layers,
               self.num_heads) < 1:
            raise PacelineError("wmt widths, heads and layer counts must be positive.")
        if not 0.0 <= self.dropout_rate < 1.0:
            raise PacelineError("wmt dropout_rate must be in [0, 1).")
        if min(self.attention_temperature, self.embedding_init_std, self.init_gain) <= 0:
            raise PacelineError("wmt attention_temperature and init scales must be positive.")
        return self


# AlgoPerf's model (AlgoPerf algoperf/workloads/wmt/wmt_pytorch/models.py).
OFFICIAL = TransformerConfig(shift_per_segment=False)

# Dev scale: 2+2 layers of width 96 (MLP width = model width, as upstream) over the generated
# task's 1,024-piece vocabulary.
DEV = TransformerConfig(vocab_size=1024, d_model=96, num_heads=4, mlp_dim=96,
                        num_encoder_layers=2, num_decoder_layers=2, max_len=64)

# The official held-out variants (AlgoPerf's algoperf/workloads/wmt/wmt_pytorch/workload.py), the same change at both scales.
VARIANTS: dict[str, dict[str, Any]] = {
    "wmt_post_ln": {"pre_ln": False},
    "wmt_attention_temp": {"attention_temperature": 4.0},
    "wmt_glu_tanh": {"glu": True, "activation": "tanh"},
}

# What a random held-out variant may change (dev scale): choices, or (low, high) ranges with
# "log" scaling for multiplicative knobs. The vocabulary and max length are fixed by the data.
PERTURBATION_SPACE: dict[str, dict[str, Any]] = {
    "activation": {"choices": ACTIVATIONS},
    "glu": {"choices": (False, True)},
    "pre_ln": {"choices": (True, False)},
    "attention_temperature": {"range": (0.25, 4.0), "scale": "log"},
    "d_model": {"choices": (64, 96, 128)},
    "num_heads": {"choices": (2, 4, 8)},
    "mlp_dim": {"choices": (48, 96, 192)},
    "num_encoder_layers": {"choices": (1, 2, 3)},
    "num_decoder_layers": {"choices": (1, 2, 3)},
    "dropout_rate": {"range": (0.0, 0.3), "scale": "linear"},
    "embedding_init_std": {"range": (0.1, 2.0), "scale": "log"},
    "init_gain": {"range": (0.5, 2.0), "scale": "log"},
}


def make_config(scale: str, overrides: dict[str, Any] | None = None,
                vocab_size: int | None = None) -> TransformerConfig:
    """The base config of ``scale`` with ``overrides`` applied and checked.

    ``vocab_size`` (the data's vocabulary) applies unless an override sets it.
    """
    base = OFFICIAL if scale == "official" else DEV
    if vocab_size is not None:
        base = replace(base, vocab_size=vocab_size)
    return override("wmt", base, overrides).check()

