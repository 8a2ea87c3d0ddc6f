"""The small protocol every `paceline` subcommand follows.

A package adds a subcommand by exposing a :class:`Command` and naming it in the
``paceline.commands`` entry-point group of its ``pyproject.toml``. Keep command modules light:
import torch, jax or ax inside ``run``, never at module level, so `paceline --help` and
`paceline score` stay fast.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, a one-line help, how to add its flags, and what it runs."""

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    description: str | None = None
