"""Several PyTorch processes, one trial: data parallelism through ``torchrun`` (DDP).

    torchrun --standalone --nnodes=1 --nproc_per_node=2 -m sdk.cli.main run \\
        --workload mnist --framework pytorch --submission nadamw --max-global-steps 10

torchrun starts one process per device and sets ``LOCAL_RANK``, ``RANK`` and ``WORLD_SIZE``;
that is how AlgoPerf's ``pytorch_setup()`` tells a DDP run (AlgoPerf
``algoperf/pytorch_utils.py``), so a submission's DDP code paths run under paceline too.
Each process runs the same trial: rank ``r`` trains on rows ``r * b : (r + 1) * b`` of
every global batch (``b`` = global batch / processes, AlgoPerf's split in
``algoperf/workloads/mnist/mnist_pytorch/workload.py``), evaluations add up every rank's
share of each eval batch, and only rank 0 writes the trial's logs, status and checkpoints
(AlgoPerf ``submission_runner.py``). Every clock reading is the latest over the ranks
(AlgoPerf's ``sync_ddp_time``), so all ranks agree when an eval is due and when the budget
is spent. JAX runs stay one process and use every local device instead
(``workloads/common/jax_base.py``).

Nothing here imports torch until a DDP run needs it.
"""

from __future__ import annotations

import atexit
import os
from typing import Any

from sdk.errors import PacelineError


def ddp_active() -> bool:
    """Whether this process is one rank of a ``torchrun`` launch (``LOCAL_RANK`` is set)."""
    return "LOCAL_RANK" in os.environ


def rank() -> int:
    """This process's global rank (0 outside DDP)."""
    return int(os.environ.get("RANK", os.environ.get("LOCAL_RANK", "0"))) if ddp_active() else 0


def world_size() -> int:
    """How many processes share the trial (1 outside DDP)."""
    return int(os.environ.get("WORLD_SIZE", "1")) if ddp_active() else 1


def is_rank0() -> bool:
    """Whether this process writes the trial's logs (always, outside DDP)."""
    return rank() == 0


def init_process_group() -> None:
    """Join the DDP process group once: NCCL on GPUs, gloo on the CPU.

    On GPUs each process uses the GPU of its ``LOCAL_RANK``, as AlgoPerf's
    ``pytorch_init``. The group is left when the process exits.
    """
    import torch
    import torch.distributed as dist

    if dist.is_initialized():
        return
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
        dist.init_process_group("nccl")
    else:
        dist.init_process_group("gloo")
    atexit.register(_leave_group)


def _leave_group() -> None:
    import torch.distributed as dist

    if dist.is_initialized():
        dist.destroy_process_group()


def check_framework(framework: str) -> None:
    """Refuse a JAX run launched by torchrun (JAX uses every local device in one process)."""
    if ddp_active() and framework != "pytorch":
        raise PacelineError(f"torchrun launches PyTorch runs only; a {framework} run uses every "
                            "local device from one process: run `paceline run` without torchrun.")


def check_batch_split(global_batch_size: int) -> None:
    """Refuse a global batch that does not split evenly over the ranks."""
    world = world_size()
    if global_batch_size % world:
        raise PacelineError(f"The global batch of {global_batch_size} does not split evenly over "
                            f"{world} DDP processes; choose a batch size divisible by {world}.")


def rank_rows(batch: dict[str, Any]) -> dict[str, Any]:
    """This rank's contiguous share of every array of a global batch (the whole batch
    outside DDP). Rows split as evenly as they can (an eval split's last batch may not
    divide). A batch whose arrays differ in length (a graph batch: nodes, edges, graphs) is
    not split: every rank runs it whole, which gives the same mean loss and gradient."""
    world = world_size()
    if world == 1 or len({len(v) for v in batch.values()}) > 1:
        return batch
    r = rank()
    out = {}
    for key, value in batch.items():
        n = len(value)
        start, stop = (n * r) // world, (n * (r + 1)) // world
        out[key] = value[start:stop]
    return out


def sum_over_ranks(totals: dict[str, float]) -> dict[str, float]:
    """``totals`` added up over every rank (unchanged outside DDP); every rank must pass
    the same keys."""
    if world_size() == 1 or not totals:
        return totals
    import torch
    import torch.distributed as dist

    keys = sorted(totals)
    device = _collective_device()
    values = torch.tensor([float(totals[k]) for k in keys], dtype=torch.float64, device=device)
    dist.all_reduce(values)
    return dict(zip(keys, values.tolist(), strict=True))


def _collective_device() -> Any:
    import torch

    if torch.cuda.is_available():
        return torch.device(f"cuda:{int(os.environ['LOCAL_RANK'])}")
    return torch.device("cpu")


class SyncedClock:
    """A trial clock whose every reading is the latest over all ranks (AlgoPerf's
    ``sync_ddp_time``); every other attribute is the wrapped clock's."""

    def __init__(self, clock: Any) -> None:
        self.inner = clock

    def __call__(self) -> float:
        import torch
        import torch.distributed as dist

        t = torch.tensor(float(self.inner()), dtype=torch.float64, device=_collective_device())
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return float(t.item())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class SilentLogger:
    """What a rank other than 0 logs through: the trial logger's methods, writing nothing.

    Ranks run the same loop (the same clock readings, in the same order); only rank 0 keeps
    the records.
    """

    def __init__(self) -> None:
        self.preemption_count = 0
        self.eval_rows: list[dict[str, Any]] = []
        self.all_rows: list[dict[str, Any]] = []

    def append_scalar_metrics(self, *args: Any, **kwargs: Any) -> None:
        del args, kwargs

    def write_json(self, *args: Any, **kwargs: Any) -> None:
        del args, kwargs

    def write_final_score(self, *args: Any, **kwargs: Any) -> None:
        del args, kwargs

    def restore(self, eval_rows: list[dict[str, Any]], all_rows: list[dict[str, Any]]) -> None:
        del eval_rows, all_rows

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


__all__ = [
    "SilentLogger",
    "SyncedClock",
    "check_batch_split",
    "check_framework",
    "ddp_active",
    "init_process_group",
    "is_rank0",
    "rank",
    "rank_rows",
    "sum_over_ranks",
    "world_size",
]
