"""One lock for folders and caches that several processes share (sdk/file_lock.py), and the
two places it refuses or orders work: a second `paceline tune` in a folder, the cache files.

    .venv/bin/python -m pytest -q tests/test_file_lock.py
"""

from __future__ import annotations

from pathlib import Path

import pytest

from external_tuning.study import experiment_lock
from sdk.errors import PacelineError
from sdk.file_lock import file_lock
from sdk.user_cache import locked


def test_a_held_lock_refuses_a_second_holder_that_will_not_wait(tmp_path: Path) -> None:
    lock = tmp_path / "deep" / "folder" / ".lock"
    with file_lock(lock):
        assert lock.is_file()
        with pytest.raises(BlockingIOError), file_lock(lock, wait=False):
            pass
    with file_lock(lock, wait=False):  # released on leaving the block
        pass


def test_a_second_tuning_study_in_the_same_folder_is_one_sentence(tmp_path: Path) -> None:
    with experiment_lock(tmp_path / "exp"):
        with pytest.raises(PacelineError, match="Another `paceline tune` is running"):
            with experiment_lock(tmp_path / "exp"):
                pass
    with experiment_lock(tmp_path / "exp"):
        pass


def test_cache_files_are_locked_beside_themselves(tmp_path: Path) -> None:
    cache = tmp_path / "cache" / "dev_clock.json"
    with locked(cache):
        with pytest.raises(BlockingIOError), file_lock(cache.with_name("dev_clock.json.lock"),
                                                       wait=False):
            pass
