"""``imagenet_resnet`` in JAX/Flax (dev scale): the workload class; the
registry rows (``entries.py``) make the classes of the base workload and its official variants.

    paceline run --scale dev --framework jax --workload imagenet_resnet --submission nadamw
"""

from __future__ import annotations

import flax.linen as nn

from sdk import spec
from workloads.common.variants import row_classes
from workloads.common.vision_jax import JaxImageWorkloadMixin
from workloads.imagenet_resnet.entries import ROWS
from workloads.imagenet_resnet.model_jax import ResNet
from workloads.imagenet_resnet.workload import ImagenetResNetWorkload


class ImagenetResNetJaxWorkload(JaxImageWorkloadMixin, ImagenetResNetWorkload):
    """ResNet (bottleneck, BN, v1.5) on Fashion-MNIST; model state = BN ``batch_stats``."""

    _default_dropout_rate = 0.0  # no dropout, as the official model
    # Dev evals run their 1,000-image batches 100 at a time (the CPU caches; same sums).
    dev_eval_forward_rows = 100

    def _build_model(self) -> nn.Module:
        return ResNet(self.model_config)

    def is_output_params(self, param_key: spec.ParameterKey) -> bool:
        return "Dense_0" in str(param_key)


__getattr__ = row_classes(__name__, ROWS, ImagenetResNetJaxWorkload)
