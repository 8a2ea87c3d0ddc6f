"""Registry rows of the ogbg family: the base workload and its official variants."""

from workloads.common.variants import Row, register_family

ROWS = (
    Row("ogbg", "graph network on QM9 molecules, multi-task binary properties (ogbg-molpcba)",
        {"dev": {"pytorch": "OgbgPyTorchDev", "jax": "OgbgJaxDev"}}),
    Row("ogbg_gelu", "ogbg with GELU activations",
        {"dev": {"pytorch": "OgbgGeluPyTorchDev", "jax": "OgbgGeluJaxDev"}}),
    Row("ogbg_silu", "ogbg with SiLU activations",
        {"dev": {"pytorch": "OgbgSiluPyTorchDev", "jax": "OgbgSiluJaxDev"}}),
    Row("ogbg_model_size", "ogbg with half the latent width, two-layer MLPs, fewer steps",
        {"dev": {"pytorch": "OgbgModelSizePyTorchDev", "jax": "OgbgModelSizeJaxDev"}}),
)

register_family("ogbg", ROWS, prepare="workloads.ogbg.data:prepare",
                perturbation_space="workloads.ogbg.config:PERTURBATION_SPACE")
