"""Registry rows of criteo1tb and its official variants (dev: a generated click log;
official: AlgoPerf's Criteo 1TB day files), read from ``rows.toml`` beside this file."""

from workloads.common.variants import family_rows

ROWS = family_rows(__file__)
