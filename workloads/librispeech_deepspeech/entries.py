"""Registry entries of the DeepSpeech family (base workload and official variants)."""

from sdk.registry import WorkloadEntry, workloads

# The dev data is shared with the Conformer family (one cache folder, built once), so the
# entries name the Conformer's preparation function; `paceline data prepare
# librispeech_deepspeech` builds the same data set.
PREPARE = "workloads.librispeech_conformer.data:prepare"
_MODULE = "workloads.librispeech_deepspeech.pytorch"

_WORKLOADS = {
    "librispeech_deepspeech": (
        "LibrispeechDeepspeech",
        "DeepSpeech-style CTC (conv subsampling + BiLSTMs) on espeak-ng speech"),
    "librispeech_deepspeech_tanh": ("Tanh", "DeepSpeech variant: tanh activations"),
    "librispeech_deepspeech_no_resnet": (
        "NoResnet", "DeepSpeech variant: no residual connections"),
    "librispeech_deepspeech_norm_and_spec_aug": (
        "NormAndSpecAug",
        "DeepSpeech variant: LayerNorm everywhere, no decoder LN, more SpecAugment masks"),
}

for _name, (_cls, _description) in _WORKLOADS.items():
    workloads().register(WorkloadEntry(
        name=_name,
        classes={"dev": {"pytorch": f"{_MODULE}:{_cls}PyTorchDev"},
                 "official": {"pytorch": f"{_MODULE}:{_cls}PyTorchOfficial"}},
        base=None if _name == "librispeech_deepspeech" else "librispeech_deepspeech",
        description=_description,
        prepare=PREPARE,
    ))
