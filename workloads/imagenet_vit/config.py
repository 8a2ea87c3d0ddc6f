"""The knobs of the Vision Transformer family, its official and dev configurations, and the
space a random held-out variant may draw from.

Every architectural choice is a field of :class:`ViTConfig`; AlgoPerf's ViT-S/16 is
:data:`OFFICIAL`, the CPU-minute dev model is :data:`DEV`. A workload applies
``model_overrides`` on top (an official variant's ``variant_overrides`` first)::

    from sdk.registry import workloads
    w = workloads().create("imagenet_vit", "dev", "pytorch",
                           model_overrides={"use_glu": True, "attention_temperature": 1.5})
"""

from __future__ import annotations

from dataclasses import dataclass

from workloads.common.vision import ACTIVATION_NAMES


@dataclass(frozen=True)
class ViTConfig:
    """A ViT without class token, as AlgoPerf's (big_vision style).

    Patches of ``patch_size`` pixels are embedded by a strided conv, a fixed 2-D sin-cos
    position embedding is added, ``depth`` encoder blocks follow (pre-LN by default,
    ``post_layer_norm`` puts LN after each residual add and drops the final LN), then the
    tokens are pooled (``"gap"`` = mean, ``"map"`` = multi-head attention pooling with a
    learned probe), passed through a tanh pre-logits layer (``rep_size``) and a linear head
    (zero-initialised with ``head_zeroinit``). ``use_glu`` multiplies the MLP's hidden
    activation by a linear gate of itself. Attention logits are divided by
    ``sqrt(head_dim) * attention_temperature``. ``width_multiplier`` scales width and MLP
    width (width rounded to a multiple of ``4 * num_heads`` so heads and the sin-cos
    embedding divide it). ``dropout_rate`` is the default when a submission passes none.
    """

    num_classes: int = 1000
    in_channels: int = 3
    image_size: int = 224
    patch_size: int = 16
    width: int = 384
    depth: int = 12
    num_heads: int = 6
    mlp_dim: int = 1536
    width_multiplier: float = 1.0
    activation: str = "gelu"
    use_glu: bool = False
    post_layer_norm: bool = False
    pooling: str = "gap"
    attention_temperature: float = 1.0
    rep_size: bool = True
    head_zeroinit: bool = True
    layer_norm_eps: float = 1e-6
    dropout_rate: float = 0.0

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATION_NAMES:
            raise ValueError(f"Unknown activation {self.activation!r}; choose one of "
                             f"{', '.join(ACTIVATION_NAMES)}.")
        if self.pooling not in ("gap", "map"):
            raise ValueError(f"pooling must be 'gap' or 'map', not {self.pooling!r}.")
        if self.image_size % self.patch_size:
            raise ValueError(f"patch_size {self.patch_size} does not divide image_size "
                             f"{self.image_size}.")
        if self.width % (4 * self.num_heads) or self.depth < 1 or self.width_multiplier <= 0:
            raise ValueError("width must be a multiple of 4 x num_heads, depth and width "
                             "multiplier positive.")
        if self.attention_temperature <= 0:
            raise ValueError("attention_temperature must be positive.")

    def sizes(self) -> tuple[int, int]:
        """(width, mlp width) after the width multiplier."""
        if self.width_multiplier == 1.0:
            return self.width, self.mlp_dim
        unit = 4 * self.num_heads
        width = max(unit, round(self.width * self.width_multiplier / unit) * unit)
        return width, max(1, round(self.mlp_dim * self.width_multiplier))


# ViT-S/16 as AlgoPerf trains it on ImageNet: 22,122,472 trainable parameters.
OFFICIAL = ViTConfig()

# The dev model for 28x28 grey Fashion-MNIST images: 7x7 patches give a 4x4 token grid
# (ViT-S/16 on 224 px has 14x14; 4x4 patches here would cost 3x the compute for 7x7 tokens);
# 4 blocks of width 64 with 4 heads of 16, MLP 4x.
DEV = ViTConfig(
    num_classes=10,
    in_channels=1,
    image_size=28,
    patch_size=7,
    width=64,
    depth=4,
    num_heads=4,
    mlp_dim=256,
)

# Official held-out variants (AlgoPerf's algoperf/workloads/imagenet_vit/imagenet_pytorch/workload.py) as model changes.
VARIANTS: dict[str, dict[str, object]] = {
    "imagenet_vit_glu": {"use_glu": True},
    "imagenet_vit_post_ln": {"post_layer_norm": True},
    "imagenet_vit_map": {"pooling": "map"},
}

# What a random held-out variant of this family may change, and how (read by the held-out
# variant generator). Each knob is a ViTConfig field with either
#   {"choices": (...)}                      one value drawn uniformly, or
#   {"low": a, "high": b, "log": bool}      a float drawn uniformly (in log space if "log").
# The official variants are points of this space; every combination builds a valid model.
PERTURBATION_SPACE: dict[str, dict[str, object]] = {
    "activation": {"choices": ("gelu", "relu", "silu", "gelu_exact")},
    "use_glu": {"choices": (False, True)},
    "post_layer_norm": {"choices": (False, True)},
    "pooling": {"choices": ("gap", "map")},
    "attention_temperature": {"low": 0.5, "high": 2.0, "log": True},
    "width_multiplier": {"choices": (0.5, 1.0, 1.5)},
    "depth": {"choices": (2, 4, 6)},
    "head_zeroinit": {"choices": (True, False)},
}
