"""data/index.sqlite: session metadata and an FTS5 full-text index derived from sav/, self-healing.

The index is a cache: each row remembers the size and mtime of the conversation.md it was built from, and
``sync`` re-reads only what changed behind its back. Deleting the file loses nothing. The schema version sits
in ``PRAGMA user_version``; ``MIGRATIONS`` upgrades an older index step by step, and an index that is damaged
or newer than this code is rebuilt from sav/.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from core.conversation import Conversation
from core.errors import ConversationCorrupt, StorageError
from core.i18n import _

__all__ = [
    "CONVERSATION_FILE",
    "HIGHLIGHT_END",
    "HIGHLIGHT_START",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "SearchHit",
    "SearchIndex",
    "SessionInfo",
    "fts_query",
    "preview_of",
]

CONVERSATION_FILE = "conversation.md"
HIGHLIGHT_START, HIGHLIGHT_END = "«", "»"  # around matched words in snippets; the UI and CLI restyle them
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
log = logging.getLogger("ia.search_index")
_T = TypeVar("_T")


def m001_initial(db: sqlite3.Connection) -> None:
    """Sessions table (metadata shown by list) and the FTS5 table over titles and message text."""
    # One statement at a time: executescript() would commit the migration's transaction half-way.
    for statement in (
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            slug TEXT NOT NULL UNIQUE,
            title TEXT NOT NULL,
            created_us INTEGER NOT NULL,
            updated_us INTEGER NOT NULL,
            model TEXT NOT NULL,
            message_count INTEGER NOT NULL,
            preview TEXT NOT NULL,
            mtime_ns INTEGER NOT NULL,
            size INTEGER NOT NULL,
            damaged TEXT
        )""",
        "CREATE INDEX sessions_by_update ON sessions (updated_us DESC)",
        'CREATE VIRTUAL TABLE search USING fts5(title, body, tokenize = "unicode61 remove_diacritics 2")',
    ):
        db.execute(statement)


# Step n brings an index at user_version n-1 to version n.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [m001_initial]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(slots=True)
class SessionInfo:
    """One row of the session list; ``damaged`` is the reason when conversation.md cannot be read.

    Treat as read-only: ``list()`` hands out the index's cached rows (frozen dataclasses are 5x slower to make).
    """

    slug: str
    title: str
    created: datetime
    updated: datetime
    model: str
    message_count: int
    preview: str
    damaged: str | None = None


@dataclass(slots=True)
class SearchHit:
    """A session matching a search, with a snippet where matched words are wrapped in « »."""

    slug: str
    title: str
    snippet: str
    updated: datetime


# Cached per session: (updated_us for sorting, (mtime_ns, size) of the file indexed, the row as listed).
_Entry = tuple[int, tuple[int, int], SessionInfo]


def _us(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def _time(us: int) -> datetime:
    return datetime.fromtimestamp(us / 1_000_000, UTC)  # exact to the microsecond for years 1970-2100


def preview_of(conv: Conversation, width: int = 120) -> str:
    """The start of the last message on one line, for session lists."""
    if not conv.messages:
        return ""
    return " ".join(conv.messages[-1].content[: width * 4].split())[:width]


def fts_query(text: str) -> str:
    """A safe FTS5 query for what a person typed: every word must appear; the last one may be a prefix."""
    words = [w for w in text.split() if any(ch.isalnum() for ch in w)]
    if not words:
        return ""
    quoted = ['"' + w.replace('"', '""') + '"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


@contextmanager
def _transaction(db: sqlite3.Connection, begin: str = "BEGIN") -> Iterator[None]:
    db.execute(begin)
    try:
        yield
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


class _Unusable(sqlite3.DatabaseError):
    """The index file holds something this program cannot use (newer schema, tables missing)."""


# Failures of the surroundings (another process holds the lock, the folder cannot be written, the disk is
# full): the file may be fine, so it is never deleted for them.
_NOT_THE_FILE = {
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_FULL,
    sqlite3.SQLITE_PERM,
    sqlite3.SQLITE_NOMEM,
    sqlite3.SQLITE_INTERRUPT,
}


def _is_damaged(exc: sqlite3.Error) -> bool:
    """True for a file that is not (or no longer) a usable index: garbage, newer schema, tables missing."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:
        return isinstance(exc, sqlite3.DatabaseError)
    return code & 0xFF not in _NOT_THE_FILE


def _unreadable(path: Path, exc: sqlite3.Error) -> StorageError:
    return StorageError(
        _(
            "The search index {path} cannot be read ({error}): close other copies of the app, "
            "or delete the file to have it rebuilt from sav/."
        ).format(path=path, error=exc)
    )


class SearchIndex:
    """The SQLite index at ``path`` (``:memory:`` when the folder cannot hold it); thread-safe."""

    busy_timeout_s = 10.0  # how long to wait for another process's write lock before working in memory

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.RLock()
        self._db = self._open()
        # Rows kept in memory so listing 10,000 sessions does not rebuild them each time; reloaded when
        # another connection (another process) committed, which PRAGMA data_version reveals.
        self._cache: dict[str, _Entry] | None = None
        self._sorted: list[SessionInfo] | None = None
        self._version = -1
        self._source: tuple[Path, Callable[[Path], Conversation]] | None = None  # what the last sync read

    # ------------------------------------------------------------------ opening and schema
    def _connect(self, target: str) -> sqlite3.Connection:
        timeout = self.busy_timeout_s
        db = sqlite3.connect(target, check_same_thread=False, timeout=timeout, isolation_level=None)
        try:
            db.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            if target != ":memory:":
                db.execute("PRAGMA journal_mode = WAL")
                db.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            db.close()
            raise
        return db

    def _open(self) -> sqlite3.Connection:
        self._file_id: tuple[int, int] | None = None  # (device, inode) of the open file; None in memory
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            log.warning("cannot create %s (%s); using an in-memory index", self.path.parent, exc)
            return self._memory()
        for attempt in (1, 2):
            try:
                return self._open_file()
            except sqlite3.Error as exc:
                if attempt == 2 or not _is_damaged(exc):  # busy, unwritable: keep the file, work in memory
                    log.warning("cannot use %s (%s); using an in-memory index", self.path, exc)
                    break
                log.warning("search index %s is unusable (%s); rebuilding it from sav/", self.path, exc)
                self._remove_files()
        return self._memory()

    def _open_file(self) -> sqlite3.Connection:
        db = self._connect(str(self.path))
        try:
            self._upgrade(db)
            st = os.stat(self.path)
        except BaseException:
            db.close()
            raise
        self._file_id = (st.st_dev, st.st_ino)
        return db

    def _memory(self) -> sqlite3.Connection:
        db = self._connect(":memory:")
        self._upgrade(db)
        return db

    def _remove_files(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.unlink(f"{self.path}{suffix}")
            except OSError:
                pass

    def _upgrade(self, db: sqlite3.Connection) -> None:
        def version() -> int:
            return int(db.execute("PRAGMA user_version").fetchone()[0])

        current = version()
        while current < SCHEMA_VERSION:
            with _transaction(db, "BEGIN IMMEDIATE"):
                current = version()  # another process may have upgraded it while we waited for the lock
                if current < SCHEMA_VERSION:
                    MIGRATIONS[current](db)
                    db.execute(f"PRAGMA user_version = {current + 1}")
            current = version()
        if current > SCHEMA_VERSION:
            raise _Unusable(f"schema version {current} is newer than this program's {SCHEMA_VERSION}")
        tables = db.execute(
            "SELECT count(*) FROM sqlite_master WHERE name IN ('sessions', 'search')"
        ).fetchone()
        if tables[0] != 2:
            raise _Unusable("tables are missing")

    def _reopen(self, why: str, *, remove: bool) -> None:
        """Start again on a fresh connection (call with the lock held); ``remove`` deletes a damaged file."""
        log.warning("search index %s %s; rebuilding it from sav/", self.path, why)
        try:
            self._db.close()
        except sqlite3.Error:
            pass
        if remove and self._file_id is not None:
            self._remove_files()
        self._db = self._open()
        self._cache, self._sorted, self._version = None, None, -1

    def _reopen_if_replaced(self) -> None:
        """Follow the file when it was deleted or replaced behind our back (else we would keep an orphan)."""
        if self._file_id is None:
            return
        try:
            st = os.stat(self.path)
            current: tuple[int, int] | None = (st.st_dev, st.st_ino)
        except OSError:
            current = None
        if current != self._file_id:
            with self._lock:
                if current != self._file_id:
                    self._reopen("was deleted or replaced", remove=False)

    def _guard(self, read: Callable[[], _T], *, resync: bool = True) -> _T:
        """Run ``read``; an index found damaged is rebuilt (re-synced from sav/) and ``read`` run again."""
        with self._lock:
            try:
                return read()
            except sqlite3.Error as exc:
                if not _is_damaged(exc):
                    raise _unreadable(self.path, exc) from exc
                self._reopen(f"is damaged ({exc})", remove=True)
            try:
                if resync and self._source is not None:
                    self._sync(*self._source)
                return read()
            except sqlite3.Error as exc:
                raise _unreadable(self.path, exc) from exc

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ writing
    def put(self, conv: Conversation, mtime_ns: int, size: int) -> None:
        """Record ``conv`` as read from a file of this mtime and size (a failure only delays indexing)."""
        body = "\n".join(m.content for m in conv.messages)
        values = (
            conv.title,
            _us(conv.created),
            _us(conv.updated),
            conv.model,
            len(conv.messages),
            preview_of(conv),
            mtime_ns,
            size,
        )

        def write() -> None:
            row_id = self._upsert(conv.slug, values, None)
            self._db.execute("DELETE FROM search WHERE rowid = ?", (row_id,))
            self._db.execute(
                "INSERT INTO search (rowid, title, body) VALUES (?, ?, ?)", (row_id, conv.title, body)
            )

        with self._lock:
            if self._apply(conv.slug, write):
                self._cached(conv.slug, values, None)

    def put_damaged(self, slug: str, reason: str, mtime_ns: int, size: int) -> None:
        """Record a conversation.md that cannot be parsed, so list shows it as damaged."""
        values = (slug, mtime_ns // 1000, mtime_ns // 1000, "", 0, "", mtime_ns, size)

        def write() -> None:
            row_id = self._upsert(slug, values, reason)
            self._db.execute("DELETE FROM search WHERE rowid = ?", (row_id,))

        with self._lock:
            if self._apply(slug, write):
                self._cached(slug, values, reason)

    def _apply(self, slug: str, write: Callable[[], None]) -> bool:
        """Run ``write`` in a transaction; a failure is logged, as the index only caches what sav/ holds."""
        try:
            with _transaction(self._db):
                write()
            return True
        except sqlite3.Error as exc:
            log.warning("search index not updated for %s (%s); it will be re-read from sav/", slug, exc)
            self._cache = None
            if _is_damaged(exc):
                self._reopen(f"is damaged ({exc})", remove=True)
            return False

    def _cached(self, slug: str, values: tuple, damaged: str | None) -> None:
        if self._cache is not None:
            title, created_us, updated_us, model, count, preview, mtime_ns, size = values
            info = SessionInfo(
                slug, title, _time(created_us), _time(updated_us), model, count, preview, damaged
            )
            self._cache[slug] = (updated_us, (mtime_ns, size), info)
            self._sorted = None

    def _upsert(self, slug: str, values: tuple, damaged: str | None) -> int:
        row = self._db.execute(
            "INSERT INTO sessions (slug, title, created_us, updated_us, model, message_count, preview, mtime_ns,"
            " size, damaged) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (slug) DO UPDATE SET title = excluded.title, created_us = excluded.created_us,"
            " updated_us = excluded.updated_us, model = excluded.model, message_count = excluded.message_count,"
            " preview = excluded.preview, mtime_ns = excluded.mtime_ns, size = excluded.size,"
            " damaged = excluded.damaged RETURNING id",
            (slug, *values, damaged),
        ).fetchall()
        return int(row[0][0])

    def remove(self, slug: str) -> None:
        """Forget a session (deleted or renamed)."""

        def write() -> None:
            for (row_id,) in self._db.execute(
                "DELETE FROM sessions WHERE slug = ? RETURNING id", (slug,)
            ).fetchall():
                self._db.execute("DELETE FROM search WHERE rowid = ?", (row_id,))

        with self._lock:
            if (
                self._apply(slug, write)
                and self._cache is not None
                and self._cache.pop(slug, None) is not None
            ):
                self._sorted = None

    def _entries(self) -> dict[str, _Entry]:
        """The in-memory rows, reloaded when another process changed the index (call with the lock held)."""
        version = self._db.execute("PRAGMA data_version").fetchone()[0]
        if self._cache is None or version != self._version:
            cache: dict[str, _Entry] = {}
            ordered = []
            for slug, title, c, u, model, count, preview, damaged, m, size in self._db.execute(
                "SELECT slug, title, created_us, updated_us, model, message_count, preview, damaged, mtime_ns,"
                " size FROM sessions ORDER BY updated_us DESC, slug"
            ):
                info = SessionInfo(slug, title, _time(c), _time(u), model, count, preview, damaged)
                cache[slug] = (u, (m, size), info)
                ordered.append(info)
            self._cache, self._sorted = cache, ordered
            self._version = version
        return self._cache

    # ------------------------------------------------------------------ syncing with sav/
    def sync(self, sav_dir: Path, read: Callable[[Path], Conversation]) -> int:
        """Re-index every conversation.md whose size or mtime changed, drop vanished ones; returns the count.

        An index file deleted, replaced or found damaged is rebuilt here (the next sync of a new index reads
        every file again).
        """
        self._source = (sav_dir, read)
        self._reopen_if_replaced()
        return self._sync(sav_dir, read)

    def _sync(self, sav_dir: Path, read: Callable[[Path], Conversation]) -> int:
        on_disk: dict[str, tuple[int, int]] = {}
        try:
            entries = list(os.scandir(sav_dir))
        except (FileNotFoundError, NotADirectoryError):
            entries = []
        stat, sep = os.stat, os.sep
        for entry in entries:
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            try:
                st = stat(f"{entry.path}{sep}{CONVERSATION_FILE}")
            except OSError:
                continue  # a folder without a conversation is not a session
            on_disk[entry.name] = (st.st_mtime_ns, st.st_size)
        known = self._guard(lambda: {slug: e[1] for slug, e in self._entries().items()}, resync=False)
        changed = 0
        for slug in known.keys() - on_disk.keys():
            self.remove(slug)
            changed += 1
        for slug, signature in on_disk.items():
            if known.get(slug) != signature:
                self.refresh(sav_dir / slug / CONVERSATION_FILE, read, signature)
                changed += 1
        return changed

    def refresh(self, path: Path, read: Callable[[Path], Conversation], signature: tuple[int, int]) -> None:
        """Re-read one conversation (signature = its mtime_ns and size taken before reading)."""
        slug = path.parent.name
        try:
            conv = read(path)
        except FileNotFoundError:
            self.remove(slug)
            return
        except ConversationCorrupt as exc:
            log.warning("%s", exc)
            self.put_damaged(slug, exc.reason, *signature)
            return
        self.put(conv, *signature)

    # ------------------------------------------------------------------ reading
    def rows(self) -> list[SessionInfo]:
        """Every session, most recently updated first."""

        def read() -> list[SessionInfo]:
            entries = self._entries()
            if self._sorted is None:
                ordered = sorted(entries.items(), key=lambda item: (-item[1][0], item[0]))
                self._sorted = [entry[2] for _key, entry in ordered]
            return list(self._sorted)

        return self._guard(read)

    def slug_for_title(self, title: str) -> str | None:
        """The slug of the most recent session with this title (exact, else ignoring case)."""

        def read() -> str | None:
            row = self._db.execute(
                "SELECT slug FROM sessions WHERE title = ? AND damaged IS NULL ORDER BY updated_us DESC LIMIT 1",
                (title,),
            ).fetchone()
            if row:
                return str(row[0])
            wanted = title.casefold()
            cursor = self._db.execute(
                "SELECT slug, title FROM sessions WHERE damaged IS NULL ORDER BY updated_us DESC"
            )
            return next((slug for slug, other in cursor if other.casefold() == wanted), None)

        return self._guard(read)

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Sessions whose title or messages contain every word of ``text``, best matches first."""
        query = fts_query(text)
        if not query:
            return []

        def read() -> list[SearchHit]:
            cursor = self._db.execute(
                "SELECT s.slug, s.title, snippet(search, -1, ?, ?, '…', 16), s.updated_us"
                " FROM search JOIN sessions AS s ON s.id = search.rowid"
                " WHERE search MATCH ? ORDER BY bm25(search, 5.0, 1.0) LIMIT ?",
                (HIGHLIGHT_START, HIGHLIGHT_END, query, limit),
            )
            return [SearchHit(r[0], r[1], " ".join(r[2].split()), _time(r[3])) for r in cursor]

        return self._guard(read)
