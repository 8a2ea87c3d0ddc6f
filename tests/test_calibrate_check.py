"""`paceline calibrate --check`: probe again, say how far each step cost moved since it was
cached, and leave the cache alone (the probe itself is replaced by a fake here).

    .venv/bin/python -m pytest -q tests/test_calibrate_check.py
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sdk.cli.main import main
from workloads import dev_clock


def cached(step: float) -> dict:
    return {"scale": 1.0, "step_cpu_sec": step, "recorded_step_sec": step, "steps": 10,
            "steady_steps": 10, "method": dev_clock.PROBE_METHOD, "cpu_share": 1.0,
            "canary_sec": 0.02, "probed": "2026-12-06T23:00:00+00:00"}


@pytest.mark.parametrize("now, says", [(0.0125, "+25.0%"), (0.0102, "+2.0%")])
def test_check_reports_the_drift_and_keeps_the_cache(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture,
        now: float, says: str) -> None:
    monkeypatch.setenv("PACELINE_CACHE_DIR", str(tmp_path))
    dev_clock.store("mnist/pytorch", cached(0.010))
    before = (tmp_path / dev_clock.CACHE_FILE).read_text()
    monkeypatch.setattr(dev_clock, "probe", lambda *_a, **_k: {**cached(now)})
    assert main(["calibrate", "--check", "--workloads", "mnist"]) == 0
    out = capsys.readouterr().out
    assert says in out and "cached 2026-12-06" in out
    if now > 0.011:
        assert "run `paceline calibrate --framework pytorch --workloads mnist`" in out
    else:
        assert "the cache stands" in out
    assert (tmp_path / dev_clock.CACHE_FILE).read_text() == before
    assert json.loads(before)["entries"]["mnist/pytorch"]["step_cpu_sec"] == 0.010


def test_check_and_show_do_not_go_together(capsys: pytest.CaptureFixture) -> None:
    assert main(["calibrate", "--check", "--show"]) == 2
    assert "not allowed with argument --check" in capsys.readouterr().err
