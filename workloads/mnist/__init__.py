"""MNIST, AlgoPerf's development workload: an MLP 784-128-10 with a sigmoid hidden layer.

    paceline run --workload mnist --framework pytorch --submission nadamw
    paceline run --workload mnist --framework jax --scale official --data-dir ~/data/mnist ...
"""
