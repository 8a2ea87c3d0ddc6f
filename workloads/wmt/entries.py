"""Registry rows of the wmt family: the base workload and its official variants."""

from workloads.common.variants import Row, register_family

ROWS = (
    Row("wmt", "encoder-decoder Transformer translating a generated language into English (BLEU)",
        {"dev": {"pytorch": "WmtPyTorchDev", "jax": "WmtJaxDev"},
         "official": {"pytorch": "WmtPyTorchOfficial", "jax": "WmtJaxOfficial"}}),
    Row("wmt_post_ln", "wmt with post-LayerNorm layers",
        {"dev": {"pytorch": "WmtPostLnPyTorchDev", "jax": "WmtPostLnJaxDev"},
         "official": {"pytorch": "WmtPostLnPyTorchOfficial",
                      "jax": "WmtPostLnJaxOfficial"}}),
    Row("wmt_attention_temp", "wmt with attention temperature 4",
        {"dev": {"pytorch": "WmtAttentionTempPyTorchDev", "jax": "WmtAttentionTempJaxDev"},
         "official": {"pytorch": "WmtAttentionTempPyTorchOfficial",
                      "jax": "WmtAttentionTempJaxOfficial"}}),
    Row("wmt_glu_tanh", "wmt with tanh-GLU feed-forward blocks",
        {"dev": {"pytorch": "WmtGluTanhPyTorchDev", "jax": "WmtGluTanhJaxDev"},
         "official": {"pytorch": "WmtGluTanhPyTorchOfficial",
                      "jax": "WmtGluTanhJaxOfficial"}}),
)

register_family("wmt", ROWS, prepare="workloads.wmt.data:prepare",
                perturbation_space="workloads.wmt.config:PERTURBATION_SPACE",
                official_data_check="workloads.wmt.official_data:check")
