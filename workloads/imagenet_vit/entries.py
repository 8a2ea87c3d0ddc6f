"""Registry entries of the ImageNet-ViT family (base workload and official variants)."""

from sdk.registry import WorkloadEntry, workloads

_MODULE = "workloads.imagenet_vit.pytorch"
_PREPARE = "workloads.imagenet_vit.data:prepare"

workloads().register(WorkloadEntry(
    name="imagenet_vit",
    classes={"dev": {"pytorch": f"{_MODULE}:ImagenetVitPyTorchDev"}},
    description="ViT-S/16 on ImageNet; dev: a small ViT on Fashion-MNIST",
    prepare=_PREPARE,
))

for _name, _cls, _what in (
    ("imagenet_vit_glu", "ImagenetVitGluPyTorchDev", "GLU feed-forward blocks"),
    ("imagenet_vit_post_ln", "ImagenetVitPostLNPyTorchDev", "post-LayerNorm blocks"),
    ("imagenet_vit_map", "ImagenetVitMapPyTorchDev", "a multi-head attention pooling head"),
):
    workloads().register(WorkloadEntry(
        name=_name,
        classes={"dev": {"pytorch": f"{_MODULE}:{_cls}"}},
        base="imagenet_vit",
        description=f"imagenet_vit with {_what}",
        prepare=_PREPARE,
    ))
