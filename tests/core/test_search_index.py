"""data/index.sqlite: schema versioning, self-healing, FTS5 search with safe queries."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.sav_manager import Conversation, Message, read_conversation, write_conversation
from core.search_index import SCHEMA_VERSION, SearchIndex, fts_query

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def _session(sav: Path, slug: str, title: str, *texts: str) -> Path:
    conv = Conversation(title, slug, T0, T0, messages=[Message("user", t, T0) for t in texts])
    path = sav / slug / "conversation.md"
    write_conversation(path, conv)
    return path


@pytest.fixture
def sav(tmp_path: Path) -> Path:
    sav = tmp_path / "sav"
    _session(sav, "alpha", "Alpha", "how do I parse TOML in python", "use tomllib")
    _session(sav, "beta", "Beta café", "a question about Kivy layouts")
    return sav


def test_new_index_gets_the_current_schema_version(tmp_path: Path) -> None:
    index = SearchIndex(tmp_path / "index.sqlite")
    index.close()
    db = sqlite3.connect(tmp_path / "index.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"sessions", "search"} <= tables


def test_sync_indexes_files_and_search_finds_words_with_snippets(tmp_path: Path, sav: Path) -> None:
    index = SearchIndex(tmp_path / "index.sqlite")
    assert index.sync(sav, read_conversation) == 2
    assert index.sync(sav, read_conversation) == 0  # nothing changed: nothing re-read
    hits = index.search("tomllib")
    assert [h.slug for h in hits] == ["alpha"]
    assert "«tomllib»" in hits[0].snippet
    assert [h.slug for h in index.search("cafe")] == ["beta"]  # diacritics folded
    assert [h.slug for h in index.search("pars")] == ["alpha"]  # last word as a prefix while typing


@pytest.mark.parametrize(
    "query", ['"', "AND (", "NEAR(", "*", "title:", "-x", "'; DROP TABLE sessions; --", "   "]
)
def test_queries_with_fts_syntax_never_fail(tmp_path: Path, sav: Path, query: str) -> None:
    index = SearchIndex(tmp_path / "index.sqlite")
    index.sync(sav, read_conversation)
    assert isinstance(index.search(query), list)
    assert len(index.rows()) == 2


def test_fts_query_quotes_every_word() -> None:
    assert fts_query('say "hi" now') == '"say" """hi""" "now"*'
    assert fts_query("?? !!") == ""


def test_file_changed_behind_its_back_is_reindexed(tmp_path: Path, sav: Path) -> None:
    index = SearchIndex(tmp_path / "index.sqlite")
    index.sync(sav, read_conversation)
    path = sav / "beta" / "conversation.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Kivy layouts", "Kivy recycleview"))
    assert index.sync(sav, read_conversation) == 1
    assert [h.slug for h in index.search("recycleview")] == ["beta"]
    assert index.search("layouts") == []


def test_vanished_session_is_dropped(tmp_path: Path, sav: Path) -> None:
    index = SearchIndex(tmp_path / "index.sqlite")
    index.sync(sav, read_conversation)
    (sav / "alpha" / "conversation.md").unlink()
    index.sync(sav, read_conversation)
    assert [r.slug for r in index.rows()] == ["beta"]
    assert index.search("tomllib") == []


def test_damaged_file_is_listed_as_damaged(tmp_path: Path, sav: Path) -> None:
    path = sav / "alpha" / "conversation.md"
    path.write_bytes(path.read_bytes()[:200])
    index = SearchIndex(tmp_path / "index.sqlite")
    index.sync(sav, read_conversation)
    rows = {r.slug: r for r in index.rows()}
    assert "truncated" in (rows["alpha"].damaged or "")
    assert rows["beta"].damaged is None


@pytest.mark.parametrize(
    "spoil",
    [
        lambda p: p.write_bytes(b"this is not a database at all" * 100),
        lambda p: (
            sqlite3.connect(p).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 7}").connection.commit()
        ),
        lambda p: sqlite3.connect(p).execute("DROP TABLE sessions").connection.commit(),
    ],
    ids=["garbage", "newer-schema", "missing-table"],
)
def test_unusable_index_is_rebuilt_from_sav(tmp_path: Path, sav: Path, spoil) -> None:
    path = tmp_path / "index.sqlite"
    SearchIndex(path).close()
    spoil(path)
    index = SearchIndex(path)
    index.sync(sav, read_conversation)
    assert sorted(r.slug for r in index.rows()) == ["alpha", "beta"]
    assert [h.slug for h in index.search("tomllib")] == ["alpha"]


def test_old_schema_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "index.sqlite"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE unrelated (x)")  # a version-0 file: whatever was there stays
    db.commit()
    db.close()
    SearchIndex(path).close()
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("SELECT count(*) FROM unrelated").fetchone()[0] == 0


def test_index_under_a_file_falls_back_to_memory(tmp_path: Path, sav: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data folder should be")
    index = SearchIndex(blocker / "index.sqlite")
    index.sync(sav, read_conversation)
    assert len(index.rows()) == 2
