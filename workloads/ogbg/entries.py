"""Registry entries of the ogbg family: the base workload and its official variants."""

from sdk.registry import WorkloadEntry, workloads

_CLASSES = {
    "ogbg": "OgbgPyTorchDev",
    "ogbg_gelu": "OgbgGeluPyTorchDev",
    "ogbg_silu": "OgbgSiluPyTorchDev",
    "ogbg_model_size": "OgbgModelSizePyTorchDev",
}
_DESCRIPTIONS = {
    "ogbg": "graph network on QM9 molecules, multi-task binary properties (ogbg-molpcba)",
    "ogbg_gelu": "ogbg with GELU activations",
    "ogbg_silu": "ogbg with SiLU activations",
    "ogbg_model_size": "ogbg with half the latent width, two-layer MLPs, fewer steps",
}

for _name, _cls in _CLASSES.items():
    workloads().register(WorkloadEntry(
        name=_name,
        classes={"dev": {"pytorch": f"workloads.ogbg.pytorch:{_cls}",
                         "jax": f"workloads.ogbg.jax:{_cls.replace('PyTorch', 'Jax')}"}},
        base=None if _name == "ogbg" else "ogbg",
        description=_DESCRIPTIONS[_name],
        prepare="workloads.ogbg.data:prepare",
    ))
