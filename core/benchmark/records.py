"""The benchmark's JSON and text files, written so that no character can break them and read line by line.

Public API:
    dumps(value, *, indent=None) -> str
        JSON text that keeps readable text readable (no ``\\uXXXX`` for é or 中) while every character that
        could not be written as UTF-8 is escaped: lone surrogates (from a reply, or invalid UTF-8 read in) as
        ``\\udXXX`` (JSON itself escapes NUL and the other control characters). Reading it back gives the same
        strings.
    write_json(path, value)                      # atomic and durable (core.fileio.atomic_write), indented
    write_lines(path, records, *, tail=())       # atomic JSONL (gzipped when the name ends in .gz); ``tail``:
                                                 # raw lines kept as they were (malformed lines, never lost)
    read_rows(path) -> list[dict | Malformed]    # every non-blank line, in order
    read_numbered(path) -> list[(line, dict | Malformed)]
        A line that is not a JSON object becomes ``Malformed(line, error, text)`` instead of stopping the
        read. Bytes that are not UTF-8 are read with ``surrogateescape`` (each bad byte becomes a lone
        surrogate), so they are written back escaped rather than lost or refused.
    printable(text) -> str
        text for Markdown, CSV, XLSX and logs: lone surrogates and control characters other than tab and
        newline shown as escapes (``\\udcff``, ``\\x00``), everything else unchanged.
    write_text(path, text)                       # UTF-8; characters UTF-8 cannot hold written as escapes
A write that fails (disk full, permission denied) raises StorageWriteError and leaves the old file intact.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.fileio import atomic_write

__all__ = [
    "Malformed",
    "dumps",
    "printable",
    "read_numbered",
    "read_rows",
    "write_json",
    "write_lines",
    "write_text",
]

_SURROGATE = re.compile("[\ud800-\udfff]")
# Control characters a text viewer or a spreadsheet cannot show (openpyxl refuses them): all of C0 but tab,
# newline and carriage return, plus DEL; and lone surrogates, which UTF-8 cannot encode.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04x}" if code > 0xFF else f"\\x{code:02x}"


def dumps(value: Any, *, indent: int | None = None) -> str:
    """JSON text of ``value`` with lone surrogates escaped (see the module docstring); ``default=str``."""
    text = json.dumps(value, ensure_ascii=False, indent=indent, default=str)
    # In JSON text a surrogate can only sit inside a string, where \\uXXXX is its exact escape.
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def printable(text: Any) -> str:
    """``text`` as a string safe for any text file or spreadsheet cell (see the module docstring)."""
    return _UNPRINTABLE.sub(_escape, str(text))


def write_json(path: Path, value: Any) -> Path:
    """Atomic, indented JSON: a crash never leaves half a file, no character makes the write fail."""
    return atomic_write(path, (dumps(value, indent=2) + "\n").encode("utf-8"))


def write_lines(path: str | Path, records: Iterable[dict[str, Any]], *, tail: Sequence[str] = ()) -> Path:
    """Atomic JSONL, one record per line (gzipped when the name ends in .gz). ``tail`` lines (text read by
    read_rows that was not a JSON object) are written back unchanged after the records."""
    path = Path(path)
    body = "".join(dumps(record) + "\n" for record in records)
    body += "".join(line.rstrip("\r\n") + "\n" for line in tail)
    data = body.encode("utf-8", errors="surrogateescape") if tail else body.encode("utf-8")
    if path.suffix == ".gz":
        data = gzip.compress(data, mtime=0)
    return atomic_write(path, data)


def write_text(path: Path, text: str) -> Path:
    """Write text as UTF-8; a character UTF-8 cannot hold (a lone surrogate) is written as its escape."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", errors="backslashreplace")
    return path


@dataclass(frozen=True)
class Malformed:
    """A line of a JSONL file that is not a JSON object: where it is, why, and its text (as read)."""

    line: int
    error: str
    text: str

    def describe(self) -> str:
        return f"line {self.line}: {self.error}"


def read_rows(path: str | Path) -> list[dict[str, Any] | Malformed]:
    """Every non-blank line of a JSONL file (plain or .gz) as a dict, or Malformed when it is not a JSON
    object. OSError (missing or unreadable file) propagates; nothing else stops the read."""
    return [row for _, row in read_numbered(path)]


def read_numbered(path: str | Path) -> list[tuple[int, dict[str, Any] | Malformed]]:
    """read_rows with each row's line number."""
    path = Path(path)
    data = path.read_bytes()
    if path.suffix == ".gz":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            return [(1, Malformed(1, f"not a readable gzip file ({exc})", ""))]
    rows: list[tuple[int, dict[str, Any] | Malformed]] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        text = raw.decode("utf-8", errors="surrogateescape").rstrip("\r")
        if not text.strip():
            continue
        try:
            value = json.loads(text, strict=False)  # a raw NUL or tab inside a string is kept
        except json.JSONDecodeError as exc:
            rows.append((number, Malformed(number, f"not valid JSON ({exc.msg}, column {exc.colno})", text)))
            continue
        except RecursionError:
            rows.append((number, Malformed(number, "not valid JSON (nested too deeply)", text)))
            continue
        if isinstance(value, dict):
            rows.append((number, value))
        else:
            message = f"not a JSON object (a {type(value).__name__})"
            rows.append((number, Malformed(number, message, text)))
    return rows
