"""The dataset cache: atomic builds, and rebuilding a dataset whose recipe changed."""

from __future__ import annotations

from pathlib import Path

from workloads.common import data_cache


def _builder(calls: list[int]):  # noqa: ANN202
    def build(folder: Path) -> dict:
        calls.append(1)
        (folder / "x.txt").write_text(str(len(calls)))
        return {"n": len(calls)}
    return build


def test_same_recipe_is_reused_and_a_changed_one_rebuilt(tmp_path: Path,
                                                         monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("PACELINE_DATA_DIR", str(tmp_path))
    calls: list[int] = []
    folder = data_cache.prepare("ds", _builder(calls), recipe={"size": 10})
    assert folder == tmp_path / "ds"
    assert data_cache.prepare("ds", _builder(calls), recipe={"size": 10}) == folder
    assert len(calls) == 1
    data_cache.prepare("ds", _builder(calls), recipe={"size": 20})
    assert len(calls) == 2 and (folder / "x.txt").read_text() == "2"
    assert data_cache.is_current(folder, {"size": 20})
    assert not data_cache.is_current(folder, {"size": 10})


def test_a_users_folder_is_used_as_it_is(tmp_path: Path) -> None:
    calls: list[int] = []
    target = str(tmp_path / "mine")
    data_cache.prepare("ds", _builder(calls), target, recipe={"size": 10})
    data_cache.prepare("ds", _builder(calls), target, recipe={"size": 20})
    assert len(calls) == 1


def test_a_failed_build_leaves_no_prepared_folder(tmp_path: Path) -> None:
    def broken(folder: Path) -> dict:
        (folder / "half.txt").write_text("x")
        raise RuntimeError("interrupted")

    target = tmp_path / "ds"
    try:
        data_cache.prepare("ds", broken, str(target), recipe=1)
    except RuntimeError:
        pass
    assert not data_cache.is_prepared(target)
    assert not any(p.name.startswith(".ds.partial") for p in tmp_path.iterdir())
