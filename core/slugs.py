"""Folder names for sessions: derived from the title, safe on Windows, macOS and Linux, unique."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection
from datetime import UTC, datetime

__all__ = ["MAX_SLUG_BYTES", "is_folder_name", "is_safe_slug", "slugify", "unique_slug"]

MAX_SLUG_BYTES = 64

# Names Windows reserves for devices, with or without an extension (CON, CON.txt, com1.md ...).
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))}
# Letters that NFKD does not decompose but have a usual Latin spelling.
_LATIN = str.maketrans({"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ł": "l", "þ": "th", "ð": "d"})
_FORBIDDEN = set('/\\:*?"<>|')


def _transliterate(text: str) -> str:
    """Drop accents (é -> e) and spell a few Latin letters in ASCII; other scripts are kept as they are."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LATIN))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def _truncate_utf8(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8")[:max_bytes]
    return encoded.decode("utf-8", errors="ignore")


def slugify(title: str, *, now: datetime | None = None, max_bytes: int = MAX_SLUG_BYTES) -> str:
    """A folder name for ``title``: lower-case letters and digits of any script joined by '-'.

    Titles with nothing usable (empty, only emoji or punctuation) get ``chat-YYYYMMDD-HHMMSS``.
    """
    words = re.sub(r"-+", "-", "".join(ch if ch.isalnum() else "-" for ch in _transliterate(title)))
    slug = _truncate_utf8(words.strip("-"), max_bytes).strip("-")
    if not slug:
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
        return f"chat-{stamp}"
    if slug in _RESERVED:
        slug = f"{slug}-chat"
    return slug


def is_safe_slug(name: str) -> bool:
    """True when ``name`` can be used as one folder name everywhere (no separator, no '..', no device name)."""
    if not name or name != name.strip(" .") or len(name.encode("utf-8")) > 255:
        return False
    if any(ch in _FORBIDDEN or unicodedata.category(ch) == "Cc" for ch in name):
        return False
    return name.split(".", 1)[0].strip().casefold() not in _RESERVED


def is_folder_name(name: str) -> bool:
    """True when ``name`` is one visible entry of a folder (no separator or NUL, not hidden, so not '..'): the
    test for session folders that already exist, which may have been made by hand with names slugify never
    gives (``con`` on Linux, ``My Notes``)."""
    return bool(name) and not name.startswith(".") and not any(ch in name for ch in "/\\\x00")


def unique_slug(
    base: str, taken: Collection[str] | Callable[[str], bool], *, max_bytes: int = MAX_SLUG_BYTES
) -> str:
    """``base`` or ``base-2``, ``base-3`` ... whichever is free; compared case-insensitively (macOS, Windows)."""
    if callable(taken):
        is_taken = taken
    else:
        folded = {name.casefold() for name in taken}

        def is_taken(name: str) -> bool:
            return name.casefold() in folded

    if not is_taken(base):
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = _truncate_utf8(base, max_bytes - len(suffix)).rstrip("-") + suffix
        if not is_taken(candidate):
            return candidate
        n += 1
