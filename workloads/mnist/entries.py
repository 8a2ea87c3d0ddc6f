"""Registry row of the MNIST family (AlgoPerf's development workload, not scored)."""

from workloads.common.variants import Row, register_family

ROWS = (
    Row("mnist", "AlgoPerf's development workload: MLP on MNIST digits",
        {"dev": {"pytorch": "MnistPyTorchDev", "jax": "MnistJaxDev"},
         "official": {"pytorch": "MnistPyTorchOfficial", "jax": "MnistJaxOfficial"}}),
)

register_family("mnist", ROWS, prepare="workloads.mnist.data:prepare", scored=False,
                official_data_check="workloads.mnist.data:check_official")
