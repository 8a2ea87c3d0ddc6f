"""What the runner needs from a framework: setup, device sync, seeding, checkpoints.

``get_adapter("pytorch")`` or ``get_adapter("jax")``; each imports its framework on first use.
Checkpoints follow AlgoPerf's content (``algoperf-spec.md`` §3.8): parameters, optimizer state
(PyTorch: the ``state_dict()`` of every value that has one; JAX: element 0 of a
``(state, update_fn)`` tuple, or the whole tree), model state, and the runner's bookkeeping.
"""

from __future__ import annotations

import os
import pickle
import random
import warnings
from pathlib import Path
from typing import Any

import numpy as np


def _atomic_dump(obj: Any, path: Path, dump) -> None:  # noqa: ANN001
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        dump(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class PyTorchAdapter:
    name = "pytorch"

    def __init__(self) -> None:
        import torch

        self.torch = torch
        self.cuda = torch.cuda.is_available()
        # When the runner calls sync(): "step" = after every step (CUDA: wait for the queued
        # kernels, as AlgoPerf does); "none" = never (the CPU runs eagerly, nothing queues).
        self.sync_policy = "step" if self.cuda else "none"

    def setup(self, threads: int | None) -> None:
        if threads:
            self.torch.set_num_threads(threads)
        if self.cuda:
            self.torch.backends.cudnn.benchmark = True

    def sync(self, params: Any = None) -> None:
        if self.cuda:
            self.torch.cuda.synchronize()

    def seed(self, key: Any) -> None:
        seed = int(np.asarray(key).reshape(-1)[0])
        self.torch.manual_seed(seed)

    def params_are_finite(self, params: Any) -> bool:
        torch = self.torch
        with torch.no_grad():
            return all(bool(torch.isfinite(p).all()) for p in params.parameters())

    def save(self, path: Path, params: Any, model_state: Any, optimizer_state: Any,
             extra: dict[str, Any]) -> None:
        opt: dict[str, Any] = {}
        if isinstance(optimizer_state, dict):
            for key, value in optimizer_state.items():
                if hasattr(value, "state_dict"):
                    opt[key] = value.state_dict()
                else:
                    try:
                        pickle.dumps(value)
                        opt[key] = value
                    except Exception:  # noqa: BLE001
                        warnings.warn(f"optimizer_state[{key!r}] cannot be checkpointed; "
                                      "it is rebuilt by init_optimizer_state on resume.",
                                      stacklevel=2)
        payload = {
            "model_params": _unwrap(params).state_dict(),
            "model_state": model_state,
            "optimizer_state": opt,
            "torch_rng": self.torch.get_rng_state(),
            "cuda_rng": self.torch.cuda.get_rng_state_all() if self.cuda else None,
            **_host_rng_state(),
            **extra,
        }
        _atomic_dump(payload, path, self.torch.save)

    def load(self, path: Path) -> dict[str, Any]:
        return self.torch.load(path, map_location="cpu", weights_only=False)

    def restore(self, payload: dict[str, Any], params: Any, model_state: Any,
                optimizer_state: Any) -> tuple[Any, Any, Any]:
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
        _restore_host_rng(payload)
        return params, payload.get("model_state", model_state), optimizer_state


class JaxAdapter:
    name = "jax"
    # JAX dispatches asynchronously, and AlgoPerf's loop does not block on it every step: the
    # runner waits for the queued steps only before an eval (or the end) and times that wait.
    sync_policy = "eval"

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

    def params_are_finite(self, params: Any) -> bool:
        leaves = self.jax.tree_util.tree_leaves(params)
        return all(bool(np.isfinite(np.asarray(x)).all()) for x in leaves)

    def _opt_tree(self, optimizer_state: Any) -> Any:
        if isinstance(optimizer_state, tuple) and len(optimizer_state) == 2 and callable(
            optimizer_state[1]
        ):
            return optimizer_state[0]
        return optimizer_state

    def save(self, path: Path, params: Any, model_state: Any, optimizer_state: Any,
             extra: dict[str, Any]) -> None:
        get = self.jax.device_get
        opt_leaves = [
            np.asarray(get(x)) if hasattr(x, "shape") else x
            for x in self.jax.tree_util.tree_leaves(self._opt_tree(optimizer_state))
        ]
        payload = {
            "model_params": get(params),
            "model_state": get(model_state),
            "optimizer_state_leaves": opt_leaves,
            **_host_rng_state(),
            **extra,
        }
        _atomic_dump(payload, path, pickle.dump)

    def load(self, path: Path) -> dict[str, Any]:
        with open(path, "rb") as f:
            return pickle.load(f)

    def restore(self, payload: dict[str, Any], params: Any, model_state: Any,
                optimizer_state: Any) -> tuple[Any, Any, Any]:
        jax = self.jax
        tree = self._opt_tree(optimizer_state)
        leaves, treedef = jax.tree_util.tree_flatten(tree)
        saved = payload["optimizer_state_leaves"]
        if len(saved) != len(leaves):
            raise ValueError("The checkpoint's optimizer state does not match the submission's.")
        restored = [
            jax.device_put(s, x.sharding) if hasattr(x, "sharding") else s
            for s, x in zip(saved, leaves, strict=True)
        ]
        new_tree = jax.tree_util.tree_unflatten(treedef, restored)
        if tree is not optimizer_state:
            optimizer_state = (new_tree, optimizer_state[1])
        else:
            optimizer_state = new_tree
        params = _put_like(jax, payload["model_params"], params)
        model_state = _put_like(jax, payload["model_state"], model_state)
        _restore_host_rng(payload)
        return params, model_state, optimizer_state


def _put_like(jax, saved: Any, like: Any) -> Any:  # noqa: ANN001
    if like is None or saved is None:
        return saved
    try:
        return jax.tree_util.tree_map(
            lambda s, x: jax.device_put(s, x.sharding) if hasattr(x, "sharding") else s,
            saved, like,
        )
    except ValueError:
        return saved


def _unwrap(module: Any) -> Any:
    return getattr(module, "module", module) if hasattr(module, "module") else module


def _host_rng_state() -> dict[str, Any]:
    return {"numpy_rng": np.random.get_state(), "python_rng": random.getstate()}


def _restore_host_rng(payload: dict[str, Any]) -> None:
    if "numpy_rng" in payload:
        np.random.set_state(payload["numpy_rng"])
    if "python_rng" in payload:
        random.setstate(payload["python_rng"])


def get_adapter(framework: str) -> PyTorchAdapter | JaxAdapter:
    if framework == "pytorch":
        return PyTorchAdapter()
    if framework == "jax":
        return JaxAdapter()
    raise ValueError(f"Unknown framework {framework!r}; choose pytorch or jax.")
