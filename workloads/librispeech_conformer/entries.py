"""Conformer registry rows (base workload and official variants) from ``rows.toml``."""

from workloads.common.variants import family_rows

ROWS = family_rows(__file__)
