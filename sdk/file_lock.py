"""An exclusive lock held on a file, for folders and caches several processes share.

``flock`` on a lock file: the kernel releases it when the holding process dies, so a killed
run never leaves a stale lock behind. Used for a tuning experiment's folder (one ``paceline
tune`` at a time), a trial's folder (one worker per trial), and paceline's per-machine cache
files (processes take turns to update them). Where ``fcntl`` does not exist (not POSIX) there
is nothing to lock with, and no cluster either: the block runs unlocked.

    with file_lock(root / ".paceline.lock", wait=False):   # BlockingIOError if held
        ...
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def file_lock(lock_file: Path, wait: bool = True) -> Iterator[None]:
    """Hold an exclusive lock on ``lock_file`` (created with its folder if missing).

    ``wait=False`` raises :class:`BlockingIOError` at once when another holder has it.
    """
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX
        yield
        return
    with open(lock_file, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
