"""Registry rows of the Conformer family (base workload and official variants)."""

from workloads.common.variants import Row, register_family

# Both speech families share one dev data set (cached as "librispeech_conformer"), so every
# speech workload names the same preparation function and `paceline data` builds it once.
PREPARE = "workloads.librispeech_conformer.data:prepare"

ROWS = (
    Row("librispeech_conformer", "Conformer CTC on espeak-ng speech (LibriSpeech at dev scale)",
        {"dev": {"pytorch": "LibrispeechConformerPyTorchDev", "jax": "LibrispeechConformerJaxDev"},
         "official": {"pytorch": "LibrispeechConformerPyTorchOfficial",
                      "jax": "LibrispeechConformerJaxOfficial"}}),
    Row("librispeech_conformer_attention_temperature",
        "Conformer variant: attention temperature 1.6",
        {"dev": {"pytorch": "AttentionTemperaturePyTorchDev",
                 "jax": "AttentionTemperatureJaxDev"},
         "official": {"pytorch": "AttentionTemperaturePyTorchOfficial",
                      "jax": "AttentionTemperatureJaxOfficial"}}),
    Row("librispeech_conformer_layernorm", "Conformer variant: no post-LayerNorm in each block",
        {"dev": {"pytorch": "LayerNormPyTorchDev", "jax": "LayerNormJaxDev"},
         "official": {"pytorch": "LayerNormPyTorchOfficial", "jax": "LayerNormJaxOfficial"}}),
    Row("librispeech_conformer_gelu", "Conformer variant: GELU for swish",
        {"dev": {"pytorch": "GeluPyTorchDev", "jax": "GeluJaxDev"},
         "official": {"pytorch": "GeluPyTorchOfficial", "jax": "GeluJaxOfficial"}}),
)

register_family("librispeech_conformer", ROWS, prepare=PREPARE,
                perturbation_space="workloads.librispeech_conformer.config:PERTURBATION_SPACE",
                official_data_check="workloads.common.speech.official:check_official")
