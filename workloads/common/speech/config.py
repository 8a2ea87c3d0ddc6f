"""What the two speech families' model configs share: the knobs both models have
(:class:`SpeechConfig`) and the dev-scale choices that follow from the shared dev data and its
CPU-minute budget (:data:`DEV_SHARED`).

    from workloads.common.speech.config import DEV_SHARED
    ConformerConfig(encoder_dim=96, **DEV_SHARED)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Dev knobs both families set the same way.
DEV_SHARED: dict[str, Any] = {
    "vocab_size": 29,  # blank + space + a-z + apostrophe (workloads.common.speech.text)
    "subsample_channels": 16,
    # The official EMA decay 0.999 suits 40k+ steps; a few hundred dev steps need the running
    # statistics to forget their initial values within the first evaluations.
    "batch_norm_momentum": 0.05,
}


@dataclass(frozen=True)
class SpeechConfig:
    """The knobs both speech models have, with AlgoPerf's values: vocabulary, encoder width,
    subsampling channels, SpecAugment masks and the masked BatchNorms' momentum and epsilon.
    A family's config dataclass extends it with its own knobs."""

    vocab_size: int = 1024
    encoder_dim: int = 512
    subsample_channels: int | None = None  # None: encoder_dim channels, as officially
    freq_mask_count: int = 2
    freq_mask_max_bins: int = 27
    time_mask_count: int = 10
    time_mask_max_ratio: float = 0.05
    use_specaug: bool = True
    batch_norm_momentum: float = 1 - 0.999
    batch_norm_epsilon: float = 1e-3

    @property
    def channels(self) -> int:
        """Channels of the subsampling convolutions: ``encoder_dim`` unless set (official)."""
        return self.subsample_channels or self.encoder_dim
