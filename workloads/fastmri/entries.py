"""Registry rows of the fastmri family: the base workload and its official variants."""

from workloads.common.variants import Row, register_family

ROWS = (
    Row("fastmri", "U-Net reconstruction of 4x-undersampled single-coil MRI (brain templates)",
        {"dev": {"pytorch": "FastMriPyTorchDev", "jax": "FastMriJaxDev"},
         "official": {"pytorch": "FastMriPyTorchOfficial",
                      "jax": "FastMriJaxOfficial"}}),
    Row("fastmri_model_size", "fastmri with twice the channels and one pooling level fewer",
        {"dev": {"pytorch": "FastMriModelSizePyTorchDev", "jax": "FastMriModelSizeJaxDev"},
         "official": {"pytorch": "FastMriModelSizePyTorchOfficial",
                      "jax": "FastMriModelSizeJaxOfficial"}}),
    Row("fastmri_tanh", "fastmri with tanh instead of leaky-ReLU activations",
        {"dev": {"pytorch": "FastMriTanhPyTorchDev", "jax": "FastMriTanhJaxDev"},
         "official": {"pytorch": "FastMriTanhPyTorchOfficial",
                      "jax": "FastMriTanhJaxOfficial"}}),
    Row("fastmri_layernorm",
        "fastmri with layer norm instead of instance norm in the conv blocks",
        {"dev": {"pytorch": "FastMriLayerNormPyTorchDev", "jax": "FastMriLayerNormJaxDev"},
         "official": {"pytorch": "FastMriLayerNormPyTorchOfficial",
                      "jax": "FastMriLayerNormJaxOfficial"}}),
)

register_family("fastmri", ROWS, prepare="workloads.fastmri.data:prepare",
                perturbation_space="workloads.fastmri.config:PERTURBATION_SPACE",
                official_data_check="workloads.fastmri.official_data:check")
