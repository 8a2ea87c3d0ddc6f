"""MNIST's registry row (AlgoPerf's development workload, not scored), from ``rows.toml``."""

from workloads.common.variants import family_rows

ROWS = family_rows(__file__)
