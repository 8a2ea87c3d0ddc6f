"""Registry entries of the criteo1tb family: the base workload and its official variants."""

from sdk.registry import WorkloadEntry, workloads

_CLASSES = {
    "criteo1tb": "Criteo1TbPyTorchDev",
    "criteo1tb_layernorm": "Criteo1TbLayerNormPyTorchDev",
    "criteo1tb_resnet": "Criteo1TbResNetPyTorchDev",
    "criteo1tb_embed_init": "Criteo1TbEmbedInitPyTorchDev",
}
_DESCRIPTIONS = {
    "criteo1tb": "DLRM-small click-through prediction on a generated Criteo-style click log",
    "criteo1tb_layernorm": "criteo1tb with LayerNorm after every MLP activation and on embeddings",
    "criteo1tb_resnet": "criteo1tb with residual MLPs and no dot interaction (DLRMResNet)",
    "criteo1tb_embed_init": "criteo1tb with the embedding table initialised U[0, 1)",
}

for _name, _cls in _CLASSES.items():
    workloads().register(WorkloadEntry(
        name=_name,
        classes={"dev": {"pytorch": f"workloads.criteo1tb.pytorch:{_cls}",
                         "jax": f"workloads.criteo1tb.jax:{_cls.replace('PyTorch', 'Jax')}"}},
        base=None if _name == "criteo1tb" else "criteo1tb",
        description=_DESCRIPTIONS[_name],
        prepare="workloads.criteo1tb.data:prepare",
    ))
