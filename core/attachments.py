"""Text and code files attached to a message: read with a size limit, written into the message as a fenced
block named after the file, and found again in a message's text.

An attached file becomes part of the message's content (the model reads it like the rest of the message, and
conversation.md keeps it byte for byte like any content)::

    File: notes.py
    ````python file="notes.py"
    ...the file's text...
    ````

The line above the fence names the file for people reading the Markdown; the fence's info string carries the
language (for highlighting) and the name as a JSON string. The fence is made of one more backtick than the
longest run of backticks in the file (at least three), so nothing in the file can close it; a file whose name
holds a backtick gets a fence of tildes instead (CommonMark forbids backticks in a backtick fence's info).

    read_attachment(path, max_bytes=MAX_FILE_BYTES) -> Attachment     # AttachmentRefused says why not
    file_block(name, text) -> str                                     # the block above
    split_attachments(content) -> list[str | Attachment]              # text pieces and files, in order
    message_with_files(text, files) -> str                            # typed text, then each file's block
    summary(content) -> str           # the text without the files' content, else their names (for titles)
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from core.i18n import _, format_decimal, format_number, ngettext

__all__ = [
    "MAX_FILE_BYTES",
    "Attachment",
    "AttachmentRefused",
    "describe_size",
    "file_block",
    "language_for",
    "message_with_files",
    "read_attachment",
    "split_attachments",
    "summary",
]

MAX_FILE_BYTES = 100 * 1024  # the default limit of one attached file (the app's LIMITS["file_max_bytes"])

_OPENER = re.compile(r"(?P<fence>`{3,}|~{3,})(?P<lang>[^\s`~\"]*) file=(?P<name>\"(?:[^\"\\]|\\.)*\")[ \t]*")


class AttachmentRefused(ValueError):
    """A file that cannot be attached; the message says which file and why, in words a person can act on."""


@dataclass(frozen=True)
class Attachment:
    """An attached text file: its name (no folder), the language its name suggests ("" when none) and its text
    (line ends as "\\n")."""

    name: str
    lang: str
    text: str

    @property
    def lines(self) -> int:
        """Number of lines (a last line without a line end counts)."""
        if not self.text:
            return 0
        return self.text.count("\n") + (0 if self.text.endswith("\n") else 1)

    @property
    def size(self) -> int:
        return len(self.text.encode("utf-8"))

    @property
    def label(self) -> str:
        """What a chip or a collapsed block shows: "notes.py · 42 lines" (in the interface's language)."""
        count = ngettext("{count} line", "{count} lines", self.lines).format(count=format_number(self.lines))
        return f"{self.name} · {count}"


def describe_size(n: int) -> str:
    """A size for people: "812 bytes", "97.7 KB", "2.4 MB" (French: "812 octets", "97,7 ko", "2,4 Mo")."""
    if n < 1024:
        return ngettext("{size} byte", "{size} bytes", n).format(size=format_number(n))
    if n < 1024 * 1024:
        return _("{size} KB").format(size=format_decimal(n / 1024, 1))
    return _("{size} MB").format(size=format_decimal(n / (1024 * 1024), 1))


@lru_cache(maxsize=256)
def language_for(name: str) -> str:
    """The language a file name suggests, as a Pygments alias ("python", "json", "bash"), "" when unknown."""
    try:
        from pygments.lexers import get_lexer_for_filename
        from pygments.util import ClassNotFound
    except ImportError:
        return ""
    try:
        lexer = get_lexer_for_filename(name)
    except ClassNotFound:
        return ""
    aliases = getattr(lexer, "aliases", None) or [""]
    return "" if aliases[0] == "text" else str(aliases[0])


def read_attachment(path: Path | str, max_bytes: int = MAX_FILE_BYTES) -> Attachment:
    """The text file at ``path`` as an Attachment; AttachmentRefused when it is missing, a folder, larger than
    ``max_bytes``, unreadable, binary or not UTF-8. A UTF-8 byte order mark is dropped, "\\r\\n" becomes "\\n"."""
    path = Path(path).expanduser()
    name = path.name or str(path)
    if path.is_dir():
        raise AttachmentRefused(
            _("Cannot attach {name}: it is a folder (attach the files in it one by one).").format(name=name)
        )
    if not path.exists():
        raise AttachmentRefused(_("Cannot attach {name}: the file does not exist.").format(name=name))
    if not path.is_file():
        raise AttachmentRefused(_("Cannot attach {name}: it is not a regular file.").format(name=name))
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise AttachmentRefused(
            _("Cannot attach {name}: it cannot be read ({error}).").format(
                name=name, error=exc.strerror or exc
            )
        ) from None
    if len(data) > max_bytes:
        try:
            size = describe_size(path.stat().st_size)
        except OSError:
            size = _("more than {size}").format(size=describe_size(max_bytes))
        raise AttachmentRefused(
            _("Cannot attach {name}: it is too big ({size}; the limit is {limit}).").format(
                name=name, size=size, limit=describe_size(max_bytes)
            )
        )
    if b"\x00" in data:
        raise AttachmentRefused(_("Cannot attach {name}: it is a binary file, not text.").format(name=name))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise AttachmentRefused(_("Cannot attach {name}: it is not UTF-8 text.").format(name=name)) from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n")
    return Attachment(name=name, lang=language_for(name), text=text)


def _longest_run(text: str, char: str) -> int:
    runs = re.findall(re.escape(char) + "+", text)
    return max((len(r) for r in runs), default=0)


def _header_name(name: str) -> str:
    """The name on the "File:" line: control characters (a newline in a name) shown as "?"."""
    return "".join("?" if ord(c) < 32 or ord(c) == 127 else c for c in name)


def file_block(name: str, text: str, lang: str | None = None) -> str:
    """The fenced block that carries file ``name`` holding ``text`` in a message (no trailing newline)."""
    char = "~" if "`" in name else "`"
    fence = char * max(3, _longest_run(text, char) + 1)
    lang = language_for(name) if lang is None else lang
    # JSON keeps the name on one line; "`" never occurs in a backtick fence's info string.
    quoted = json.dumps(name, ensure_ascii=False)
    body = text if not text or text.endswith("\n") else text + "\n"
    return f"File: {_header_name(name)}\n{fence}{lang} file={quoted}\n{body}{fence}"  # i18n: message format


def message_with_files(text: str, files: list[Attachment]) -> str:
    """The message content: what was typed (when anything), then each file's block, a blank line between."""
    parts = [text] if text.strip() else []
    parts.extend(file_block(f.name, f.text, f.lang) for f in files)
    return "\n\n".join(parts)


def split_attachments(content: str) -> list[str | Attachment]:
    """``content`` cut into its text pieces (str, blank lines around a file removed, empty pieces left out)
    and the files attached in it (Attachment), in order. Text without attached files is one piece."""
    if "file=" not in content:
        return [content] if content else []
    lines = content.split("\n")
    out: list[str | Attachment] = []
    text_start = 0
    i = 0
    while i < len(lines) - 1:
        found = _attachment_at(lines, i)
        if found is None:
            i += 1
            continue
        attachment, end = found
        piece = "\n".join(lines[text_start:i]).strip("\n")
        if piece:
            out.append(piece)
        out.append(attachment)
        text_start = i = end + 1
    piece = "\n".join(lines[text_start:]).strip("\n")
    if piece:
        out.append(piece)
    return out


def _attachment_at(lines: list[str], i: int) -> tuple[Attachment, int] | None:
    """The attachment whose "File:" line is lines[i], and the index of its closing fence line; else None."""
    if not lines[i].startswith("File: "):  # i18n: message format
        return None
    opener = _OPENER.fullmatch(lines[i + 1])
    if opener is None:
        return None
    try:
        name = json.loads(opener.group("name"))
    except ValueError:
        return None
    if not isinstance(name, str) or lines[i][6:] != _header_name(name):
        return None
    fence = opener.group("fence")
    for j in range(i + 2, len(lines)):
        line = lines[j].rstrip(" \t")
        if len(line) >= len(fence) and line == fence[0] * len(line):
            text = "\n".join(lines[i + 2 : j])
            return Attachment(name=name, lang=opener.group("lang"), text=text + "\n" if j > i + 2 else ""), j
    return None


def summary(content: str) -> str:
    """What a message says without its attached files' content (a title is made of it): its text pieces, or the
    files' names when it holds only files."""
    parts = split_attachments(content)
    text = "\n\n".join(p for p in parts if isinstance(p, str))
    return text if text.strip() else ", ".join(p.name for p in parts if isinstance(p, Attachment))
