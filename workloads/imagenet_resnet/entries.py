"""Registry entries of the ImageNet-ResNet family (base workload and official variants)."""

from sdk.registry import WorkloadEntry, workloads

_PT, _JAX = "workloads.imagenet_resnet.pytorch", "workloads.imagenet_resnet.jax"
_PREPARE = "workloads.imagenet_resnet.data:prepare"

workloads().register(WorkloadEntry(
    name="imagenet_resnet",
    classes={"dev": {"pytorch": f"{_PT}:ImagenetResNetPyTorchDev",
                     "jax": f"{_JAX}:ImagenetResNetJaxDev"}},
    description="ResNet-50 v1.5 on ImageNet; dev: a bottleneck ResNet on Fashion-MNIST",
    prepare=_PREPARE,
))

for _name, _cls, _what in (
    ("imagenet_resnet_silu", "ImagenetResNetSiLU", "SiLU activations"),
    ("imagenet_resnet_gelu", "ImagenetResNetGELU", "GELU (tanh) activations"),
    ("imagenet_resnet_large_bn_init", "ImagenetResNetLargeBNScale",
     "residual-branch final BN scale initialised to 8"),
):
    workloads().register(WorkloadEntry(
        name=_name,
        classes={"dev": {"pytorch": f"{_PT}:{_cls}PyTorchDev",
                         "jax": f"{_JAX}:{_cls}JaxDev"}},
        base="imagenet_resnet",
        description=f"imagenet_resnet with {_what}",
        prepare=_PREPARE,
    ))
