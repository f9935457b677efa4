"""File writes that never lose what was saved: atomic replacement of a whole file, and appends of whole lines.

    atomic_write(path, data) -> Path              replace ``path`` by ``data`` (bytes, or str written as UTF-8)
    append_lines(path, text, *, sync=False)       add lines at the end of a log or JSONL file
    write_error(path, exc) -> StorageWriteError   an OSError in plain words
    sync_folder(folder)                           make a rename or a new file in ``folder`` durable

Every file IA_V3 rewrites (conversation.md, config.toml, profiles, benchmark records, the embedded backend's
model cache, preset Modelfiles) goes through ``atomic_write``; every file it adds records to (session logs,
DEV records, benchmark samples) through ``append_lines``. The guarantees:

- ``atomic_write``: the data goes to a temporary file in the same folder (``.NAME.PID.RANDOM.tmp``), written
  whole and fsynced, then renamed over ``path`` (an atomic replacement on POSIX and Windows), then the folder
  is fsynced so that the rename itself survives a power cut. A reader sees the old file or the new one,
  never a mix. A crash at any point leaves the old file intact (and at worst a temporary file, which
  core.session_manager sweeps from session folders); a failed write (disk full, permission denied) removes
  its temporary file, leaves the old file as it was and raises StorageWriteError. The new file keeps the old
  one's permission bits.
- ``append_lines``: the file is opened in append mode and the text written with one ``write()`` (a loop only
  if the kernel writes part of it), so appenders in other threads or processes never land inside a line. A
  last line left without its line break (a crash cut it) is ended first, so the new record starts on a line
  of its own and only the cut one is lost; appenders hold an exclusive ``flock`` meanwhile (POSIX), so one
  never mistakes another's write in progress for a cut line. With ``sync=True`` the data is fsynced before
  returning (and the folder too when the file is new).
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from pathlib import Path

from core.errors import StorageWriteError
from core.i18n import N_, _

try:
    import fcntl
except ImportError:  # Windows: appends are not locked (a rare blank line, which every reader skips)
    fcntl = None  # type: ignore[assignment]

__all__ = ["append_lines", "atomic_write", "english_reason", "sync_folder", "temp_name", "write_error"]

# What a failed write means in plain words (translated where the error is made).
_REASONS = {
    errno.ENOSPC: N_("the disk is full"),
    errno.EDQUOT: N_("the disk quota is exceeded"),
    errno.EFBIG: N_("the file is larger than this system allows"),
    errno.EACCES: N_("permission denied"),
    errno.EPERM: N_("permission denied"),
    errno.EROFS: N_("the file system is read-only"),
    errno.ENOTDIR: N_("a part of the path is a file, not a folder"),
    errno.EISDIR: N_("it is a folder"),
}
_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation


def write_error(path: Path | str, exc: OSError) -> StorageWriteError:
    """A StorageWriteError for ``path`` whose reason says what ``exc`` means in plain words, in the interface's
    language."""
    known = _REASONS.get(exc.errno or 0)
    return StorageWriteError(Path(path), _(known) if known else exc.strerror or str(exc))


def english_reason(exc: OSError) -> str:
    """What ``exc`` means in plain English words, whatever the interface's language: for texts other programs
    read (the embedded server's answers follow Ollama's API, in English)."""
    return _REASONS.get(exc.errno or 0) or exc.strerror or str(exc)


def temp_name(path: Path) -> Path:
    """A fresh temporary file name beside ``path``: ``.NAME.PID.RANDOM.tmp`` (hidden, never a real name)."""
    return path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"


def sync_folder(folder: Path | str) -> None:
    """fsync a folder, so that files created or renamed in it stay after a power cut. Best effort: Windows
    cannot open a folder (its renames are durable enough) and some file systems refuse; both are ignored."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # the folder's own name is taken by a file
        raise OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(folder)) from None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def atomic_write(path: Path | str, data: bytes | str) -> Path:
    """Replace ``path`` by ``data`` atomically and durably (see the module docstring); returns ``path``.
    A str is written as UTF-8. StorageWriteError when it cannot be written; the old file is then intact."""
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = temp_name(path)
    try:
        _make_folder(path.parent)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o644)
        try:
            try:
                mode = stat.S_IMODE(os.stat(path).st_mode)
            except OSError:
                mode = None  # a new file: the default mode (umask applies)
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            _write_all(fd, payload)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            tmp.unlink()
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise write_error(path, exc) from exc
        raise
    sync_folder(path.parent)
    return path


def append_lines(path: Path | str, text: bytes | str, *, sync: bool = False) -> None:
    """Append ``text`` (one or more lines; a final line break is added when missing) at the end of ``path``,
    created if needed (see the module docstring). StorageWriteError when it cannot be written."""
    path = Path(path)
    payload = text.encode("utf-8") if isinstance(text, str) else text
    if not payload.endswith(b"\n"):
        payload += b"\n"
    try:
        _make_folder(path.parent)
        new = not path.exists()
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND | _BINARY, 0o644)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)  # released when the file is closed
            if os.fstat(fd).st_size:
                os.lseek(fd, -1, os.SEEK_END)
                if os.read(fd, 1) != b"\n":  # a crash cut the last line: end it, keep the new one whole
                    payload = b"\n" + payload
            _write_all(fd, payload)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise write_error(path, exc) from exc
    if sync and new:
        sync_folder(path.parent)
