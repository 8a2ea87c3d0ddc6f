"""Paceline's per-machine cache folder, and a lock for the files several processes update.

The dev clock's probes (``dev_clock.json``, :mod:`workloads.dev_clock`) and the trials' wall
time per budget second (``trial_wall.json``, :mod:`sdk.wall_history`) live here; both are
facts about this machine, not about an experiment.

    PACELINE_CACHE_DIR=/tmp/pc paceline run --workload mnist    # another cache folder
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path


def cache_dir() -> Path:
    """``$PACELINE_CACHE_DIR``, else ``paceline`` under ``$XDG_CACHE_HOME`` or ``~/.cache``."""
    env = os.environ.get("PACELINE_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "paceline"


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold ``<path>.lock`` exclusively (processes updating ``path`` take turns)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
