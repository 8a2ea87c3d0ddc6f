"""ogbg: AlgoPerf's molecular property workload (a graph network on ogbg-molpcba), with a
dev scale built from real QM9 molecules.

    paceline data prepare ogbg
    paceline run --workload ogbg --submission nadamw
    paceline run --workload ogbg_gelu --submission nadamw   # an official held-out variant

See docs/workloads/ogbg.md.
"""
