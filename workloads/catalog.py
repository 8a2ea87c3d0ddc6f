"""Every workload paceline ships, registered by name (the ``paceline.workloads`` entry point).

Each entry names, per scale and framework, the class to instantiate; nothing is imported
until a workload is used.
"""

from __future__ import annotations

from sdk.registry import WorkloadEntry, workloads

_W = "workloads"


def _classes(family: str, dev: dict[str, str] | None = None,
             official: dict[str, str] | None = None) -> dict[str, dict[str, str]]:
    out = {}
    for scale, by_fw in (("dev", dev), ("official", official)):
        if by_fw:
            out[scale] = {fw: f"{_W}.{family}.{mod}" for fw, mod in by_fw.items()}
    return out


workloads().register(WorkloadEntry(
    name="mnist",
    classes=_classes(
        "mnist",
        dev={"pytorch": "pytorch:MnistPyTorchDev", "jax": "jax:MnistJaxDev"},
        official={"pytorch": "pytorch:MnistPyTorchOfficial", "jax": "jax:MnistJaxOfficial"},
    ),
    scored=False,
    description="AlgoPerf's development workload: MLP on MNIST digits",
    prepare="workloads.mnist.data:prepare",
))
