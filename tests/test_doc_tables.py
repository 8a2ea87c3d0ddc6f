"""The numbers tables in docs/ are generated from the code and must not drift from it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from workloads import doc_tables

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_shipped_docs_match_the_numbers_in_code():
    assert doc_tables.stale(DOCS) == [], "run: python -m workloads.doc_tables"


def test_a_stale_table_is_found_and_rewritten(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    page = docs / "workloads" / "ogbg.md"
    page.write_text(page.read_text().replace("| `ogbg` | v0.5 |", "| `ogbg` | v0.5 (edited) |"))
    assert doc_tables.stale(docs) == [page]
    assert doc_tables.main(["--check", "--docs", str(docs)]) == 1
    assert doc_tables.refresh(docs) == [page]
    assert doc_tables.stale(docs) == []
    assert "| `ogbg` | v0.5 | " in page.read_text()


def test_family_table_lists_base_and_variants_under_both_versions():
    table = doc_tables.family_table("wmt")
    for name in ("wmt", "wmt_attention_temp", "wmt_glu_tanh", "wmt_post_ln"):
        assert f"| `{name}` | v0.5 |" in table and f"| `{name}` | v0.6 |" in table
    assert "higher is better" in table


def test_a_page_without_markers_is_a_clear_error(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(DOCS, docs)
    (docs / "workloads.md").write_text("# no table here\n")
    with pytest.raises(SystemExit, match="no '<!-- paceline-numbers: begin -->'"):
        doc_tables.stale(docs)
