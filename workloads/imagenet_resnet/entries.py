"""Registry rows of the ImageNet-ResNet family (base workload and official variants).

Both ImageNet families read the same official data; its check is
``workloads.imagenet_resnet.official_data:check``.
"""

from workloads.common.variants import Row, register_family

OFFICIAL_DATA_CHECK = "workloads.imagenet_resnet.official_data:check"

ROWS = (
    Row("imagenet_resnet",
        "ResNet-50 v1.5 on ImageNet; dev: a bottleneck ResNet on Fashion-MNIST",
        {"dev": {"pytorch": "ImagenetResNetPyTorchDev", "jax": "ImagenetResNetJaxDev"},
         "official": {"pytorch": "ImagenetResNetPyTorchOfficial",
                      "jax": "ImagenetResNetJaxOfficial"}}),
    Row("imagenet_resnet_silu", "imagenet_resnet with SiLU activations",
        {"dev": {"pytorch": "ImagenetResNetSiLUPyTorchDev", "jax": "ImagenetResNetSiLUJaxDev"},
         "official": {"pytorch": "ImagenetResNetSiLUPyTorchOfficial",
                      "jax": "ImagenetResNetSiLUJaxOfficial"}}),
    Row("imagenet_resnet_gelu", "imagenet_resnet with GELU (tanh) activations",
        {"dev": {"pytorch": "ImagenetResNetGELUPyTorchDev", "jax": "ImagenetResNetGELUJaxDev"},
         "official": {"pytorch": "ImagenetResNetGELUPyTorchOfficial",
                      "jax": "ImagenetResNetGELUJaxOfficial"}}),
    Row("imagenet_resnet_large_bn_init",
        "imagenet_resnet with residual-branch final BN scale initialised to 8",
        {"dev": {"pytorch": "ImagenetResNetLargeBNScalePyTorchDev",
                 "jax": "ImagenetResNetLargeBNScaleJaxDev"},
         "official": {"pytorch": "ImagenetResNetLargeBNScalePyTorchOfficial",
                      "jax": "ImagenetResNetLargeBNScaleJaxOfficial"}}),
)

register_family("imagenet_resnet", ROWS, prepare="workloads.imagenet_resnet.data:prepare",
                perturbation_space="workloads.imagenet_resnet.config:PERTURBATION_SPACE",
                official_data_check=OFFICIAL_DATA_CHECK)
