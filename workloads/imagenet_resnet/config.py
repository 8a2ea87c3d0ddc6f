"""The knobs of the ResNet model family, its official and dev configurations, and the space a
random held-out variant may draw from.

Every architectural choice of the model is a field of :class:`ResNetConfig`; the official
AlgoPerf ResNet-50 v1.5 is :data:`OFFICIAL`, the CPU-minute dev model is :data:`DEV`. A
workload applies ``model_overrides`` on top (``variant_overrides`` of an official variant
first, then the constructor's)::

    from sdk.registry import workloads
    w = workloads().create("imagenet_resnet", "dev", "pytorch",
                           model_overrides={"activation": "silu", "bn_init_scale": 2.0})
"""

from __future__ import annotations

from dataclasses import dataclass

from workloads.common.vision import ACTIVATION_NAMES


@dataclass(frozen=True)
class ResNetConfig:
    """A bottleneck ResNet (v1.5: the stride sits in the 3x3 conv of a block).

    The stem is ``conv(stem_kernel, stride stem_stride) -> BN -> act`` and, with ``stem_pool``,
    a 3x3/2 max-pool. Stage ``i`` has ``stage_depths[i]`` bottleneck blocks of inner width
    ``stage_widths[i]`` (output ``expansion`` times that); stages after the first halve the
    resolution. ``width_multiplier`` scales the stem and every stage width (rounded, at least
    1). The last BN of every residual branch starts with scale ``bn_init_scale`` (0 = the
    official zero-init; 8 = the ``large_bn_init`` variant). Convolutions are LeCun-normal
    (truncated) with their std times ``conv_init_scale``. The classifier is global average
    pooling and a linear layer initialised N(0, ``fc_init_std``).
    """

    num_classes: int = 1000
    in_channels: int = 3
    stem_width: int = 64
    stem_kernel: int = 7
    stem_stride: int = 2
    stem_pool: bool = True
    stage_widths: tuple[int, ...] = (64, 128, 256, 512)
    stage_depths: tuple[int, ...] = (3, 4, 6, 3)
    expansion: int = 4
    width_multiplier: float = 1.0
    activation: str = "relu"
    bn_init_scale: float = 0.0
    bn_momentum: float = 0.1  # PyTorch convention: new = (1 - m) * old + m * batch
    bn_eps: float = 1e-5
    fc_init_std: float = 0.01
    conv_init_scale: float = 1.0  # multiplies the LeCun-normal std of every convolution

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATION_NAMES:
            raise ValueError(f"Unknown activation {self.activation!r}; choose one of "
                             f"{', '.join(ACTIVATION_NAMES)}.")
        if len(self.stage_widths) != len(self.stage_depths) or not self.stage_depths:
            raise ValueError("stage_widths and stage_depths must be non-empty and as long as "
                             "each other.")
        if min(self.stage_depths) < 1 or self.width_multiplier <= 0 or self.stem_kernel < 1:
            raise ValueError("Stage depths, stem kernel and width multiplier must be positive.")

    def widths(self) -> tuple[int, tuple[int, ...]]:
        """(stem width, stage widths) after the width multiplier."""
        scale = self.width_multiplier
        return (max(1, round(self.stem_width * scale)),
                tuple(max(1, round(w * scale)) for w in self.stage_widths))


# ResNet-50 v1.5 as AlgoPerf trains it on ImageNet: 25,557,032 trainable parameters.
OFFICIAL = ResNetConfig()

# The dev model for 28x28 grey Fashion-MNIST images: the same four bottleneck stages, one
# block each, 8x narrower, a 3x3 stride-1 stem (a 7x7/2 stem would leave nothing of a 28x28
# image) followed by the official max-pool: 28 -> 14 -> 7 -> 4 -> 2.
DEV = ResNetConfig(
    num_classes=10,
    in_channels=1,
    stem_width=16,
    stem_kernel=3,
    stem_stride=1,
    stem_pool=True,
    stage_widths=(8, 16, 32, 64),
    stage_depths=(1, 1, 1, 1),
)

# Official held-out variants (AlgoPerf's algoperf/workloads/imagenet_resnet/imagenet_pytorch/workload.py) as model changes.
VARIANTS: dict[str, dict[str, object]] = {
    "imagenet_resnet_silu": {"activation": "silu"},
    "imagenet_resnet_gelu": {"activation": "gelu"},
    "imagenet_resnet_large_bn_init": {"bn_init_scale": 8.0},
}

# What a random held-out variant of this family may change, and how (read by the held-out
# variant generator). Each knob is a ResNetConfig field with either
#   {"choices": (...)}                      one value drawn uniformly, or
#   {"low": a, "high": b, "log": bool}      a float drawn uniformly (in log space if "log").
# The official variants are points of this space; every combination builds a valid model.
PERTURBATION_SPACE: dict[str, dict[str, object]] = {
    "activation": {"choices": ("relu", "silu", "gelu", "leaky_relu", "elu")},
    "bn_init_scale": {"low": 0.0, "high": 8.0, "log": False},
    "width_multiplier": {"choices": (0.5, 0.75, 1.0, 1.5, 2.0)},
    "stage_depths": {"choices": ((1, 1, 1, 1), (1, 2, 2, 1), (2, 2, 2, 2))},
    "fc_init_std": {"low": 1e-3, "high": 0.1, "log": True},
    "bn_momentum": {"choices": (0.01, 0.1, 0.3)},
    "conv_init_scale": {"low": 0.25, "high": 4.0, "log": True},
}
