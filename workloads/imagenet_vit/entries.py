"""Registry rows of the ImageNet-ViT family (base workload and official variants)."""

from workloads.common.variants import Row, register_family

# The official data is ImageNet's, shared with imagenet_resnet (one reader, one check).
OFFICIAL_DATA_CHECK = "workloads.imagenet_resnet.official_data:check"

ROWS = (
    Row("imagenet_vit", "ViT-S/16 on ImageNet; dev: a small ViT on Fashion-MNIST",
        {"dev": {"pytorch": "ImagenetVitPyTorchDev", "jax": "ImagenetVitJaxDev"},
         "official": {"pytorch": "ImagenetVitPyTorchOfficial", "jax": "ImagenetVitJaxOfficial"}}),
    Row("imagenet_vit_glu", "imagenet_vit with GLU feed-forward blocks",
        {"dev": {"pytorch": "ImagenetVitGluPyTorchDev", "jax": "ImagenetVitGluJaxDev"},
         "official": {"pytorch": "ImagenetVitGluPyTorchOfficial",
                      "jax": "ImagenetVitGluJaxOfficial"}}),
    Row("imagenet_vit_post_ln", "imagenet_vit with post-LayerNorm blocks",
        {"dev": {"pytorch": "ImagenetVitPostLNPyTorchDev", "jax": "ImagenetVitPostLNJaxDev"},
         "official": {"pytorch": "ImagenetVitPostLNPyTorchOfficial",
                      "jax": "ImagenetVitPostLNJaxOfficial"}}),
    Row("imagenet_vit_map", "imagenet_vit with a multi-head attention pooling head",
        {"dev": {"pytorch": "ImagenetVitMapPyTorchDev", "jax": "ImagenetVitMapJaxDev"},
         "official": {"pytorch": "ImagenetVitMapPyTorchOfficial",
                      "jax": "ImagenetVitMapJaxOfficial"}}),
)

register_family("imagenet_vit", ROWS, prepare="workloads.imagenet_vit.data:prepare",
                perturbation_space="workloads.imagenet_vit.config:PERTURBATION_SPACE",
                official_data_check=OFFICIAL_DATA_CHECK)
