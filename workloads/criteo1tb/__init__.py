"""criteo1tb: DLRM-small click-through prediction (AlgoPerf's Criteo 1TB workload).

Dev scale trains a shrunk DLRM-small on a generated click log with the official feature
layout (:mod:`workloads.criteo1tb.clicklog`); see docs/workloads/criteo1tb.md.

    paceline data prepare criteo1tb
    paceline run --workload criteo1tb --submission nadamw
"""
