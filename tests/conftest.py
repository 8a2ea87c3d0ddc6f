"""Shared test fixtures: an isolated data cache and the reference-log location."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REFERENCE_LOGS = Path(
    os.environ.get("PACELINE_REFERENCE_LOGS", REPO.parent / "shared" / "algoperf_reference_logs")
)


@pytest.fixture
def reference_logs() -> Path:
    """``../shared/algoperf_reference_logs``; tests using it skip when it is absent."""
    if not REFERENCE_LOGS.is_dir():
        pytest.skip(f"AlgoPerf reference logs not found at {REFERENCE_LOGS} "
                    "(set PACELINE_REFERENCE_LOGS to point at them)")
    return REFERENCE_LOGS
