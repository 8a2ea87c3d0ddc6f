"""Paceline's framework-neutral core: the AlgoPerf API, the timed runner, rulesets, logging,
scoring and the `paceline` CLI. It imports no concrete workload or baseline; those register
themselves through entry points (see :mod:`sdk.registry`).

    paceline run --workload mnist --framework pytorch --submission nadamw
"""

__version__ = "0.1.0"
