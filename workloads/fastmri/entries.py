"""Registry rows of the fastmri family, kept as data in ``rows.toml`` beside this file."""

from workloads.common.variants import family_rows

ROWS = family_rows(__file__)
