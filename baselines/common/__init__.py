"""What every baseline shares: the declaration, one training step per framework, the schedules.

=====================  ====================================================================
``baseline``           :class:`Baseline` (optimizer per framework, schedule, search space,
                       self-tuning point, declared once), batch sizes, ``hyper``
``submission``         makes ``<package>.<framework>_<ruleset>`` AlgoPerf modules from it
``pytorch_step``       the PyTorch training step, optimizer state and evaluation point
``jax_step``           the JAX training step (jitted), optimizer state and evaluation point
``schedules``          warmup + cosine, warmup + linear decay (Python steps and JAX counts)
``pytorch_optimizers`` NAdamW for PyTorch; ``build_<name>`` of each shipped optimizer
``jax_optimizers``     NAdamW and L2-decayed (Nesterov) momentum SGD for optax; the same
                       ``build_<name>`` (a declaration's ``builders="<name>"``)
=====================  ====================================================================

A new baseline is one module holding ``BASELINE = Baseline(...)`` plus its search space
(``docs/baselines.md``, "Adding a baseline"):

    paceline run --workload mnist --submission nadamw --ruleset self
"""

from baselines.common.baseline import Baseline, get_batch_size, hyper
from baselines.common.submission import install

install()

__all__ = ["Baseline", "get_batch_size", "hyper"]
