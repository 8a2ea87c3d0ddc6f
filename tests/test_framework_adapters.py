"""Both framework adapters implement the whole :class:`FrameworkAdapter` protocol the runner uses.

    .venv/bin/python -m pytest tests/test_framework_adapters.py -q
"""

from __future__ import annotations

import inspect
import typing

import pytest

from sdk.frameworks.adapters import FrameworkAdapter, SyncPolicy, get_adapter

METHODS = sorted(name for name, value in vars(FrameworkAdapter).items()
                 if inspect.isfunction(value) and not name.startswith("_"))
ATTRIBUTES = sorted(FrameworkAdapter.__annotations__)


def test_the_protocol_names_what_the_runner_asks() -> None:
    assert {"setup", "sync", "seed", "compile", "save", "load", "restore"} <= set(METHODS)
    assert ATTRIBUTES == ["checkpoint_name", "name", "sync_policy"]


@pytest.mark.parametrize("framework", ["pytorch", "jax"])
def test_each_adapter_implements_all_of_it(framework: str) -> None:
    adapter = get_adapter(framework)
    assert adapter.name == framework
    assert adapter.sync_policy in typing.get_args(SyncPolicy)
    assert adapter.checkpoint_name.startswith("checkpoint.")
    for name in METHODS:
        method = getattr(adapter, name)
        wanted = list(inspect.signature(getattr(FrameworkAdapter, name)).parameters)[1:]
        assert list(inspect.signature(method).parameters) == wanted, name


def test_compile_leaves_jax_params_alone() -> None:
    params = {"w": 1.0}
    assert get_adapter("jax").compile(params) is params
