"""What the runner needs from a framework: setup, device sync, seeding, checkpoints.

``get_adapter("pytorch")`` or ``get_adapter("jax")``; each imports its framework on first use.
Checkpoints follow AlgoPerf's content (``algoperf/checkpoint_utils.py``): parameters, optimizer state
(PyTorch: the ``state_dict()`` of every value that has one; JAX: element 0 of a
``(state, update_fn)`` tuple, or the whole tree), model state, and the runner's bookkeeping.
They hold tensors and plain data only and are read without unpickling objects
(:mod:`sdk.frameworks.checkpoints`); each adapter names its file in ``checkpoint_name``.

:class:`FrameworkAdapter` declares the whole of it; the runner asks the adapter and never
branches on the framework's name.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Literal, Protocol

import numpy as np

from sdk.frameworks import checkpoints as ckpt

# When the runner waits for the device: "step" = after every step (CUDA, as AlgoPerf does),
# "eval" = only before an eval and at the end, the wait counted as step time (JAX's
# asynchronous dispatch), "none" = never (a CPU that runs eagerly, nothing queues).
SyncPolicy = Literal["step", "eval", "none"]


class FrameworkAdapter(Protocol):
    """Everything the runner asks of a framework; both adapters implement all of it."""

    name: str
    checkpoint_name: str  # the checkpoint's file name in the trial directory
    sync_policy: SyncPolicy

    def setup(self, threads: int | None) -> None:
        """Apply the thread count and device settings before the trial starts."""

    def sync(self, params: Any = None) -> None:
        """Wait until the device has finished the work queued for ``params``."""

    def seed(self, key: Any) -> None:
        """Seed the framework's global RNG from the model-init key (where it has one)."""

    def compile(self, params: Any) -> Any:
        """``params`` compiled for ``--torch-compile`` (unchanged where that means nothing)."""

    def params_are_finite(self, params: Any) -> bool:
        """Whether every parameter is finite."""

    def save(self, path: Path, params: Any, model_state: Any, optimizer_state: Any,
             extra: dict[str, Any]) -> None:
        """Write a checkpoint of the trial's state and the runner's bookkeeping ``extra``."""

    def load(self, path: Path) -> dict[str, Any]:
        """Read a checkpoint written by :meth:`save` (a bad file is one sentence)."""

    def restore(self, payload: dict[str, Any], params: Any, model_state: Any,
                optimizer_state: Any) -> tuple[Any, Any, Any]:
        """``(params, model_state, optimizer_state)`` with a loaded checkpoint put back."""


def _plain_or_skip(key: str, value: Any, array: Any) -> tuple[bool, Any]:
    """``(True, plain value)``, or ``(False, None)`` with a warning when ``value`` of
    ``optimizer_state[key]`` holds an object a checkpoint cannot store."""
    try:
        return True, ckpt.plain(value, array, where=f"optimizer_state[{key!r}]")
    except ckpt.NotPlain as exc:
        warnings.warn(f"optimizer_state[{key!r}] cannot be checkpointed ({exc}); it is "
                      "rebuilt by init_optimizer_state on resume.", stacklevel=3)
        return False, None


class PyTorchAdapter:
    """:class:`FrameworkAdapter` for PyTorch (CUDA when available, else the CPU)."""

    name = "pytorch"
    checkpoint_name = "checkpoint.pt"

    def __init__(self) -> None:
        import torch

        self.torch = torch
        self.cuda = torch.cuda.is_available()
        # CUDA queues kernels: wait after every step; the CPU runs eagerly: never wait
        self.sync_policy: SyncPolicy = "step" if self.cuda else "none"

    def setup(self, threads: int | None) -> None:
        """Threads, cuDNN autotuning and, under ``torchrun``, the DDP process group."""
        if threads:
            self.torch.set_num_threads(threads)
        if self.cuda:
            self.torch.backends.cudnn.benchmark = True
        from sdk import distributed

        if distributed.ddp_active():
            distributed.init_process_group()

    def sync(self, params: Any = None) -> None:
        if self.cuda:
            self.torch.cuda.synchronize()

    def seed(self, key: Any) -> None:
        seed = int(np.asarray(key).reshape(-1)[0])
        self.torch.manual_seed(seed)

    def compile(self, params: Any) -> Any:
        return self.torch.compile(params)

    def params_are_finite(self, params: Any) -> bool:
        torch = self.torch
        with torch.no_grad():
            return all(bool(torch.isfinite(p).all()) for p in params.parameters())

    def _tensor(self, value: Any) -> Any:
        """The stored form of an array-like (a tensor; numpy arrays become tensors)."""
        if isinstance(value, self.torch.Tensor):
            return value.detach()
        if isinstance(value, np.ndarray) and value.dtype.kind in "biufc":
            return {ckpt.NDARRAY_KEY: self.torch.from_numpy(np.array(value))}  # back as numpy
        return None

    def save(self, path: Path, params: Any, model_state: Any, optimizer_state: Any,
             extra: dict[str, Any]) -> None:
        """Write ``checkpoint.pt``: tensors and plain data, readable with weights_only."""
        opt: dict[str, Any] = {}
        if isinstance(optimizer_state, dict):
            for key, value in optimizer_state.items():
                state = value.state_dict() if hasattr(value, "state_dict") else value
                ok, stored = _plain_or_skip(str(key), state, self._tensor)
                if ok:
                    opt[key] = stored
        payload = {
            "model_params": _unwrap(params).state_dict(),
            "model_state": ckpt.plain(model_state, self._tensor, where="model_state"),
            "optimizer_state": opt,
            "torch_rng": self.torch.get_rng_state(),
            "cuda_rng": self.torch.cuda.get_rng_state_all() if self.cuda else None,
            **ckpt.host_rng_state(),
            **ckpt.plain(extra, self._tensor, where="checkpoint", other=str),  # log rows
        }
        ckpt.write_torch(path, payload)

    def load(self, path: Path) -> dict[str, Any]:
        """Read ``path`` with ``weights_only=True``; a bad file is one sentence naming it."""
        self.loaded_from = Path(path)
        return ckpt.read_torch(Path(path), ("model_params", "optimizer_state", "torch_rng"))

    def restore(self, payload: dict[str, Any], params: Any, model_state: Any,
                optimizer_state: Any) -> tuple[Any, Any, Any]:
        """Put a loaded checkpoint's state into the trial's model, optimizer and RNGs."""
        try:
            _unwrap(params).load_state_dict(payload["model_params"])
            if isinstance(optimizer_state, dict):
                for key, value in payload["optimizer_state"].items():
                    current = optimizer_state.get(key)
                    if current is not None and hasattr(current, "load_state_dict"):
                        current.load_state_dict(value)
                    else:
                        optimizer_state[key] = value
            self.torch.set_rng_state(payload["torch_rng"])
            if self.cuda and payload.get("cuda_rng") is not None:
                self.torch.cuda.set_rng_state_all(payload["cuda_rng"])
            ckpt.restore_host_rng(payload)
        except (RuntimeError, ValueError, TypeError, KeyError, AttributeError) as exc:
            raise ckpt.does_not_fit(getattr(self, "loaded_from", None), exc) from exc
        return params, payload.get("model_state", model_state), optimizer_state


class JaxAdapter:
    """:class:`FrameworkAdapter` for JAX."""

    name = "jax"
    checkpoint_name = "checkpoint.msgpack"
    # JAX dispatches asynchronously, and AlgoPerf's loop does not block on it every step: the
    # runner waits for the queued steps only before an eval (or the end) and times that wait.
    sync_policy: SyncPolicy = "eval"

    def __init__(self) -> None:
        import jax

        self.jax = jax

    def setup(self, threads: int | None) -> None:
        del threads  # XLA's CPU thread pool is set through XLA_FLAGS before jax starts

    def sync(self, params: Any = None) -> None:
        if params is not None:
            self.jax.block_until_ready(params)

    def seed(self, key: Any) -> None:
        del key  # JAX randomness is explicit

    def compile(self, params: Any) -> Any:
        return params  # --torch-compile is PyTorch's; XLA compiles JAX code anyway

    def params_are_finite(self, params: Any) -> bool:
        leaves = self.jax.tree_util.tree_leaves(params)
        return all(bool(np.isfinite(np.asarray(x)).all()) for x in leaves)

    def _opt_tree(self, optimizer_state: Any) -> Any:
        if isinstance(optimizer_state, tuple) and len(optimizer_state) == 2 and callable(
            optimizer_state[1]
        ):
            return optimizer_state[0]
        return optimizer_state

    def _array(self, value: Any) -> Any:
        """The stored form of an array-like (a numpy array, fetched from the device)."""
        if isinstance(value, np.ndarray) or isinstance(value, self.jax.Array):
            return np.asarray(self.jax.device_get(value))
        return None

    def _leaves(self, tree: Any, where: str) -> list[Any]:
        """The leaves of a pytree, each as plain data (arrays as numpy arrays).

        A leaf that is no plain data (an object) is stored as None, with a warning, and
        keeps its freshly initialised value on resume.
        """
        out = []
        for i, x in enumerate(self.jax.tree_util.tree_leaves(tree)):
            try:
                out.append(ckpt.plain(np.asarray(x) if isinstance(x, np.generic) else x,
                                      self._array, keys=(str,), where=f"{where}[{i}]"))
            except ckpt.NotPlain as exc:
                warnings.warn(f"{exc}: it cannot be checkpointed and keeps its initial value "
                              "on resume.", stacklevel=3)
                out.append(None)
        return out

    def save(self, path: Path, params: Any, model_state: Any, optimizer_state: Any,
             extra: dict[str, Any]) -> None:
        """Write ``checkpoint.msgpack``: the leaves of each pytree, plain data, no pickle.

        Trees are stored as their leaves in JAX's flattening order; ``restore`` puts them
        back into the structure of the trial's freshly initialised trees.
        """
        payload = {
            "model_params_leaves": self._leaves(params, "model_params"),
            "model_state_leaves": self._leaves(model_state, "model_state"),
            "optimizer_state_leaves": self._leaves(self._opt_tree(optimizer_state),
                                                   "optimizer_state"),
            **ckpt.host_rng_state(),
            **ckpt.plain(extra, self._array, keys=(str,), where="checkpoint", other=str),
        }
        ckpt.write_msgpack(path, payload)

    def load(self, path: Path) -> dict[str, Any]:
        """Read ``path`` (MessagePack, numeric arrays only); a bad file is one sentence."""
        self.loaded_from = Path(path)
        return ckpt.read_msgpack(Path(path), ("model_params_leaves", "model_state_leaves",
                                              "optimizer_state_leaves"))

    def _put_leaves(self, saved: Any, like: Any, what: str) -> Any:
        """``like``'s tree with the saved leaves, each placed as its counterpart is."""
        jax = self.jax
        leaves, treedef = jax.tree_util.tree_flatten(like)
        if not isinstance(saved, list) or len(saved) != len(leaves):
            raise ValueError(f"its {what} has {len(saved) if isinstance(saved, list) else 0} "
                             f"arrays where the trial has {len(leaves)}")
        restored = []
        for s, x in zip(saved, leaves, strict=True):
            if s is None:  # a leaf that could not be stored keeps its initial value
                restored.append(x)
                continue
            if hasattr(x, "dtype") and isinstance(s, np.ndarray):
                s = s.astype(x.dtype, copy=False)
            restored.append(jax.device_put(s, x.sharding) if hasattr(x, "sharding") else s)
        return jax.tree_util.tree_unflatten(treedef, restored)

    def restore(self, payload: dict[str, Any], params: Any, model_state: Any,
                optimizer_state: Any) -> tuple[Any, Any, Any]:
        """Put a loaded checkpoint's leaves into the trial's trees and restore the RNGs."""
        try:
            tree = self._opt_tree(optimizer_state)
            new_tree = self._put_leaves(payload["optimizer_state_leaves"], tree,
                                        "optimizer state")
            if tree is not optimizer_state:
                optimizer_state = (new_tree, optimizer_state[1])
            else:
                optimizer_state = new_tree
            params = self._put_leaves(payload["model_params_leaves"], params, "parameters")
            model_state = self._put_leaves(payload["model_state_leaves"], model_state,
                                           "model state")
            ckpt.restore_host_rng(payload)
        except (ValueError, TypeError, KeyError) as exc:
            raise ckpt.does_not_fit(getattr(self, "loaded_from", None), exc) from exc
        return params, model_state, optimizer_state


def _unwrap(module: Any) -> Any:
    return getattr(module, "module", module) if hasattr(module, "module") else module


def get_adapter(framework: str) -> FrameworkAdapter:
    """The adapter for ``framework`` ("pytorch" or "jax")."""
    if framework == "pytorch":
        return PyTorchAdapter()
    if framework == "jax":
        return JaxAdapter()
    raise ValueError(f"Unknown framework {framework!r}; choose pytorch or jax.")
