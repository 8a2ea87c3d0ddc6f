"""Registry rows of the criteo1tb family: the base workload and its official variants, at dev
scale (generated click log) and official scale (AlgoPerf's Criteo 1TB day files)."""

from workloads.common.variants import Row, register_family

ROWS = (
    Row("criteo1tb",
        "DLRM-small click-through prediction on a generated Criteo-style click log",
        {"dev": {"pytorch": "Criteo1TbPyTorchDev", "jax": "Criteo1TbJaxDev"},
         "official": {"pytorch": "Criteo1TbPyTorchOfficial", "jax": "Criteo1TbJaxOfficial"}}),
    Row("criteo1tb_layernorm",
        "criteo1tb with LayerNorm after every MLP activation and on embeddings",
        {"dev": {"pytorch": "Criteo1TbLayerNormPyTorchDev", "jax": "Criteo1TbLayerNormJaxDev"},
         "official": {"pytorch": "Criteo1TbLayerNormPyTorchOfficial",
                      "jax": "Criteo1TbLayerNormJaxOfficial"}}),
    Row("criteo1tb_resnet", "criteo1tb with residual MLPs and no dot interaction (DLRMResNet)",
        {"dev": {"pytorch": "Criteo1TbResNetPyTorchDev", "jax": "Criteo1TbResNetJaxDev"},
         "official": {"pytorch": "Criteo1TbResNetPyTorchOfficial",
                      "jax": "Criteo1TbResNetJaxOfficial"}}),
    Row("criteo1tb_embed_init", "criteo1tb with the embedding table initialised U[0, 1)",
        {"dev": {"pytorch": "Criteo1TbEmbedInitPyTorchDev", "jax": "Criteo1TbEmbedInitJaxDev"},
         "official": {"pytorch": "Criteo1TbEmbedInitPyTorchOfficial",
                      "jax": "Criteo1TbEmbedInitJaxOfficial"}}),
)

register_family("criteo1tb", ROWS, prepare="workloads.criteo1tb.data:prepare",
                perturbation_space="workloads.criteo1tb.config:PERTURBATION_SPACE",
                official_data_check="workloads.criteo1tb.official_data:check")
