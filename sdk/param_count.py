"""Parameter counts of registered workloads, taken without allocating the model's memory.

    paceline workloads --scale official --json counts.json

A PyTorch workload's ``init_model_fn`` runs under ``with torch.device("meta")`` (tensors with
shapes and no storage) and its ``nn.Module`` parameters are summed, each shared tensor once; a
JAX workload's ``init_model_fn`` runs under :func:`jax.eval_shape` (traced, never executed)
and the leaves of its parameter tree are summed. Both count trainable parameters only, as
AlgoPerf's ``tests/test_num_params.py`` does: batch-norm running statistics are buffers
(PyTorch) or model state (JAX), not parameters. Official criteo1tb's 4,194,304 x 128
embedding is counted this way in well under a second.

    >>> rows = workload_rows(scale="official", framework="pytorch")  # doctest: +SKIP
    >>> rows[0].name, rows[0].parameters  # doctest: +SKIP
    ('librispeech_conformer', 32321792)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from sdk.registry import workloads

FRAMEWORKS = ("pytorch", "jax")
# The seed handed to init_model_fn; shapes do not depend on it.
_SEED = 0


@dataclass(frozen=True)
class WorkloadRow:
    """One registered workload at one scale in one framework, and its parameter count.

    ``parameters`` is ``None`` when the count could not be taken; ``note`` then says why.
    """

    name: str
    base: str | None
    scale: str
    framework: str
    workload_class: str
    parameters: int | None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def count_torch(workload: Any) -> int:
    """Trainable parameters of a PyTorch workload's model, built on the meta device."""
    import numpy as np
    import torch

    with torch.device("meta"):
        params, _ = workload.init_model_fn(np.array([_SEED, _SEED], dtype=np.uint32))
    tensors = params.parameters() if isinstance(params, torch.nn.Module) else _leaves(params)
    return sum(int(t.numel()) for t in tensors)


def count_jax(workload: Any) -> int:
    """Trainable parameters of a JAX workload's model, from shapes that ``eval_shape`` traces."""
    import jax

    shapes = jax.eval_shape(lambda rng: workload.init_model_fn(rng)[0],
                            jax.random.PRNGKey(_SEED))
    return sum(math.prod(leaf.shape) for leaf in jax.tree_util.tree_leaves(shapes))


def _leaves(tree: Any) -> list[Any]:
    """Tensors of a dict (or nested dicts) of parameters, for a PyTorch model given as one."""
    if isinstance(tree, dict):
        return [leaf for value in tree.values() for leaf in _leaves(value)]
    return [tree]


COUNTERS = {"pytorch": count_torch, "jax": count_jax}


def count_row(name: str, scale: str, framework: str) -> WorkloadRow:
    """The row of ``name`` at ``scale`` in ``framework``; a failed count is a note, not an error.

    Any exception from the workload's own code (a model that reads data at init, an operation
    the meta device lacks) is caught here: the listing is a survey and one workload that cannot
    be counted must not hide the others.
    """
    entry = workloads().entry(name)
    ref = entry.classes[scale][framework]
    try:
        workload = workloads().create(name, scale, framework)
        parameters, note = COUNTERS[framework](workload), ""
    except Exception as exc:  # noqa: BLE001 - reported in the row (see docstring)
        first_line = (str(exc).strip().splitlines() or [""])[0][:160]
        parameters = None
        note = f"cannot be counted without allocating: {type(exc).__name__}: {first_line}"
    return WorkloadRow(name=name, base=entry.base, scale=scale, framework=framework,
                       workload_class=ref, parameters=parameters, note=note)


def workload_rows(scale: str | None = None, framework: str | None = None) -> list[WorkloadRow]:
    """Every registered workload (base and variants) per scale and framework, counted.

    Sorted by scale, then name, then framework; ``scale`` and ``framework`` (``None``: all)
    narrow the listing.
    """
    rows = []
    for name in workloads().names():
        entry = workloads().entry(name)
        for entry_scale in sorted(entry.classes):
            if scale is not None and entry_scale != scale:
                continue
            for fw in entry.frameworks(entry_scale):
                if framework is None or fw == framework:
                    rows.append(count_row(entry.name, entry_scale, fw))
    return sorted(rows, key=lambda r: (r.scale, r.name, r.framework))
