"""``imagenet_resnet`` in PyTorch (dev scale): the workload class; the
registry rows (``entries.py``) make the classes of the base workload and its official variants.

    paceline run --scale dev --workload imagenet_resnet --submission nadamw
    paceline run --scale dev --workload imagenet_resnet_silu --submission nadamw
"""

from __future__ import annotations

from torch import nn

from sdk import spec
from workloads.common.variants import row_classes
from workloads.common.vision_torch_workload import TorchImageWorkloadMixin
from workloads.imagenet_resnet.entries import ROWS
from workloads.imagenet_resnet.model_pytorch import ResNet
from workloads.imagenet_resnet.workload import ImagenetResNetWorkload


class ImagenetResNetPyTorchWorkload(TorchImageWorkloadMixin, ImagenetResNetWorkload):
    """ResNet (bottleneck, BN, v1.5) on Fashion-MNIST; no dropout, as the official model."""

    _default_dropout_rate = 0.0  # no dropout, as the official model
    channels_last = True
    # Dev evals run their 1,000-image batches 250 at a time (the CPU caches; same sums).
    dev_eval_forward_rows = 250

    def _build_model(self) -> nn.Module:
        return ResNet(self.model_config)

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return param_key in ("fc.weight", "fc.bias")


__getattr__ = row_classes(__name__, ROWS, ImagenetResNetPyTorchWorkload)
