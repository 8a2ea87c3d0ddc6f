"""Registry entries of the ImageNet-ViT family (base workload and official variants)."""

from sdk.registry import WorkloadEntry, workloads

_PT, _JAX = "workloads.imagenet_vit.pytorch", "workloads.imagenet_vit.jax"
_PREPARE = "workloads.imagenet_vit.data:prepare"

workloads().register(WorkloadEntry(
    name="imagenet_vit",
    classes={"dev": {"pytorch": f"{_PT}:ImagenetVitPyTorchDev",
                     "jax": f"{_JAX}:ImagenetVitJaxDev"}},
    description="ViT-S/16 on ImageNet; dev: a small ViT on Fashion-MNIST",
    prepare=_PREPARE,
))

for _name, _cls, _what in (
    ("imagenet_vit_glu", "ImagenetVitGlu", "GLU feed-forward blocks"),
    ("imagenet_vit_post_ln", "ImagenetVitPostLN", "post-LayerNorm blocks"),
    ("imagenet_vit_map", "ImagenetVitMap", "a multi-head attention pooling head"),
):
    workloads().register(WorkloadEntry(
        name=_name,
        classes={"dev": {"pytorch": f"{_PT}:{_cls}PyTorchDev",
                         "jax": f"{_JAX}:{_cls}JaxDev"}},
        base="imagenet_vit",
        description=f"imagenet_vit with {_what}",
        prepare=_PREPARE,
    ))
