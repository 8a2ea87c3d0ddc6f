"""Paceline's workloads: one folder per AlgoPerf workload family, both frameworks, both scales.

Each family registers itself in :mod:`workloads.catalog`; use them by name:

    paceline run --workload mnist --framework jax --submission nadamw
"""
