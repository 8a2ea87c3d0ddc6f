"""The ImageNet-ViT family's registry rows; ``rows.toml`` lists them."""

from workloads.common.variants import family_rows

ROWS = family_rows(__file__)
