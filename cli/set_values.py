"""Validation of ``/set KEY VALUE``: each key's type and range, with a message that says what is allowed."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["RESET_WORDS", "SETTABLE", "SetValueError", "Settable", "parse_value"]

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


def _keep_alive(raw: str) -> str | int:
    if re.fullmatch(r"-?\d+", raw):
        return int(raw)  # seconds; negative keeps the model loaded forever
    if _GO_DURATION.fullmatch(raw):
        return raw
    raise SetValueError(
        f"keep_alive takes seconds (e.g. 300, 0, -1) or a duration like 5m or 1h30m; not '{raw}'."
    )


def _think(raw: str) -> bool | str:
    low = raw.lower()
    if low in ("on", "true", "yes", "1"):
        return True
    if low in ("off", "false", "no", "0"):
        return False
    if low in ("low", "medium", "high"):
        return low
    raise SetValueError(f"think takes on, off, low, medium or high; not '{raw}'.")


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
        Settable("keep_alive", "setting", "seconds or a duration like 5m", _keep_alive),
        Settable("think", "setting", "on, off, low, medium or high", _think),
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
