"""Ollama wire details shared by the embedded server's routes: timestamps, durations, option checks, text forms.

Kept apart from the routes so each rule can be read next to the section of Ollama's API reference
(docs/api.md in github.com/ollama/ollama) it follows.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from core.embedded.engine import Done, ModelCard

__all__ = [
    "DEFAULT_KEEP_ALIVE_S",
    "OLLAMA_VERSION",
    "ProtocolError",
    "check_field",
    "check_format",
    "check_images",
    "check_options",
    "decode_body",
    "expires_at",
    "final_metrics",
    "format_parameters",
    "go_time",
    "local_time",
    "modelfile_text",
    "parse_keep_alive",
    "parse_think",
    "utc_now",
    "valid_model_name",
]

OLLAMA_VERSION = "0.33.0"  # the Ollama version whose API this server follows
DEFAULT_KEEP_ALIVE_S = 300.0  # Ollama's default keep_alive: 5m
FOREVER = datetime(2318, 1, 1, tzinfo=UTC)  # what a negative keep_alive expires at (far future)


class ProtocolError(Exception):
    """A request the server refuses, with Ollama's status and error text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def go_time(dt: datetime) -> str:
    """An aware datetime as Go's JSON encoder writes a time.Time (RFC3339Nano): trailing zeros of the fraction
    dropped (no dot when none is left), and `Z` for a zero offset, else `+hh:mm`/`-hh:mm`."""
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{dt.microsecond:06d}".rstrip("0")
    if fraction:
        text += f".{fraction}"
    offset = dt.utcoffset()
    if not offset:
        return text + "Z"
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{text}{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def utc_now() -> str:
    """`created_at`: now in UTC, RFC3339Nano with a Z suffix."""
    return go_time(datetime.now(UTC))


def local_time(dt: datetime) -> str:
    """`modified_at`/`expires_at`: RFC3339Nano in the local time zone (Z when that is UTC)."""
    return go_time(dt.astimezone())


def decode_body(raw: bytes, go_type: str) -> dict[str, Any]:
    """Parse a JSON object body like gin's ShouldBindJSON; errors carry Go's decoder wording."""
    if not raw.strip():
        raise ProtocolError(400, "missing request body")
    text = raw.decode("utf-8", errors="replace")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()):
            raise ProtocolError(400, "unexpected EOF") from None
        char = text[exc.pos]
        where = "looking for beginning of value" if exc.pos == len(text) - len(text.lstrip()) else "in JSON"
        raise ProtocolError(400, f"invalid character {char!r} {where}") from None
    if not isinstance(value, dict):
        kind = {list: "array", str: "string", bool: "bool", int: "number", float: "number"}.get(
            type(value), "value"
        )
        raise ProtocolError(400, f"json: cannot unmarshal {kind} into Go value of type api.{go_type}")
    return value


_GO_TYPES = {str: "string", bool: "bool", list: "array", dict: "object", int: "number", float: "number"}


def check_field(body: dict[str, Any], key: str, kind: type | tuple[type, ...], go_type: str) -> None:
    """400 like Go's decoder when a known field has the wrong JSON type (null is accepted, as in Go)."""
    value = body.get(key)
    if value is None:
        return
    ok = isinstance(value, kind) and not (isinstance(value, bool) and bool not in _as_tuple(kind))
    if not ok:
        want = _GO_TYPES.get(_as_tuple(kind)[0], "value")
        got = _GO_TYPES.get(type(value), "value")
        raise ProtocolError(
            400, f"json: cannot unmarshal {got} into Go struct field {go_type}.{key} of type {want}"
        )


_B64 = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def check_images(images: Any) -> None:
    """Images are raw base64 strings (Go []byte): anything else is a 400 like Go's decoder gives."""
    if not isinstance(images, list):
        raise ProtocolError(
            400, "json: cannot unmarshal value into Go struct field .images of type []api.ImageData"
        )
    for image in images:
        if not isinstance(image, str):
            raise ProtocolError(
                400, "json: cannot unmarshal value into Go struct field .images of type []uint8"
            )
        body = image.rstrip("=")
        bad = next((i for i, ch in enumerate(body) if ch not in _B64), None)
        if bad is None and (len(image) % 4 or len(image) - len(body) > 2):
            bad = len(body)
        if bad is not None:
            raise ProtocolError(400, f"illegal base64 data at input byte {bad}")


def check_format(value: Any) -> str | dict[str, Any] | None:
    """`format`: absent/"" (free text), "json", or a JSON schema object."""
    if value is None or value == "":
        return None
    if value == "json" or isinstance(value, dict):
        return value
    raise ProtocolError(400, f'invalid format: {json.dumps(value)}: expected "json" or a JSON schema')


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_S = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_keep_alive(value: Any) -> float | None:
    """keep_alive in seconds (None = default 5m; negative = forever), following Go's Duration rules."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ProtocolError(
            400, "json: cannot unmarshal bool into Go struct field .keep_alive of type string"
        )
    if isinstance(value, int | float):
        return float(value)
    if not isinstance(value, str):
        raise ProtocolError(400, "invalid keep_alive value")
    text = value.strip()
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-")
    if body == "0":
        return 0.0
    if not body:
        raise ProtocolError(400, f"time: invalid duration {value!r}".replace("'", '"'))
    total, pos = 0.0, 0
    for match in _DURATION_PART.finditer(body):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_S[match.group(2)]
        pos = match.end()
    if pos != len(body):
        if re.fullmatch(r"[0-9.]+", body):
            raise ProtocolError(400, f'time: missing unit in duration "{value}"')
        raise ProtocolError(400, f'time: invalid duration "{value}"')
    return sign * total


def expires_at(keep_alive_s: float | None) -> datetime:
    """When a model loaded now with this keep_alive is released."""
    seconds = DEFAULT_KEEP_ALIVE_S if keep_alive_s is None else keep_alive_s
    if seconds < 0 or math.isinf(seconds):
        return FOREVER
    return datetime.now(UTC) + timedelta(seconds=seconds)


def parse_think(value: Any) -> bool | None:
    """`think`: bool or "low"|"medium"|"high"|"max"; None when absent; other values are a 400."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and value in ("low", "medium", "high", "max"):
        return True
    raise ProtocolError(400, f"invalid think value: {json.dumps(value)}")


# Known options and their JSON types (api/types.go Options and Runner); unknown keys are ignored.
_FLOAT, _INT, _BOOL = "float", "int", "bool"
_OPTION_TYPES = {
    "temperature": _FLOAT, "top_p": _FLOAT, "min_p": _FLOAT, "typical_p": _FLOAT, "repeat_penalty": _FLOAT,
    "presence_penalty": _FLOAT, "frequency_penalty": _FLOAT, "tfs_z": _FLOAT, "mirostat_tau": _FLOAT,
    "mirostat_eta": _FLOAT, "top_k": _INT, "seed": _INT, "num_predict": _INT, "num_ctx": _INT, "num_keep": _INT,
    "repeat_last_n": _INT, "num_batch": _INT, "num_gpu": _INT, "main_gpu": _INT, "num_thread": _INT,
    "mirostat": _INT, "use_mmap": _BOOL, "use_mlock": _BOOL, "numa": _BOOL, "penalize_newline": _BOOL,
}  # fmt: skip
_GO_OPTION_TYPE = {_FLOAT: "float32", _INT: "int", _BOOL: "bool"}


def check_options(options: Any) -> dict[str, Any]:
    """Validate `options` like api.Options.FromMap: wrong types are refused, unknown keys ignored."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise ProtocolError(400, "json: cannot unmarshal value into Go struct field .options of type map")
    clean: dict[str, Any] = {}
    for key, value in options.items():
        if value is None:
            continue
        if key == "stop":
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
                raise ProtocolError(400, f'option "{key}" must be of type array of strings')
            clean[key] = value
            continue
        kind = _OPTION_TYPES.get(key)
        if kind is None:
            continue  # Ollama logs and ignores unknown options
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if kind == _BOOL and not isinstance(value, bool) or kind != _BOOL and not numeric:
            raise ProtocolError(400, f'option "{key}" must be of type {_GO_OPTION_TYPE[kind]}')
        clean[key] = int(value) if kind == _INT else value
    return clean


def final_metrics(done: Done, total_ns: int) -> dict[str, Any]:
    """The six metrics of a final chunk; zero values are omitted like Go's omitempty."""
    metrics = {
        "total_duration": total_ns,
        "load_duration": done.load_duration_ns,
        "prompt_eval_count": done.prompt_eval_count,
        "prompt_eval_duration": done.prompt_eval_duration_ns,
        "eval_count": done.eval_count,
        "eval_duration": done.eval_duration_ns,
    }
    return {key: int(value) for key, value in metrics.items() if value}


def _go_quote(value: Any) -> str:
    """Go's %#v for the option values we show."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def format_parameters(parameters: dict[str, Any]) -> str:
    """/api/show `parameters`: one `%-30s %#v` line per value (a list gives one line per item)."""
    lines = []
    for key, value in parameters.items():
        for item in value if isinstance(value, list) else [value]:
            lines.append(f"{key:<30} {_go_quote(item)}")
    return "\n".join(lines)


def modelfile_text(card: ModelCard) -> str:
    """/api/show `modelfile`, shaped like `ollama show --modelfile`."""
    parts = [
        '# Modelfile generated by "ollama show"',
        "# To build a new Modelfile based on this, replace FROM with:",
        f"# FROM {card.name}",
        "",
        f"FROM {card.path or card.name}",
    ]
    if card.template:
        parts.append(f'TEMPLATE """{card.template}"""')
    if card.system:
        parts.append(f'SYSTEM """{card.system}"""')
    for key, value in card.parameters.items():
        for item in value if isinstance(value, list) else [value]:
            parts.append(f"PARAMETER {key} {_go_quote(item)}")
    if card.license:
        parts.append(f'LICENSE """{card.license}"""')
    return "\n".join(parts) + "\n"


_NAME_PART = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}"
_MODEL_NAME = re.compile(rf"(?:[A-Za-z0-9_.:-]{{1,350}}/)?(?:{_NAME_PART}/)?{_NAME_PART}(?::{_NAME_PART})?")


def valid_model_name(name: str) -> bool:
    """Ollama's name rule: [host/][namespace/]model[:tag], parts of letters, digits, '_', '-' and '.'."""
    return bool(_MODEL_NAME.fullmatch(name))
