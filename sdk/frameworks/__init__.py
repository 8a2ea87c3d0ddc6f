"""Framework helpers: what AlgoPerf's ``pytorch_utils``, ``jax_sharding_utils``,
``param_utils`` and ``jax_utils`` offer submissions and workloads, plus the runner's adapters
(device sync, checkpoints) for each framework. Each module imports its framework itself, so
importing this package costs nothing.
"""
