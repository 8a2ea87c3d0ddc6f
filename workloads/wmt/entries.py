"""Registry entries of the wmt family: the base workload and its official variants."""

from sdk.registry import WorkloadEntry, workloads

_CLASSES = {
    "wmt": "WmtPyTorchDev",
    "wmt_post_ln": "WmtPostLnPyTorchDev",
    "wmt_attention_temp": "WmtAttentionTempPyTorchDev",
    "wmt_glu_tanh": "WmtGluTanhPyTorchDev",
}
_DESCRIPTIONS = {
    "wmt": "encoder-decoder Transformer translating a generated language into English (BLEU)",
    "wmt_post_ln": "wmt with post-LayerNorm layers",
    "wmt_attention_temp": "wmt with attention temperature 4",
    "wmt_glu_tanh": "wmt with tanh-GLU feed-forward blocks",
}

for _name, _cls in _CLASSES.items():
    workloads().register(WorkloadEntry(
        name=_name,
        classes={"dev": {"pytorch": f"workloads.wmt.pytorch:{_cls}"}},
        base=None if _name == "wmt" else "wmt",
        description=_DESCRIPTIONS[_name],
        prepare="workloads.wmt.data:prepare",
    ))
