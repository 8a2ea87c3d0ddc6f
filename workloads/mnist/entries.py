"""Registry entries of the MNIST family."""

from sdk.registry import WorkloadEntry, workloads

workloads().register(WorkloadEntry(
    name="mnist",
    classes={
        "dev": {"pytorch": "workloads.mnist.pytorch:MnistPyTorchDev",
                "jax": "workloads.mnist.jax:MnistJaxDev"},
        "official": {"pytorch": "workloads.mnist.pytorch:MnistPyTorchOfficial",
                     "jax": "workloads.mnist.jax:MnistJaxOfficial"},
    },
    scored=False,
    description="AlgoPerf's development workload: MLP on MNIST digits",
    prepare="workloads.mnist.data:prepare",
))
