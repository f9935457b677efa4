"""Validation of ``/set KEY VALUE``: each key's type and range, with a message that says what is allowed.

The value parsers of keep_alive, think and format are public: the one-shot flags (``--keepalive``,
``--think``, ``--format``, see cli.flags) take the same values as ``/set``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "RESET_WORDS",
    "SETTABLE",
    "SetValueError",
    "Settable",
    "format_label",
    "parse_format",
    "parse_keep_alive",
    "parse_think",
    "parse_value",
]

RESET_WORDS = ("reset", "default", "unset")
_GO_DURATION = re.compile(r"-?(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+")


class SetValueError(ValueError):
    """A value /set cannot accept; the message names the key and what it takes."""


@dataclass(frozen=True)
class Settable:
    """A key of /set: ``option`` keys go to the request options, the others to the CLI's settings."""

    key: str
    kind: str  # "option" | "setting"
    takes: str  # what a valid value looks like, for messages and /help
    parse: Callable[[str], Any]


def _number(key: str, cast: type, low: float | None, high: float | None, takes: str) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        try:
            value = cast(raw)
        except ValueError:
            raise SetValueError(f"{key} takes {takes}; '{raw}' is not a number of that kind.") from None
        if value != value or (low is not None and value < low) or (high is not None and value > high):
            raise SetValueError(f"{key} takes {takes}; {raw} is out of range.")
        return value

    return parse


def parse_keep_alive(raw: str) -> str | int:
    """Seconds as a whole number (0 unloads at once, negative keeps the model loaded), or a Go duration."""
    raw = raw.strip()
    if re.fullmatch(r"-?\d+", raw):
        return int(raw)  # seconds; negative keeps the model loaded forever
    if _GO_DURATION.fullmatch(raw):
        return raw
    raise SetValueError(
        f"keep_alive takes seconds (e.g. 300, 0, -1) or a duration like 5m or 1h30m; not '{raw}'."
    )


def parse_think(raw: str) -> bool | str:
    """on/off (true/false, yes/no, 1/0) or a thinking level: low, medium, high."""
    low = raw.strip().lower()
    if low in ("on", "true", "yes", "1"):
        return True
    if low in ("off", "false", "no", "0"):
        return False
    if low in ("low", "medium", "high"):
        return low
    raise SetValueError(f"think takes on, off, low, medium or high; not '{raw}'.")


_FORMAT_OFF = ("off", "none", "text")


def parse_format(raw: str) -> str | dict[str, Any] | None:
    """``json``, a JSON schema given inline (``{...}``, as ``ollama run --format`` takes it) or as the path of
    a file holding one, or ``off`` (None: free text). A schema must be a JSON object."""
    text = raw.strip()
    if text.lower() == "json":
        return "json"
    if text.lower() in _FORMAT_OFF:
        return None
    if text.startswith("{"):
        return _schema(text, "The inline schema")
    path = Path(text.strip("'\"")).expanduser()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SetValueError(
            f"format takes json, off, or a JSON schema file; there is no file at {path}."
        ) from None
    except IsADirectoryError:
        raise SetValueError(f"format takes a JSON schema file; {path} is a folder.") from None
    except OSError as exc:
        raise SetValueError(f"Cannot read the schema file {path}: {exc.strerror or exc}.") from None
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SetValueError(f"The schema file {path} is not UTF-8 text.") from None
    return _schema(decoded, f"The schema file {path}")


_JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number", bool: "a boolean"}


def _schema(text: str, what: str) -> dict[str, Any]:
    """The JSON object in ``text``; ``what`` names where it came from ("The schema file x.json")."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SetValueError(
            f"{what} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
        ) from None
    if not isinstance(value, dict):
        kind = _JSON_KINDS.get(type(value), "null")
        raise SetValueError(
            f'{what} holds {kind}, not a JSON schema object like {{"type": "object", "properties": {{...}}}}.'
        )
    return value


def format_label(value: str | dict[str, Any] | None) -> str:
    """How a format is shown: off, json, or the schema on one line (shortened)."""
    if value is None:
        return "off"
    if isinstance(value, str):
        return value
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return "schema " + (text if len(text) <= 60 else text[:59] + "…")


SETTABLE: dict[str, Settable] = {
    s.key: s
    for s in (
        Settable(
            "temperature",
            "option",
            "a number from 0 to 2",
            _number("temperature", float, 0, 2, "a number from 0 to 2"),
        ),
        Settable(
            "top_p", "option", "a number from 0 to 1", _number("top_p", float, 0, 1, "a number from 0 to 1")
        ),
        Settable("seed", "option", "a whole number", _number("seed", int, None, None, "a whole number")),
        Settable(
            "num_ctx",
            "option",
            "a whole number from 256 to 1048576",
            _number("num_ctx", int, 256, 1_048_576, "a whole number from 256 to 1048576"),
        ),
        Settable(
            "num_predict",
            "option",
            "a whole number (-1 = no limit, -2 = fill the context)",
            _number("num_predict", int, -2, None, "a whole number, -2 or more"),
        ),
        Settable(
            "context",
            "setting",
            "the number of past exchanges sent (0 or more)",
            _number("context", int, 0, 1000, "a whole number from 0 to 1000"),
        ),
        Settable("keep_alive", "setting", "seconds or a duration like 5m", parse_keep_alive),
        Settable("think", "setting", "on, off, low, medium or high", parse_think),
        Settable("format", "setting", "json, a JSON schema file (or {...}), or off", parse_format),
    )
}


def parse_value(key: str, raw: str) -> tuple[Settable, Any]:
    """The setting and its parsed value (None for reset words); SetValueError with a clear message otherwise."""
    settable = SETTABLE.get(key.lower())
    if settable is None:
        import difflib

        close = difflib.get_close_matches(key.lower(), list(SETTABLE), n=1)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise SetValueError(f"Unknown setting '{key}'.{hint} Settable: {', '.join(SETTABLE)}.")
    raw = raw.strip()
    if not raw:
        raise SetValueError(f"{settable.key} needs a value: {settable.takes}.")
    if raw.lower() in RESET_WORDS:
        return settable, None
    return settable, settable.parse(raw)
