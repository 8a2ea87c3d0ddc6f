"""PyTorch helpers with the names AlgoPerf's ``algoperf.pytorch_utils`` gives submissions.

    >>> from sdk.frameworks.pytorch_utils import pytorch_setup
    >>> use_ddp, rank, device, n_gpus = pytorch_setup()  # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


def pytorch_setup() -> tuple[bool, int, torch.device, int]:
    """``(use_ddp, rank, device, n_gpus)``; DDP is on when ``LOCAL_RANK`` is set."""
    use_ddp = "LOCAL_RANK" in os.environ
    rank = int(os.environ["LOCAL_RANK"]) if use_ddp else 0
    device = torch.device(f"cuda:{rank}" if torch.cuda.is_available() else "cpu")
    return use_ddp, rank, device, torch.cuda.device_count()


def pytorch_init(use_pytorch_ddp: bool, rank: int, profiler: Any = None) -> None:
    """Per-process setup: cuDNN autotuning and, under DDP, the process group (NCCL on the
    GPU of ``LOCAL_RANK``, gloo on the CPU; joined once, see :mod:`sdk.distributed`)."""
    del profiler, rank
    torch.backends.cudnn.benchmark = True
    if use_pytorch_ddp:
        from sdk.distributed import init_process_group

        init_process_group()


def sync_ddp_time(time: float, device: torch.device) -> float:
    """The maximum of ``time`` over all DDP ranks."""
    import torch.distributed as dist

    t = torch.tensor(time, dtype=torch.float64, device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return float(t.item())


def update_batch_norm_fn(module: nn.Module, update_batch_norm: bool) -> None:
    """Freeze (momentum 0) or restore the running statistics of a batch-norm layer."""
    is_bn = isinstance(module, nn.modules.batchnorm._BatchNorm) or getattr(
        module, "is_paceline_batch_norm", False
    )
    if not is_bn:
        return
    if not update_batch_norm:
        if not hasattr(module, "momentum_backup"):
            module.momentum_backup = module.momentum
        backup = module.momentum_backup
        module.momentum = torch.zeros_like(backup) if torch.is_tensor(backup) else 0.0
    elif hasattr(module, "momentum_backup"):
        module.momentum = module.momentum_backup


class CustomDropout(nn.Module):
    """Dropout whose rate is given at call time (``forward(x, dropout_rate)``)."""

    def forward(self, x: torch.Tensor, dropout_rate: float) -> torch.Tensor:
        return F.dropout(x, dropout_rate, training=self.training)


class CustomDropout2d(nn.Module):
    """Channel dropout whose rate is given at call time."""

    def forward(self, x: torch.Tensor, dropout_rate: float) -> torch.Tensor:
        return F.dropout2d(x, dropout_rate, training=self.training)


class SequentialWithDropout(nn.Sequential):
    """``nn.Sequential`` that forwards ``dropout_rate`` to its dropout layers."""

    def forward(self, x: torch.Tensor, dropout_rate: float) -> torch.Tensor:  # type: ignore[override]
        for module in self:
            if isinstance(module, CustomDropout | CustomDropout2d):
                x = module(x, dropout_rate)
            else:
                x = module(x)
        return x
