"""Registry rows of the ogbg family: the base workload and its official variants, at dev scale
(QM9 molecules) and official scale (TFDS ogbg_molpcba, AlgoPerf's exact models)."""

from workloads.common.variants import Row, register_family

ROWS = (
    Row("ogbg", "graph network on QM9 molecules, multi-task binary properties (ogbg-molpcba)",
        {"dev": {"pytorch": "OgbgPyTorchDev", "jax": "OgbgJaxDev"},
         "official": {"pytorch": "OgbgPyTorchOfficial", "jax": "OgbgJaxOfficial"}}),
    Row("ogbg_gelu", "ogbg with GELU activations",
        {"dev": {"pytorch": "OgbgGeluPyTorchDev", "jax": "OgbgGeluJaxDev"},
         "official": {"pytorch": "OgbgGeluPyTorchOfficial", "jax": "OgbgGeluJaxOfficial"}}),
    Row("ogbg_silu", "ogbg with SiLU activations",
        {"dev": {"pytorch": "OgbgSiluPyTorchDev", "jax": "OgbgSiluJaxDev"},
         "official": {"pytorch": "OgbgSiluPyTorchOfficial", "jax": "OgbgSiluJaxOfficial"}}),
    Row("ogbg_model_size", "ogbg with half the latent width, two-layer MLPs, fewer steps",
        {"dev": {"pytorch": "OgbgModelSizePyTorchDev", "jax": "OgbgModelSizeJaxDev"},
         "official": {"pytorch": "OgbgModelSizePyTorchOfficial", "jax": "OgbgModelSizeJaxOfficial"}}),
)

register_family("ogbg", ROWS, prepare="workloads.ogbg.data:prepare",
                perturbation_space="workloads.ogbg.config:PERTURBATION_SPACE",
                official_data_check="workloads.ogbg.official_data:check")
