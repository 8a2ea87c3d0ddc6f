"""Registry entries of the Conformer family (base workload and official variants)."""

from sdk.registry import WorkloadEntry, workloads

# Both speech families share one dev data set (cached as "librispeech_conformer"), so every
# speech workload names the same preparation function and `paceline data` builds it once.
PREPARE = "workloads.librispeech_conformer.data:prepare"
_MODULE = "workloads.librispeech_conformer.pytorch"

_WORKLOADS = {
    "librispeech_conformer": ("LibrispeechConformer",
                              "Conformer CTC on espeak-ng speech (LibriSpeech at dev scale)"),
    "librispeech_conformer_attention_temperature": (
        "AttentionTemperature", "Conformer variant: attention temperature 1.6"),
    "librispeech_conformer_layernorm": (
        "LayerNorm", "Conformer variant: no post-LayerNorm in each block"),
    "librispeech_conformer_gelu": ("Gelu", "Conformer variant: GELU for swish"),
}

for _name, (_cls, _description) in _WORKLOADS.items():
    workloads().register(WorkloadEntry(
        name=_name,
        classes={"dev": {"pytorch": f"{_MODULE}:{_cls}PyTorchDev"},
                 "official": {"pytorch": f"{_MODULE}:{_cls}PyTorchOfficial"}},
        base=None if _name == "librispeech_conformer" else "librispeech_conformer",
        description=_description,
        prepare=PREPARE,
    ))
