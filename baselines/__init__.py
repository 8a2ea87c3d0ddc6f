"""Reference training algorithms, registered by name in :mod:`baselines.catalog`.

    paceline run --workload mnist --submission nadamw            # external tuning
    paceline run --workload mnist --submission nadamw --ruleset self
"""
