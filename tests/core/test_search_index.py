"""data/index.sqlite: schema versioning, self-healing, FTS5 search with safe queries."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.conversation import Conversation, Message
from core.sav_manager import read_conversation, write_conversation
from core.search_index import MIGRATIONS, SCHEMA_VERSION, SearchIndex, fts_query

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


def _spoil_under_an_open_index(path: Path) -> None:
    """Another process writes (so open connections must re-read pages), then garbage lands in the file."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    other.execute("UPDATE sessions SET preview = preview")
    path.write_bytes(b"\0garbage" * (path.stat().st_size // 8))
    other.close()


def test_index_damaged_while_open_is_rebuilt_and_answers(tmp_path: Path, sav: Path, caplog) -> None:
    path = tmp_path / "index.sqlite"
    index = SearchIndex(path)
    index.sync(sav, read_conversation)
    _spoil_under_an_open_index(path)
    with caplog.at_level(logging.WARNING, logger="ia.search_index"):
        assert [h.slug for h in index.search("tomllib")] == ["alpha"]
    assert "damaged" in caplog.text
    assert sorted(r.slug for r in index.rows()) == ["alpha", "beta"]
    with sqlite3.connect(path) as db:  # the file itself was rebuilt, not only the answer
        assert db.execute("SELECT count(*) FROM sessions").fetchone()[0] == 2


def test_index_deleted_while_open_is_recreated_and_shared_again(tmp_path: Path, sav: Path) -> None:
    path = tmp_path / "index.sqlite"
    index = SearchIndex(path)
    index.sync(sav, read_conversation)
    for file in tmp_path.glob("index.sqlite*"):
        file.unlink()
    index.sync(sav, read_conversation)
    assert path.is_file()
    assert [h.slug for h in index.search("tomllib")] == ["alpha"]
    other = SearchIndex(path)  # another process opening the index sees what this one rebuilt
    assert sorted(r.slug for r in other.rows()) == ["alpha", "beta"]


def test_index_created_by_another_process_meanwhile_is_not_thrown_away(tmp_path: Path, caplog) -> None:
    path = tmp_path / "index.sqlite"
    first = sqlite3.connect(path, isolation_level=None)
    first.execute("PRAGMA journal_mode = WAL")
    first.execute("BEGIN IMMEDIATE")  # another process is creating the index right now
    MIGRATIONS[0](first)
    first.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    first.execute(
        "INSERT INTO sessions (slug, title, created_us, updated_us, model, message_count, preview, mtime_ns, size)"
        " VALUES ('theirs', 'Theirs', 0, 0, '', 0, '', 0, 0)"
    )
    opened: list[SearchIndex] = []
    with caplog.at_level(logging.WARNING, logger="ia.search_index"):
        thread = threading.Thread(target=lambda: opened.append(SearchIndex(path)))
        thread.start()
        time.sleep(0.3)  # let the second opener read version 0 and wait for the lock (nothing to poll for)
        first.execute("COMMIT")
        thread.join(20)
    assert [r.slug for r in opened[0].rows()] == ["theirs"]
    assert "unusable" not in caplog.text and "in-memory" not in caplog.text
    first.close()


def test_index_locked_by_another_process_is_never_deleted(tmp_path: Path, sav: Path, monkeypatch) -> None:
    path = tmp_path / "index.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("CREATE TABLE theirs (x)")
    inode = path.stat().st_ino
    holder.execute("BEGIN EXCLUSIVE")  # another process creates the index and holds the lock too long
    monkeypatch.setattr(SearchIndex, "busy_timeout_s", 0.1)
    index = SearchIndex(path)
    index.sync(sav, read_conversation)
    assert len(index.rows()) == 2  # works in memory meanwhile
    holder.execute("ROLLBACK")
    assert path.stat().st_ino == inode
    assert holder.execute("SELECT count(*) FROM theirs").fetchone() == (0,)
    holder.close()
