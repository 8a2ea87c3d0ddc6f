"""Registry row of the finewebedu_lm family (AlgoPerf's ninth base workload; rules a100-2026)."""

from workloads.common.variants import Row, register_family

ROWS = (
    Row("finewebedu_lm", "decoder-only Transformer language model on educational English "
        "(validation perplexity)",
        {"dev": {"pytorch": "FinewebeduLmPyTorchDev", "jax": "FinewebeduLmJaxDev"},
         "official": {"pytorch": "FinewebeduLmPyTorchOfficial",
                      "jax": "FinewebeduLmJaxOfficial"}}),
)

register_family("finewebedu_lm", ROWS, prepare="workloads.finewebedu_lm.data:prepare",
                perturbation_space="workloads.finewebedu_lm.config:PERTURBATION_SPACE",
                official_data_check="workloads.finewebedu_lm.official_data:check")
