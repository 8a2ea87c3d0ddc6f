"""Registry rows of the ImageNet-ResNet family: base and official variants (``rows.toml``)."""

from workloads.common.variants import family_rows

ROWS = family_rows(__file__)
