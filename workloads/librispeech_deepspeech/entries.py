"""Registry rows of the DeepSpeech family (base workload and official variants)."""

from workloads.common.variants import Row, register_family

# The dev data is shared with the Conformer family (one cache folder, built once), so the
# entries name the Conformer's preparation function; `paceline data prepare
# librispeech_deepspeech` builds the same data set.
PREPARE = "workloads.librispeech_conformer.data:prepare"

ROWS = (
    Row("librispeech_deepspeech",
        "DeepSpeech-style CTC (conv subsampling + BiLSTMs) on espeak-ng speech",
        {"dev": {"pytorch": "LibrispeechDeepspeechPyTorchDev",
                 "jax": "LibrispeechDeepspeechJaxDev"},
         "official": {"pytorch": "LibrispeechDeepspeechPyTorchOfficial",
                      "jax": "LibrispeechDeepspeechJaxOfficial"}}),
    Row("librispeech_deepspeech_tanh", "DeepSpeech variant: tanh activations",
        {"dev": {"pytorch": "TanhPyTorchDev", "jax": "TanhJaxDev"},
         "official": {"pytorch": "TanhPyTorchOfficial", "jax": "TanhJaxOfficial"}}),
    Row("librispeech_deepspeech_no_resnet", "DeepSpeech variant: no residual connections",
        {"dev": {"pytorch": "NoResnetPyTorchDev", "jax": "NoResnetJaxDev"},
         "official": {"pytorch": "NoResnetPyTorchOfficial", "jax": "NoResnetJaxOfficial"}}),
    Row("librispeech_deepspeech_norm_and_spec_aug",
        "DeepSpeech variant: LayerNorm everywhere, no decoder LN, more SpecAugment masks",
        {"dev": {"pytorch": "NormAndSpecAugPyTorchDev", "jax": "NormAndSpecAugJaxDev"},
         "official": {"pytorch": "NormAndSpecAugPyTorchOfficial",
                      "jax": "NormAndSpecAugJaxOfficial"}},
        attributes={"eval_batch_divisor": 2}),  # half the eval batch, as upstream
)

register_family("librispeech_deepspeech", ROWS, prepare=PREPARE,
                perturbation_space="workloads.librispeech_deepspeech.config:PERTURBATION_SPACE",
                official_data_check="workloads.common.speech.official:check_official")
