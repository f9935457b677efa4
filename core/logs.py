"""Logs: a readable per-conversation log (``logs/<slug>.log``) and the app's rotating technical log."""

from __future__ import annotations

import logging
import sys
import threading
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from typing import TYPE_CHECKING, Any

from core.fileio import append_lines, write_error
from core.i18n import _
from core.slugs import is_folder_name

if TYPE_CHECKING:
    from config import Settings

__all__ = ["TECHNICAL_LOG", "SessionLog", "setup_technical_log"]

TECHNICAL_LOG = "technical.log"
_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"


class _TechnicalLogFile(RotatingFileHandler):
    """The technical log's file. When a record cannot be written (the disk filled up, the folder became
    read-only) the log says so once, as the sentence a person reads on stderr, and drops records from then on,
    instead of logging's "--- Logging error ---" traceback for every record."""

    disabled_by: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self.disabled_by is None:
            super().emit(record)

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        exc = sys.exc_info()[1]
        if not isinstance(exc, OSError):
            super().handleError(record)
            return
        if self.disabled_by is None:
            self.disabled_by = str(write_error(self.baseFilename, exc))
            try:
                sys.stderr.write(_("technical log disabled: {reason}").format(reason=self.disabled_by) + "\n")
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
        self.close()  # what is still buffered cannot be written either

    def close(self) -> None:
        try:
            super().close()
        except OSError:  # the final flush of a full disk
            pass


def setup_technical_log(
    settings: Settings, *, level: int = logging.INFO, max_bytes: int = 2_000_000, backups: int = 3
) -> logging.Logger:
    """Send every logger's records to ``logs/technical.log`` (rotating); calling it again replaces the handler.

    When the folder cannot be written, records go to stderr (warnings and above) and the app keeps going; when
    writing fails later (disk full), one sentence on stderr says so and records are dropped.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if getattr(h, "_ia_technical", False)]:
        root.removeHandler(handler)
        handler.close()
    path = settings.logs_dir / TECHNICAL_LOG
    handler: logging.Handler
    try:
        settings.logs_dir.mkdir(parents=True, exist_ok=True)
        handler = _TechnicalLogFile(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        handler.setLevel(level)
        handler.setFormatter(logging.Formatter(_FORMAT))
        problem = None
    except OSError as exc:
        handler = logging.StreamHandler(sys.stderr)
        handler.setLevel(logging.WARNING)
        handler.setFormatter(logging.Formatter("%(message)s"))  # read by a person: sentences, no log prefix
        problem = write_error(path, exc)
    handler._ia_technical = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    logger = logging.getLogger("ia")
    if problem:
        logger.warning("technical log disabled: %s", problem)
    return logger


class SessionLog:
    """Appends one readable entry per message to ``logs/<slug>.log``: time, role, model, then the text."""

    _lock = threading.Lock()

    def __init__(self, settings: Settings, slug: str) -> None:
        if not is_folder_name(slug):
            raise ValueError(f"not a session slug: {slug!r}")
        self.path = settings.logs_dir / f"{slug}.log"

    @staticmethod
    def format(role: str, text: str, when: datetime | None = None, **extra: Any) -> str:
        """One entry: a header line, then the text indented by four spaces (blank lines kept)."""
        stamp = (when or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        details = " ".join(f"{k}={' '.join(str(v).split())}" for k, v in extra.items() if v is not None)
        header = f"{stamp} [{role}]" + (f" {details}" if details else "")
        body = "\n".join(f"    {line}".rstrip() for line in text.replace("\r\n", "\n").split("\n"))
        return f"{header}\n{body}\n"

    def write(self, role: str, text: str, **extra: Any) -> None:
        """Append an entry (``extra`` such as model=..., status=... goes on the header line)."""
        entry = self.format(role, text, **extra)
        with self._lock:
            append_lines(self.path, entry)  # StorageWriteError when logs/ cannot be written
