"""Paceline's per-machine cache folder, and a lock for the files several processes update.

The dev clock's probes (``dev_clock.json``, :mod:`workloads.dev_clock`) and the trials' wall
time per budget second (``trial_wall.json``, :mod:`sdk.wall_history`) live here; both are
facts about this machine, not about an experiment.

    PACELINE_CACHE_DIR=/tmp/pc paceline run --workload mnist    # another cache folder
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from sdk.file_lock import file_lock


def cache_dir() -> Path:
    """``$PACELINE_CACHE_DIR``, else ``paceline`` under ``$XDG_CACHE_HOME`` or ``~/.cache``."""
    env = os.environ.get("PACELINE_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "paceline"


def locked(path: Path) -> contextlib.AbstractContextManager[None]:
    """Hold ``<path>.lock`` exclusively (processes updating ``path`` take turns)."""
    return file_lock(path.with_name(path.name + ".lock"))
