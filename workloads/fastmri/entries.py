"""Registry entries of the fastmri family: the base workload and its official variants."""

from sdk.registry import WorkloadEntry, workloads

_CLASSES = {
    "fastmri": "FastMriPyTorchDev",
    "fastmri_model_size": "FastMriModelSizePyTorchDev",
    "fastmri_tanh": "FastMriTanhPyTorchDev",
    "fastmri_layernorm": "FastMriLayerNormPyTorchDev",
}
_DESCRIPTIONS = {
    "fastmri": "U-Net reconstruction of 4x-undersampled single-coil MRI (brain templates)",
    "fastmri_model_size": "fastmri with twice the channels and one pooling level fewer",
    "fastmri_tanh": "fastmri with tanh instead of leaky-ReLU activations",
    "fastmri_layernorm": "fastmri with layer norm instead of instance norm in the conv blocks",
}

for _name, _cls in _CLASSES.items():
    workloads().register(WorkloadEntry(
        name=_name,
        classes={"dev": {"pytorch": f"workloads.fastmri.pytorch:{_cls}",
                         "jax": f"workloads.fastmri.jax:{_cls.replace('PyTorch', 'Jax')}"}},
        base=None if _name == "fastmri" else "fastmri",
        description=_DESCRIPTIONS[_name],
        prepare="workloads.fastmri.data:prepare",
    ))
