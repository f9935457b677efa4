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

from core.i18n import N_, _

__all__ = [  # i18n: names of this module
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
    takes: str  # what a valid value looks like, for messages and /help (marked: translated where shown)
    parse: Callable[[str], Any]


def _number(key: str, cast: type, low: float | None, high: float | None, takes: str) -> Callable[[str], Any]:
    def parse(raw: str) -> Any:
        try:
            value = cast(raw)
        except ValueError:
            raise SetValueError(
                _("{key} takes {takes}; '{raw}' is not a number of that kind.").format(
                    key=key, takes=_(takes), raw=raw
                )
            ) from None
        if value != value or (low is not None and value < low) or (high is not None and value > high):
            raise SetValueError(
                _("{key} takes {takes}; {raw} is out of range.").format(key=key, takes=_(takes), raw=raw)
            )
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
        _("keep_alive takes seconds (e.g. 300, 0, -1) or a duration like 5m or 1h30m; not '{raw}'.").format(
            raw=raw
        )
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
    raise SetValueError(_("think takes on, off, low, medium or high; not '{raw}'.").format(raw=raw))


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
        return _schema(text, _("The inline schema"))
    path = Path(text.strip("'\"")).expanduser()
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SetValueError(
            _("format takes json, off, or a JSON schema file; there is no file at {path}.").format(path=path)
        ) from None
    except IsADirectoryError:
        raise SetValueError(
            _("format takes a JSON schema file; {path} is a folder.").format(path=path)
        ) from None
    except OSError as exc:
        raise SetValueError(
            _("Cannot read the schema file {path}: {reason}.").format(path=path, reason=exc.strerror or exc)
        ) from None
    try:
        decoded = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SetValueError(_("The schema file {path} is not UTF-8 text.").format(path=path)) from None
    return _schema(decoded, _("The schema file {path}").format(path=path))


_JSON_KINDS = {
    list: N_("an array"),
    str: N_("a string"),
    int: N_("a number"),
    float: N_("a number"),
    bool: N_("a boolean"),
}


def _schema(text: str, what: str) -> dict[str, Any]:
    """The JSON object in ``text``; ``what`` names where it came from ("The schema file x.json")."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SetValueError(
            _("{what} is not valid JSON (line {line}, column {column}: {reason}).").format(
                what=what, line=exc.lineno, column=exc.colno, reason=exc.msg
            )
        ) from None
    if not isinstance(value, dict):
        kind = _(_JSON_KINDS[type(value)]) if type(value) in _JSON_KINDS else "null"
        raise SetValueError(
            _("{what} holds {kind}, not a JSON schema object like {example}.").format(
                what=what, kind=kind, example='{"type": "object", "properties": {...}}'
            )
        )
    return value


def format_label(value: str | dict[str, Any] | None) -> str:
    """How a format is shown: off, json, or the schema on one line (shortened); the words /set takes."""
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
            N_("a number from 0 to 2"),
            _number("temperature", float, 0, 2, N_("a number from 0 to 2")),
        ),
        Settable(
            "top_p",
            "option",
            N_("a number from 0 to 1"),
            _number("top_p", float, 0, 1, N_("a number from 0 to 1")),
        ),
        Settable(
            "seed", "option", N_("a whole number"), _number("seed", int, None, None, N_("a whole number"))
        ),
        Settable(
            "num_ctx",
            "option",
            N_("a whole number from 256 to 1048576"),
            _number("num_ctx", int, 256, 1_048_576, N_("a whole number from 256 to 1048576")),
        ),
        Settable(
            "num_predict",
            "option",
            N_("a whole number (-1 = no limit, -2 = fill the context)"),
            _number("num_predict", int, -2, None, N_("a whole number, -2 or more")),
        ),
        Settable(
            "context",
            "setting",
            N_("the number of past exchanges sent (0 or more)"),
            _number("context", int, 0, 1000, N_("a whole number from 0 to 1000")),
        ),
        Settable("keep_alive", "setting", N_("seconds or a duration like 5m"), parse_keep_alive),
        Settable("think", "setting", N_("on, off, low, medium or high"), parse_think),
        Settable("format", "setting", N_("json, a JSON schema file (or {...}), or off"), parse_format),
    )
}


def parse_value(key: str, raw: str) -> tuple[Settable, Any]:
    """The setting and its parsed value (None for reset words); SetValueError with a clear message otherwise."""
    settable = SETTABLE.get(key.lower())
    if settable is None:
        import difflib

        close = difflib.get_close_matches(key.lower(), list(SETTABLE), n=1)
        message = (
            _("Unknown setting '{key}'. Did you mean {close}? Settable: {keys}.")
            if close
            else _("Unknown setting '{key}'. Settable: {keys}.")
        )
        raise SetValueError(
            message.format(key=key, close=close[0] if close else "", keys=", ".join(SETTABLE))
        )
    raw = raw.strip()
    if not raw:
        raise SetValueError(
            _("{key} needs a value: {takes}.").format(key=settable.key, takes=_(settable.takes))
        )
    if raw.lower() in RESET_WORDS:
        return settable, None
    return settable, settable.parse(raw)
