"""Registry rows of the wmt family: the base workload and its official variants (``rows.toml``)."""

from workloads.common.variants import family_rows

ROWS = family_rows(__file__)
