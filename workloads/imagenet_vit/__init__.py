"""ImageNet ViT-S/16 (AlgoPerf ``imagenet_vit``) and its held-out variants.

At dev scale a small ViT trains on Fashion-MNIST (RandAugment and mixup included) in about a
minute of CPU time:

    paceline data prepare imagenet_vit
    paceline run --scale dev --workload imagenet_vit --submission nadamw

See docs/workloads/imagenet_vit.md.
"""
