"""ImageNet ResNet-50 (AlgoPerf ``imagenet_resnet``) and its held-out variants.

At dev scale a bottleneck ResNet trains on Fashion-MNIST in about a minute of CPU time:

    paceline data prepare imagenet_resnet
    paceline run --scale dev --workload imagenet_resnet --submission nadamw

See docs/workloads/imagenet_resnet.md.
"""
