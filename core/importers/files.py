"""Reading an export from disk: a .json file, ChatGPT's .zip, or the folder it was unzipped into; the size
limit; JSON that is cut short, not JSON at all, or not UTF-8; the image files beside a ChatGPT export."""

from __future__ import annotations

import json
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import ImportRefused
from core.i18n import _, format_number, ngettext
from core.importers.detect import parse_export
from core.importers.records import _MAX_ASSET_BYTES, MAX_IMPORT_BYTES, WHAT_WE_READ, ParsedExport

__all__ = ["Assets", "read_export"]


def read_export(path: Path, *, max_bytes: int = MAX_IMPORT_BYTES) -> ParsedExport:
    """The conversations in the export at ``path`` (a .json file, a ChatGPT .zip, or a folder holding a
    conversations.json); ImportRefused when none can be imported."""
    path = Path(path)
    try:
        if path.is_dir():
            inner = path / "conversations.json"
            if not inner.is_file():
                raise ImportRefused(path, _("it is a folder"), _(WHAT_WE_READ))
            return _read_file(inner, max_bytes, _FolderAssets(path))
        return _read_file(path, max_bytes, None)
    except FileNotFoundError:
        raise ImportRefused(path, _("there is no such file"), _("check the path")) from None
    except PermissionError:
        raise ImportRefused(
            path, _("it cannot be read (permission denied)"), _("check the file's permissions")
        ) from None
    except IsADirectoryError:
        raise ImportRefused(path, _("it is a folder"), _(WHAT_WE_READ)) from None
    except OSError as exc:
        raise ImportRefused(
            path, _("it cannot be read ({error})").format(error=exc.strerror or exc)
        ) from None


def _too_big(path: Path, size: int, max_bytes: int) -> ImportRefused:
    return ImportRefused(
        path,
        _("it is {size}, more than the {limit} an import reads at once").format(
            size=_size(size), limit=_size(max_bytes)
        ),
        _("export fewer conversations at a time (Open WebUI exports one chat from its menu)"),
    )


def _size(n: int) -> str:
    """A size in whole binary units (MiB, KiB, bytes), named in the interface's language."""
    if n >= 2**20:
        return _("{size} MB").format(size=format_number(round(n / 2**20)))
    if n >= 1024:
        return _("{size} KB").format(size=format_number(round(n / 1024)))
    return ngettext("{size} byte", "{size} bytes", n).format(size=format_number(n))


def _read_file(path: Path, max_bytes: int, assets: Assets | None) -> ParsedExport:
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        head = handle.read(4)
        if head == b"PK\x03\x04":
            return _read_zip(path, max_bytes)
        if size > max_bytes:
            raise _too_big(path, size, max_bytes)
        data = head + handle.read(max_bytes + 1 - len(head))
    if len(data) > max_bytes:  # grew while being read
        raise _too_big(path, len(data), max_bytes)
    return parse_export(_decode_json(path, data), name=path, assets=assets or _FolderAssets(path.parent))


def _read_zip(path: Path, max_bytes: int) -> ParsedExport:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImportRefused(path, _("it is a damaged .zip file ({error})").format(error=exc)) from None
    with archive:
        candidates = [
            info
            for info in archive.infolist()
            if info.filename.rsplit("/", 1)[-1] == "conversations.json" and not info.is_dir()
        ]
        if not candidates:
            raise ImportRefused(path, _("this .zip holds no conversations.json"), _(WHAT_WE_READ))
        info = min(candidates, key=lambda i: i.filename.count("/"))
        if info.file_size > max_bytes:
            raise _too_big(path, info.file_size, max_bytes)
        try:
            with archive.open(info) as member:
                data = member.read(max_bytes + 1)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise ImportRefused(
                path, _("conversations.json in it cannot be read ({error})").format(error=exc)
            ) from None
        if len(data) > max_bytes:
            raise _too_big(path, len(data), max_bytes)
        return parse_export(_decode_json(path, data), name=path, assets=_ZipAssets(archive))


def _decode_json(path: Path, data: bytes) -> Any:
    if not data.strip():
        raise ImportRefused(path, _("it is empty"), _(WHAT_WE_READ))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRefused(
            path,
            _("it is not a text file in UTF-8 (bad byte at offset {offset})").format(offset=exc.start),
            _(WHAT_WE_READ),
        ) from None
    stripped = text.lstrip()
    if stripped[:1] not in ("{", "["):
        shown = " ".join(stripped[:30].split())
        raise ImportRefused(
            path, _("it is not JSON (it starts with '{start}')").format(start=shown), _(WHAT_WE_READ)
        )
    try:
        return json.loads(text)
    except RecursionError:
        raise ImportRefused(path, _("its JSON is nested too deeply to be a conversation export")) from None
    except json.JSONDecodeError as exc:
        if _cut_short(text):
            raise ImportRefused(
                path,
                _("its JSON stops at line {line} before it is complete: the file is cut short").format(
                    line=exc.lineno
                ),
                _("export it again, or download it again"),
            ) from None
        raise ImportRefused(
            path,
            _("it is not valid JSON (line {line}, column {column}: {error})").format(
                line=exc.lineno, column=exc.colno, error=exc.msg
            ),
            _(WHAT_WE_READ),
        ) from None


class Assets:
    """Files beside conversations.json in a ChatGPT export: images named after their file id."""

    def names(self) -> dict[str, Callable[[], bytes]]:
        raise NotImplementedError

    def find(self, pointer: str) -> tuple[str, bytes] | None:
        """(file name, bytes) of the file an ``asset_pointer`` (file-service://file-… or sediment://file_…)
        names, or None when the export does not hold it."""
        ident = pointer.split("://", 1)[-1].strip()
        if not ident:
            return None
        pattern = re.compile(rf"{re.escape(ident)}(?![A-Za-z0-9])")
        for name, read in sorted(self.names().items()):
            if pattern.match(name):
                shown = name[len(ident) :].lstrip("-_") or name  # file-AbC123-photo.png -> photo.png
                try:
                    return shown, read()
                except (OSError, zipfile.BadZipFile, ValueError, EOFError):
                    return None
        return None


class _FolderAssets(Assets):
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._names: dict[str, Callable[[], bytes]] | None = None

    def names(self) -> dict[str, Callable[[], bytes]]:
        if self._names is None:  # listed on first use: most exports have no images
            found: dict[str, Callable[[], bytes]] = {}
            for entry in self._scan(self.folder):
                if entry.is_dir():
                    for inner in self._scan(Path(entry.path)):
                        found.setdefault(inner.name, _reader(Path(inner.path)))
                else:
                    found.setdefault(entry.name, _reader(Path(entry.path)))
            self._names = found
        return self._names

    @staticmethod
    def _scan(folder: Path) -> list[os.DirEntry[str]]:
        try:
            return [e for e in os.scandir(folder) if e.name.startswith("file")]
        except OSError:
            return []


def _reader(path: Path) -> Callable[[], bytes]:
    def read() -> bytes:
        if path.stat().st_size > _MAX_ASSET_BYTES:
            raise ValueError("too large")
        return path.read_bytes()

    return read


class _ZipAssets(Assets):
    def __init__(self, archive: zipfile.ZipFile) -> None:
        self.archive = archive
        self._names: dict[str, Callable[[], bytes]] | None = None

    def names(self) -> dict[str, Callable[[], bytes]]:
        if self._names is None:
            found: dict[str, Callable[[], bytes]] = {}
            for info in self.archive.infolist():
                name = info.filename.rsplit("/", 1)[-1]
                if name.startswith("file") and not info.is_dir():
                    found.setdefault(name, self._reader(info))
            self._names = found
        return self._names

    def _reader(self, info: zipfile.ZipInfo) -> Callable[[], bytes]:
        def read() -> bytes:
            if info.file_size > _MAX_ASSET_BYTES:
                raise ValueError("too large")
            with self.archive.open(info) as member:
                return member.read(_MAX_ASSET_BYTES + 1)

        return read


# A string (its closing quote captured when there is one) or a bracket: enough to tell a cut-short document.
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*(")?|[\[\]{}]')


def _cut_short(text: str) -> bool:
    """True when ``text`` stops inside a string or with brackets still open: a file cut short, not a broken one."""
    depth = 0
    for match in _JSON_TOKENS.finditer(text):
        token = match.group()
        if token[0] == '"':
            if match.group(1) is None:
                return True
        elif token in "[{":
            depth += 1
        else:
            depth -= 1
    return depth > 0
