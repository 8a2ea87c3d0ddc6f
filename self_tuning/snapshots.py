"""Copies of training states: swap candidates in a race, go back to the best state seen.

A *store* keeps states by key and hands them back (:class:`~self_tuning.racing.StateStore`):

* :class:`TorchStore`: a ``torch.nn.Module``'s ``state_dict`` (parameters and buffers such
  as batch-norm statistics), optionally kept on another device (``device="cpu"`` saves
  accelerator memory at the price of a copy each way). ``load`` copies back in place and
  returns the module, since PyTorch submissions mutate one module.
* :class:`JaxStore`: any pytree (``(params, model_state)``); JAX arrays are immutable, so
  keeping one costs no copy unless ``offload=True`` moves it to host memory.

:class:`RestartFromBest` keeps the state with the best score seen so far and restores it on
demand, for instance when the loss diverges or a plateau calls for a fresh decay from the
best point.

    >>> store = JaxStore()
    >>> store.save("a", {"w": 1.0})
    >>> store.load("a", None)
    {'w': 1.0}
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any, Generic, TypeVar

from sdk.frameworks.checkpoints import checkpointable

S = TypeVar("S")


@checkpointable
class TorchStore:
    """Snapshots of a PyTorch module's ``state_dict``.

    Args:
        device: where snapshots live (default: beside the parameters).
    """

    def __init__(self, device: Any = None) -> None:
        self.device = device
        self._slots: dict[Hashable, dict[str, Any]] = {}

    def save(self, key: Hashable, state: Any) -> None:
        module = getattr(state, "module", state)  # unwrap (Distributed)DataParallel
        self._slots[key] = {
            name: (t.detach().to(self.device, copy=True) if self.device is not None
                   else t.detach().clone())
            for name, t in module.state_dict().items()
        }

    def load(self, key: Hashable, state: Any) -> Any:
        import torch

        module = getattr(state, "module", state)
        with torch.no_grad():
            current = module.state_dict()
            for name, saved in self._slots[key].items():
                current[name].copy_(saved, non_blocking=True)
        return state

    def __contains__(self, key: Hashable) -> bool:
        return key in self._slots

    def discard(self, key: Hashable) -> None:
        self._slots.pop(key, None)


@checkpointable
class JaxStore:
    """References to (or host copies of) JAX pytrees.

    Args:
        offload: keep snapshots in host memory and put them back on the device on load.
    """

    def __init__(self, offload: bool = False) -> None:
        self.offload = offload
        self._slots: dict[Hashable, Any] = {}

    def save(self, key: Hashable, state: Any) -> None:
        if self.offload:
            import jax

            state = jax.device_get(state)
        self._slots[key] = state

    def load(self, key: Hashable, state: Any) -> Any:
        saved = self._slots[key]
        if self.offload and state is not None:
            import jax

            return jax.tree_util.tree_map(
                lambda s, like: jax.device_put(s, getattr(like, "sharding", None)), saved, state)
        return saved

    def __contains__(self, key: Hashable) -> bool:
        return key in self._slots

    def discard(self, key: Hashable) -> None:
        self._slots.pop(key, None)


@checkpointable
class RestartFromBest(Generic[S]):
    """Remembers the best-scoring state and restores it on demand.

    Args:
        store: a :class:`TorchStore` or :class:`JaxStore`.
        minimize: whether lower scores are better.
        blowup: :meth:`diverged` says yes when a score is worse than the best by this factor
            (on the loss scale), or not finite.

        >>> keeper = RestartFromBest(JaxStore())
        >>> keeper.offer(2.0, "state at 2.0", step=10), keeper.offer(3.0, "worse", step=20)
        (True, False)
        >>> keeper.diverged(float("nan")), keeper.restore(None), keeper.best_step
        (True, 'state at 2.0', 10)
    """

    KEY = "best"

    def __init__(self, store: Any, minimize: bool = True, blowup: float = 2.0) -> None:
        self.store = store
        self.minimize = minimize
        self.blowup = float(blowup)
        self.best_score: float | None = None
        self.best_step: int | None = None
        self.restores = 0

    def is_better(self, score: float) -> bool:
        if not math.isfinite(score):
            return False
        if self.best_score is None:
            return True
        return score < self.best_score if self.minimize else score > self.best_score

    def offer(self, score: float, state: S, step: int) -> bool:
        """Keep ``state`` if ``score`` is the best so far; returns whether it was kept."""
        if not self.is_better(score):
            return False
        self.store.save(self.KEY, state)
        self.best_score, self.best_step = float(score), int(step)
        return True

    def diverged(self, score: float) -> bool:
        """Whether ``score`` looks like divergence relative to the best one."""
        if not math.isfinite(score):
            return True
        if self.best_score is None:
            return False
        if self.minimize:
            return score > self.best_score * self.blowup and score > self.best_score
        return score < self.best_score / self.blowup

    @property
    def has_best(self) -> bool:
        return self.best_score is not None

    def restore(self, state: S) -> S:
        """The best state (a PyTorch module is overwritten in place and returned)."""
        if self.best_score is None:
            raise RuntimeError("RestartFromBest.restore() before any state was kept.")
        self.restores += 1
        return self.store.load(self.KEY, state)
