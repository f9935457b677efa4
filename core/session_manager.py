"""Sessions: create, list, load, rename, delete, search, export, import, context window and crash-safe saving.

Each session is a folder ``sav/<slug>/`` holding ``conversation.md`` (the truth), ``code_<n>.<ext>`` files
and ``attachments/``. ``data/index.sqlite`` caches metadata and the full-text index and heals itself.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from core import versions
from core.conversation import Conversation, Message
from core.errors import IAError, ImportRefused, SessionNotFound, StorageError, StorageWriteError
from core.fileio import atomic_write, write_error
from core.i18n import _
from core.sav_manager import extension_for, extract_code_blocks, read_conversation, write_conversation
from core.search_index import CONVERSATION_FILE, SearchHit, SearchIndex, SessionInfo
from core.slugs import is_folder_name, slugify, unique_slug

if TYPE_CHECKING:
    from config import Settings
    from core.importers import ImportedConversation, ImportResult

__all__ = ["ReplyWriter", "SearchHit", "SessionInfo", "SessionManager"]

log = logging.getLogger("ia.sessions")
INTERRUPTED_NOTE = "The app stopped before this reply was finished."
_IMPORT_PREFIX = ".import-"
_CODE_FILE = re.compile(r"code_(\d+)\.[^.]+")
_IMAGE_TYPES = [(b"\x89PNG\r\n\x1a\n", ".png"), (b"\xff\xd8\xff", ".jpg"), (b"GIF8", ".gif"), (b"BM", ".bmp")]


class _HasToDict(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


def _now() -> datetime:
    return datetime.now(UTC)


def clean_title(title: str) -> str:
    """The user's title without control characters (which no list can show) and outer spaces."""
    return "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in title).strip()


def _image_suffix(data: bytes) -> str:
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return ".webp"
    return next((ext for magic, ext in _IMAGE_TYPES if data.startswith(magic)), ".bin")


def _estimate_tokens(message: dict[str, Any]) -> int:
    # About four characters per token for English text and code, plus the chat template's overhead.
    return len(message["content"]) // 4 + 4


_MessageKey = tuple[str, datetime]


def _key(msg: Message) -> _MessageKey:
    return (msg.role, msg.created)


def _fingerprint(msg: Message) -> int:
    stats = json.dumps(msg.stats, sort_keys=True, default=str) if msg.stats is not None else None
    others = tuple(tuple(_key(m) + (_fingerprint(m),) for m in tail) for tail in msg.versions)
    return hash(
        (msg.content, msg.thinking, msg.status, msg.error, msg.model, tuple(msg.images), stats)
        + (msg.version, others)
    )


_FRONT = ("title", "model", "system_prompt", "options")


@dataclass
class _Saved:
    """What this manager last read from or wrote to a conversation.md: the file's (mtime_ns, size) and a
    fingerprint of each message, so a file changed outside the app can be merged instead of overwritten."""

    signature: tuple[int, int]
    front: dict[str, Any]
    messages: dict[_MessageKey, int]

    @classmethod
    def of(cls, conv: Conversation, st: os.stat_result) -> _Saved:
        return cls(
            (st.st_mtime_ns, st.st_size),
            {name: copy.deepcopy(getattr(conv, name)) for name in _FRONT},
            {_key(m): _fingerprint(m) for m in conv.messages},
        )


def _merge(conv: Conversation, disk: Conversation, saved: _Saved | None) -> None:
    """Make ``conv`` the file's version (edited outside the app) plus this app's own changes since ``saved``:
    messages it added or changed (the reply being streamed), messages it removed, front values it changed.
    Without ``saved`` every message of ``conv`` counts as the app's."""
    mine: dict[_MessageKey, Message] = {}
    for msg in conv.messages:
        key = _key(msg)
        if saved is None or msg.status == "streaming" or saved.messages.get(key) != _fingerprint(msg):
            mine.setdefault(key, msg)
    removed = set(saved.messages) - {_key(m) for m in conv.messages} if saved else set()
    merged: list[Message] = []
    for msg in disk.messages:
        key = _key(msg)
        if key in removed:
            continue
        merged.append(mine.pop(key, msg))
    merged.extend(mine.values())
    conv.messages[:] = merged
    for name in _FRONT:
        if saved is None or getattr(conv, name) == saved.front[name]:
            setattr(conv, name, getattr(disk, name))
    conv.created = disk.created


def _remove_stale_temp_files(folder: Path, age_s: float = 60.0) -> None:
    """Temp files of atomic writes interrupted by a crash (a live write lasts well under ``age_s``)."""
    limit = time.time() - age_s
    for tmp in folder.glob(f".{CONVERSATION_FILE}.*.tmp"):
        try:
            if tmp.stat().st_mtime < limit:
                tmp.unlink()
        except OSError:
            pass


class SessionManager:
    """All session storage for one IA_HOME; safe to share between the UI thread and a worker thread."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.sav_dir: Path = settings.sav_dir
        self._lock = threading.RLock()
        self._index: SearchIndex | None = None
        self._known: dict[str, _Saved] = {}  # the version of each file this manager last read or wrote
        # Search and title look-ups trust an index checked against sav/ this recently (list always checks);
        # our own writes update it at once, so only edits made outside the app can wait this long.
        self.revalidate_s = 2.0
        self._synced_at: float | None = None

    @property
    def index(self) -> SearchIndex:
        with self._lock:
            if self._index is None:
                self._index = SearchIndex(self.settings.data_dir / "index.sqlite")
            return self._index

    def close(self) -> None:
        with self._lock:
            if self._index is not None:
                self._index.close()
                self._index = None

    def session_dir(self, conv_or_slug: Conversation | str) -> Path:
        slug = conv_or_slug.slug if isinstance(conv_or_slug, Conversation) else conv_or_slug
        return self.sav_dir / slug

    # ------------------------------------------------------------------ create, list, load
    def create(
        self, title: str = "", *, model: str = "", system_prompt: str = "", options: dict | None = None
    ) -> Conversation:
        """A new session saved at once under a fresh slug derived from ``title``."""
        now = _now()
        display = clean_title(title) or f"Chat {now:%Y-%m-%d %H:%M:%S}"
        base = slugify(clean_title(title), now=now)
        with self._lock:
            try:
                self.sav_dir.mkdir(parents=True, exist_ok=True)
                existing = set(os.listdir(self.sav_dir))
            except OSError as exc:
                raise write_error(self.sav_dir, exc) from exc
            while True:
                slug = unique_slug(base, existing)
                try:
                    (self.sav_dir / slug).mkdir()
                    break
                except FileExistsError:  # created meanwhile by another process
                    existing.add(slug)
                except OSError as exc:
                    raise write_error(self.sav_dir / slug, exc) from exc
            conv = Conversation(
                title=display,
                slug=slug,
                created=now,
                updated=now,
                model=model,
                system_prompt=system_prompt,
                options=dict(options or {}),
            )
            self._write(conv)
        return conv

    def sync(self, *, force: bool = True) -> int:
        """Bring the index in line with sav/ (re-read changed files); returns how many sessions changed."""
        now = time.monotonic()
        if not force and self._synced_at is not None and now - self._synced_at < self.revalidate_s:
            return 0
        changed = self.index.sync(self.sav_dir, read_conversation)
        self._synced_at = now
        return changed

    def list(self) -> list[SessionInfo]:
        """Every session, most recent activity first; unreadable ones are listed with ``damaged`` set."""
        self.sync()
        return self.index.rows()

    def _is_folder(self, name: str, holding: str = "") -> bool:
        """True when ``name`` is a folder of sav/ (holding that file, when given); never looks outside sav/."""
        if not is_folder_name(name):
            return False
        try:
            return (self.sav_dir / name / holding).is_file() if holding else (self.sav_dir / name).is_dir()
        except OSError:  # a name too long for the file system, ...
            return False

    def _resolve(self, name: str) -> str:
        if self._is_folder(name, CONVERSATION_FILE):
            return name
        self.sync(force=False)
        slug = self.index.slug_for_title(name) or self.index.slug_for_title(clean_title(name))
        if slug is None:
            raise SessionNotFound(name)
        return slug

    def load(self, name: str) -> Conversation:
        """The session with this slug or exact title; a reply left 'streaming' by a crash reads as interrupted."""
        slug = self._resolve(name)
        path = self.sav_dir / slug / CONVERSATION_FILE
        try:
            st = path.stat()
            conv = read_conversation(path)
        except FileNotFoundError:
            raise SessionNotFound(name) from None
        with self._lock:
            self._known[slug] = _Saved.of(conv, st)
        _remove_stale_temp_files(path.parent)
        for msg in conv.messages:
            if msg.status == "streaming":
                msg.status = "interrupted"
                msg.error = msg.error or INTERRUPTED_NOTE
        return conv

    # ------------------------------------------------------------------ saving
    def _changed_outside(self, slug: str, path: Path) -> Conversation | None:
        """The file's version when it changed since this manager last read or wrote it, else None.

        A file changed into something unreadable raises ConversationCorrupt, so it is never written over.
        """
        try:
            st = path.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise write_error(path, exc) from exc
        saved = self._known.get(slug)
        if saved is not None and saved.signature == (st.st_mtime_ns, st.st_size):
            return None
        return read_conversation(path)

    def _write(self, conv: Conversation, *, index: bool = True) -> None:
        path = self.sav_dir / conv.slug / CONVERSATION_FILE
        with self._lock:
            disk = self._changed_outside(conv.slug, path)
            if disk is not None:  # edited by hand or by another copy of the app: keep those edits
                _merge(conv, disk, self._known.get(conv.slug))
                log.info("%s changed outside the app; its edits were kept and this change added", path)
            write_conversation(path, conv)
            st = path.stat()
            self._known[conv.slug] = _Saved.of(conv, st)
            if index:
                self.index.put(conv, st.st_mtime_ns, st.st_size)

    def save(self, conv: Conversation) -> None:
        """Write ``conv`` atomically (marking now as its last activity) and update the index."""
        conv.updated = _now()
        self._write(conv)

    # ------------------------------------------------------------------ rename, delete, search
    def rename(self, conv_or_slug: Conversation | str, title: str) -> Conversation:
        """Give a session a new title; its folder moves to the slug of that title."""
        conv = conv_or_slug if isinstance(conv_or_slug, Conversation) else self.load(conv_or_slug)
        new_title = clean_title(title) or conv.title
        with self._lock:
            old_dir = self.session_dir(conv)
            self._changed_outside(conv.slug, old_dir / CONVERSATION_FILE)  # a damaged file is not moved
            base = slugify(new_title, now=conv.created)
            if base != conv.slug:
                others = {name for name in os.listdir(self.sav_dir) if name != conv.slug}
                new_slug = unique_slug(base, others)
                try:
                    os.rename(old_dir, self.sav_dir / new_slug)
                except OSError as exc:
                    raise write_error(self.sav_dir / new_slug, exc) from exc
                self.index.remove(conv.slug)
                if conv.slug in self._known:
                    self._known[new_slug] = self._known.pop(conv.slug)
                self._move_log(conv.slug, new_slug)
                conv.slug = new_slug
            conv.title = new_title
            self.save(conv)
        return conv

    def _move_log(self, old: str, new: str) -> None:
        old_log = self.settings.logs_dir / f"{old}.log"
        if old_log.exists():
            try:
                os.replace(old_log, self.settings.logs_dir / f"{new}.log")
            except OSError as exc:
                log.warning("could not rename %s: %s", old_log, exc)

    def delete(self, name: str) -> None:
        """Remove a session folder (even a damaged one) and its log."""
        slug = name if self._is_folder(name) else self._resolve(name)
        folder = self.sav_dir / slug
        trash = self.sav_dir / f".deleted-{slug}-{secrets.token_hex(4)}"
        with self._lock:
            try:
                os.rename(folder, trash)  # atomic: the session vanishes at once even if removal is slow
            except FileNotFoundError:
                raise SessionNotFound(name) from None
            except OSError as exc:
                raise write_error(folder, exc) from exc
            shutil.rmtree(trash, ignore_errors=True)
            self.index.remove(slug)
            self._known.pop(slug, None)
            (self.settings.logs_dir / f"{slug}.log").unlink(missing_ok=True)

    def search(self, query: str, limit: int = 50) -> list[SearchHit]:
        """Sessions whose title or messages contain every word of ``query`` (FTS5), best first."""
        self.sync(force=False)
        return self.index.search(query, limit)

    # ------------------------------------------------------------------ messages
    def _attach(self, conv: Conversation, images: list[Path | bytes]) -> list[str]:
        folder = self.session_dir(conv) / "attachments"
        sources = []
        for image in images:
            if isinstance(image, bytes | bytearray):
                sources.append((bytes(image), f"image{_image_suffix(bytes(image))}"))
                continue
            path = Path(image)
            if not path.is_file():
                raise StorageError(
                    _("Cannot attach {path}: no such file. Check the path and send again.").format(path=path)
                )
            suffix = re.sub(r"[^a-z0-9]", "", path.suffix.lower())[:10]
            stem = slugify(path.stem) if any(ch.isalnum() for ch in path.stem) else "image"
            sources.append((path, f"{stem}.{suffix}" if suffix else stem))
        saved = []
        try:
            folder.mkdir(parents=True, exist_ok=True)
            taken = set(os.listdir(folder))
            for source, name in sources:
                stem, suffix = os.path.splitext(name)
                final = (
                    unique_slug(stem, {os.path.splitext(t)[0] for t in taken if t.endswith(suffix)}) + suffix
                )
                taken.add(final)
                if isinstance(source, bytes):
                    atomic_write(folder / final, source)
                else:
                    shutil.copyfile(source, folder / final)
                saved.append(f"attachments/{final}")
        except OSError as exc:
            raise write_error(folder, exc) from exc
        return saved

    def add_user_message(
        self, conv: Conversation, content: str, images: Sequence[Path | bytes] = ()
    ) -> Message:
        """Append the user's message and save it before returning (so it survives a failed request)."""
        msg = Message("user", content, _now(), images=self._attach(conv, list(images)) if images else [])
        conv.messages.append(msg)
        try:
            self.save(conv)
        except BaseException:
            conv.messages.remove(msg)
            raise
        return msg

    def add_user_version(self, conv: Conversation, index: int, content: str) -> Message:
        """Edit and resend: a new version of user message ``index`` with ``content`` and the same images; the
        old text and the replies that followed it are kept as its previous version (core.versions). Saved
        before returning; on failure ``conv`` is as it was."""
        if not 0 <= index < len(conv.messages) or conv.messages[index].role != "user":
            raise IAError(
                _("Message {number} is not a message of yours that can be edited.").format(number=index + 1)
            )
        before = list(conv.messages)
        old = conv.messages[index]
        place, others = old.version, old.versions
        msg = Message("user", content, _now(), images=list(old.images))
        conv.messages.append(versions.with_versions(msg, versions.detach(conv, index)))
        try:
            self.save(conv)
        except BaseException:
            conv.messages[:] = before
            old.version, old.versions = place, others
            raise
        return msg

    def switch_version(self, conv: Conversation, index: int, target: int) -> None:
        """Show version ``target`` (from 0) of message ``index`` and save that choice."""
        before = list(conv.messages)
        state = [(m, m.version, m.versions) for m in before]
        versions.switch(conv, index, target)
        try:
            self.save(conv)
        except BaseException:
            conv.messages[:] = before
            for m, place, others in state:
                m.version, m.versions = place, others
            raise

    def start_reply(self, conv: Conversation, model: str, *, new_version: bool = False) -> ReplyWriter:
        """A writer for the assistant's reply, already on disk with status 'streaming'.

        ``new_version``: the reply replaces the last reply (regenerate), which is kept as a previous version."""
        return ReplyWriter(self, conv, model, new_version=new_version)

    def drop_last_reply(self, conv: Conversation) -> Message | None:
        """Remove the last assistant message (to regenerate it); None when the last message is not one."""
        if not conv.messages or conv.messages[-1].role != "assistant":
            return None
        dropped = conv.messages.pop()
        try:
            self.save(conv)
        except BaseException:
            conv.messages.append(dropped)
            raise
        return dropped

    def context_messages(
        self, conv: Conversation, exchanges: int | None = None, *, max_tokens: int | None = None
    ) -> list[dict[str, Any]]:
        """System prompt + the last ``exchanges`` user/assistant exchanges + the pending user message.

        ``max_tokens`` (estimated from characters) drops the oldest exchanges first; the system prompt and
        the pending message are always kept. Images become absolute paths.
        """
        keep = self.settings.context_exchanges if exchanges is None else exchanges
        folder = self.session_dir(conv).resolve()
        history = [m for m in conv.messages if m.role != "system"]
        while (
            history
            and history[-1].role == "assistant"
            and (history[-1].status == "streaming" or not history[-1].content)
        ):
            history.pop()  # the reply being written now is not context
        groups: list[list[dict[str, Any]]] = []
        for msg in history:
            if msg.role == "assistant" and not msg.content:
                continue
            item: dict[str, Any] = {"role": msg.role, "content": msg.content}
            if msg.images:
                item["images"] = [str(folder / image) for image in msg.images]
            if msg.role == "user" or not groups:
                groups.append([item])
            else:
                groups[-1].append(item)
        pending: list[dict[str, Any]] = []
        if groups and groups[-1][-1]["role"] == "user" and len(groups[-1]) == 1:
            pending = groups.pop()
        groups = groups[-keep:] if keep > 0 else []
        system = [{"role": "system", "content": conv.system_prompt}] if conv.system_prompt else []
        if max_tokens is not None:
            fixed = sum(_estimate_tokens(m) for m in system + pending)
            while groups and fixed + sum(_estimate_tokens(m) for g in groups for m in g) > max_tokens:
                groups.pop(0)
        return system + [m for g in groups for m in g] + pending

    # ------------------------------------------------------------------ files of a session
    def code_files(self, conv: Conversation) -> list[Path]:
        """The session's code_<n>.<ext> files in numeric order."""
        folder = self.session_dir(conv)
        found = []
        try:
            for entry in os.scandir(folder):
                match = _CODE_FILE.fullmatch(entry.name)
                if match and entry.is_file():
                    found.append((int(match.group(1)), Path(entry.path)))
        except FileNotFoundError:
            return []
        return [path for _key, path in sorted(found)]

    def save_code_blocks(self, conv: Conversation, text: str) -> list[Path]:
        """Write each fenced block of ``text`` to code_<n>.<ext>, numbering after the files already there."""
        folder = self.session_dir(conv)
        existing = self.code_files(conv)
        start = int(_CODE_FILE.fullmatch(existing[-1].name).group(1)) if existing else 0  # type: ignore[union-attr]
        paths = []
        for block in extract_code_blocks(text):
            path = folder / f"code_{start + block.index}{extension_for(block.lang)}"
            atomic_write(path, block.code.encode("utf-8"))
            paths.append(path)
        return paths

    def export(self, name: str, fmt: str, path: Path) -> Path:
        """Write a session as clean Markdown ("md"), JSON with its images ("json") or a standalone web page
        ("html"); ``path`` may be a folder (the file is then named after the slug). Returns the file written."""
        from core.export import FORMATS, export_text

        if fmt not in FORMATS:
            raise StorageError(
                _("Unknown export format '{format}': use one of {choices}.").format(
                    format=fmt, choices=", ".join(FORMATS)
                )
            )
        conv = self.load(name)
        target = path / f"{conv.slug}.{fmt}" if path.is_dir() else path
        text = export_text(conv, fmt, self.session_dir(conv), target)
        atomic_write(target, text.encode("utf-8"))
        return target

    # ------------------------------------------------------------------ import
    def import_file(self, path: Path) -> ImportResult:
        """Add the conversations of an export (IA_V3 JSON, Open WebUI, ChatGPT conversations.json or its .zip),
        each titled and dated from the file, searchable at once. All or nothing: a file that cannot be imported,
        or a failure while writing (full disk, read-only folder), raises ImportRefused and leaves nothing."""
        from core.importers import ImportResult, read_export

        parsed = read_export(Path(path))
        written = self._add_imported(Path(path), parsed.conversations)
        log.info("imported %d conversations from %s (%s)", len(written), path, parsed.source)
        return ImportResult(Path(path), parsed.source, written, parsed.skipped, parsed.notes)

    def _add_imported(self, source: Path, items: Sequence[ImportedConversation]) -> list[Conversation]:
        """Write each conversation complete into a hidden staging folder of sav/ (which lists and the index
        ignore), claim a fresh folder for each, then move them in; any failure takes back every folder claimed
        or filled, so a conversation is either absent or complete, and an import all or nothing."""
        stage = self.sav_dir / f"{_IMPORT_PREFIX}{secrets.token_hex(6)}"
        claimed: list[tuple[Path, Conversation]] = []
        files = 0
        with self._lock:
            try:
                self.sav_dir.mkdir(parents=True, exist_ok=True)
                _remove_stale_imports(self.sav_dir)
                stage.mkdir()
                for number, item in enumerate(items):
                    folder = stage / str(number)
                    folder.mkdir()
                    for name, data in item.attachments.items():
                        atomic_write(folder / name, data)
                        files += 1
                    write_conversation(folder / CONVERSATION_FILE, item.conversation)
                    files += 1
                taken = set(os.listdir(self.sav_dir))
                for item in items:  # every folder claimed (empty: not yet a session) before any is filled
                    conv = item.conversation
                    claimed.append(
                        (self._claim(slugify(clean_title(conv.title), now=conv.created), taken), conv)
                    )
                for number, (target, conv) in enumerate(claimed):
                    _move_into(stage / str(number), target)
                    conv.slug = target.name
            except (OSError, StorageError) as exc:
                log.warning(
                    "import of %s failed after %d files were written and %d of %d folders claimed in sav/ (%s); "
                    "taking everything back",
                    source,
                    files,
                    len(claimed),
                    len(items),
                    exc,
                )
                self._take_back(claimed)
                shutil.rmtree(stage, ignore_errors=True)
                if isinstance(exc, StorageWriteError):
                    reason = exc.reason
                elif isinstance(exc, OSError):
                    reason = write_error(Path(exc.filename or self.sav_dir), exc).reason
                else:
                    reason = str(exc)
                raise ImportRefused(
                    source,
                    _("writing into {path} failed ({reason})").format(path=self.sav_dir, reason=reason),
                    _("free some disk space or fix the folder's permissions, then import again"),
                ) from exc
            shutil.rmtree(stage, ignore_errors=True)
            for target, conv in claimed:
                st = (target / CONVERSATION_FILE).stat()
                self._known[conv.slug] = _Saved.of(conv, st)
                self.index.put(conv, st.st_mtime_ns, st.st_size)
        return [conv for _target, conv in claimed]

    def _claim(self, base: str, taken: set[str]) -> Path:
        """An empty folder sav/<slug> made for an imported conversation (mkdir is the claim, as in create)."""
        while True:
            slug = unique_slug(base, taken)
            taken.add(slug)
            try:
                (self.sav_dir / slug).mkdir()
                return self.sav_dir / slug
            except FileExistsError:  # made meanwhile by another process
                continue

    def _take_back(self, claimed: list[tuple[Path, Conversation]]) -> None:
        """Remove the folders an import claimed (or filled) before it failed."""
        for target, conv in reversed(claimed):
            trash = self.sav_dir / f".deleted-{target.name}-{secrets.token_hex(4)}"
            try:
                os.rename(target, trash)
            except OSError as exc:
                log.warning("could not take back %s after a failed import: %s", target, exc)
                continue
            shutil.rmtree(trash, ignore_errors=True)
            conv.slug = ""


def _move_into(folder: Path, target: Path) -> None:
    """Move a staged conversation onto the empty folder claimed for it (replacing it atomically on POSIX)."""
    if os.name == "nt":  # Windows cannot rename onto an existing folder, even an empty one
        os.rmdir(target)
        os.rename(folder, target)
    else:
        os.rename(folder, target)


def _remove_stale_imports(sav_dir: Path, age_s: float = 3600.0) -> None:
    """Staging folders left by an import that crashed (a live import finishes well within ``age_s``)."""
    limit = time.time() - age_s
    try:
        entries = list(os.scandir(sav_dir))
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(_IMPORT_PREFIX):
            try:
                if entry.stat().st_mtime < limit:
                    shutil.rmtree(entry.path, ignore_errors=True)
            except OSError:
                pass


class ReplyWriter:
    """Builds the assistant's reply as it streams: on disk at most every ``save_throttle_s`` (and within that
    time of the last delta), so a killed process leaves the partial reply, which loads as interrupted."""

    def __init__(
        self, manager: SessionManager, conv: Conversation, model: str, *, new_version: bool = False
    ) -> None:
        self.manager = manager
        self.conv = conv
        self.message = Message("assistant", "", _now(), model=model, status="streaming")
        self.save_error: StorageError | None = None
        self._throttle = max(0.0, float(manager.settings.save_throttle_s))
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._dirty = False
        self._closed = False
        before = list(conv.messages)
        last = before[-1] if before else None
        state = (last.version, last.versions) if last is not None else (0, [])
        if new_version:
            versions.with_versions(self.message, versions.keep_reply_as_version(conv))
        conv.messages.append(self.message)
        try:
            manager.save(conv)
        except BaseException:
            conv.messages[:] = before
            if last is not None:
                last.version, last.versions = state
            raise
        self._last_save = time.monotonic()

    def append(self, text: str) -> None:
        """Add a piece of the reply."""
        with self._lock:
            self.message.content += text
            self._changed()

    def append_thinking(self, text: str) -> None:
        """Add a piece of the model's thinking."""
        with self._lock:
            self.message.thinking += text
            self._changed()

    def _changed(self) -> None:
        if self._closed:
            return
        self._dirty = True
        wait = self._throttle - (time.monotonic() - self._last_save)
        if wait <= 0:
            self._flush()
        elif self._timer is None:
            self._timer = threading.Timer(wait, self._on_timer)
            self._timer.daemon = True
            self._timer.start()

    def _on_timer(self) -> None:
        with self._lock:
            self._timer = None
            if self._dirty and not self._closed:
                self._flush()

    def _flush(self) -> None:
        try:
            self.conv.updated = _now()
            self.manager._write(self.conv, index=False)  # the index catches up at finish (or on next sync)
            self.save_error = None
        except StorageError as exc:  # keep streaming; the text is in memory and finish() reports the failure
            self.save_error = exc
            log.warning("partial reply not saved: %s", exc)
        self._dirty = False
        self._last_save = time.monotonic()

    def _close(self) -> None:
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def finish(self, stats: _HasToDict | None) -> list[Path]:
        """Final save with the stream's stats; code blocks are written to files, whose paths are returned."""
        with self._lock:
            self._close()
            self.message.status = "complete"
            self.message.stats = stats.to_dict() if stats is not None else None
            self.manager.save(self.conv)
            return self.manager.save_code_blocks(self.conv, self.message.content)

    def fail(self, error: str, *, interrupted: bool = True) -> None:
        """Final save of a reply that did not complete; the partial text is kept."""
        with self._lock:
            self._close()
            self.message.status = "interrupted" if interrupted else "error"
            self.message.error = error
            self.manager.save(self.conv)
