"""Registry rows of the ImageNet-ViT family (base workload and official variants)."""

from workloads.common.variants import Row, register_family

ROWS = (
    Row("imagenet_vit", "ViT-S/16 on ImageNet; dev: a small ViT on Fashion-MNIST",
        {"dev": {"pytorch": "ImagenetVitPyTorchDev", "jax": "ImagenetVitJaxDev"}}),
    Row("imagenet_vit_glu", "imagenet_vit with GLU feed-forward blocks",
        {"dev": {"pytorch": "ImagenetVitGluPyTorchDev", "jax": "ImagenetVitGluJaxDev"}}),
    Row("imagenet_vit_post_ln", "imagenet_vit with post-LayerNorm blocks",
        {"dev": {"pytorch": "ImagenetVitPostLNPyTorchDev", "jax": "ImagenetVitPostLNJaxDev"}}),
    Row("imagenet_vit_map", "imagenet_vit with a multi-head attention pooling head",
        {"dev": {"pytorch": "ImagenetVitMapPyTorchDev", "jax": "ImagenetVitMapJaxDev"}}),
)

register_family("imagenet_vit", ROWS, prepare="workloads.imagenet_vit.data:prepare",
                perturbation_space="workloads.imagenet_vit.config:PERTURBATION_SPACE")
