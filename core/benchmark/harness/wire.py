"""Plain data across the sandbox boundary: length-prefixed frames and a codec that yields exact built-in types.

This module runs in three places: the host, the judge (trusted, outside the sandbox) and the sample's process
(inside it). It imports nothing from the project, so the harness can send its source to a fresh ``python -I -S``.

Frames: 4 bytes big-endian length, then the body. ``read_frame`` waits until a deadline (``select`` where pipes
support it, a reader thread elsewhere, e.g. Windows) and refuses a frame longer than its cap.

Values (``encode``/``decode``): JSON, ASCII only (lone surrogates and NUL travel as escapes), where every JSON
object is a one-key tag for what JSON lacks::

    list -> [..]            tuple -> {"t": [..]}      dict -> {"d": [[k, v], ..]}   set -> {"s": [..]}
    frozenset -> {"f": [..]} bytes -> {"b": base64}   bytearray -> {"a": base64}   complex -> {"c": [re, im]}
    range -> {"r": [start, stop, step]}   Ellipsis -> {"e": 0}   Fraction -> {"q": [num, den]}
    Decimal -> {"m": text}   dict views -> {"k"|"v"|"i": [..]}   a built-in function or type -> {"B": name}
    a function or an iterator of the sender -> {"F": handle} / {"I": handle} (called back through rpc.Peer)

Decoding builds only exact built-in values (plus the proxies rpc.Peer makes for handles), so nothing the
sender defines (an ``__eq__`` that is always true, an int subclass) survives the trip; subclasses of built-in
containers and numbers are sent as their built-in value (a ``Counter`` arrives as a ``dict``). Ints are limited
to MAX_INT_DIGITS digits, nesting to MAX_DEPTH levels, frames to the reader's cap.
"""

from __future__ import annotations

import binascii
import builtins
import os
import sys

__all__ = [
    "MAX_DEPTH",
    "MAX_FRAME",
    "MAX_INT_DIGITS",
    "Bad",
    "Closed",
    "Codec",
    "FrameReader",
    "NotPlain",
    "TimedOut",
    "write_frame",
]

MAX_FRAME = 32 * 1024 * 1024
MAX_INT_DIGITS = 100_000
MAX_DEPTH = 10_000
_SCALARS = frozenset((int, float, str, bool, type(None)))
# Built-ins that may travel by name: pure functions and types, never exec/eval/open/__import__ & co.
SAFE_BUILTINS = frozenset((
    "abs", "all", "any", "ascii", "bin", "bool", "bytearray", "bytes", "callable", "chr", "complex", "dict",
    "divmod", "enumerate", "filter", "float", "format", "frozenset", "hash", "hex", "int", "isinstance",
    "issubclass", "iter", "len", "list", "map", "max", "min", "next", "oct", "ord", "pow", "range", "repr",
    "reversed", "round", "set", "slice", "sorted", "str", "sum", "tuple", "zip"
))  # fmt: skip
_VIEW_TYPES = {type({}.keys()): "k", type({}.values()): "v", type({}.items()): "i"}
# Subclasses of these arrive as the built-in value, read through the base type's own methods.
_BASES = (bool, int, float, complex, str, bytes, bytearray, tuple, list, dict, set, frozenset)


def _no_default(value):
    raise TypeError(f"not JSON: {type(value).__name__}")


class _ScanContext:
    """What _json's scanner reads from a JSONDecoder (strict strings, our hook, NaN/Infinity accepted)."""

    strict = True
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo: dict = {}

    def __init__(self, object_hook) -> None:
        self.object_hook = object_hook
        self.parse_constant = float  # NaN, Infinity, -Infinity, as the encoder writes them


try:  # the C accelerator alone: importing json would pull in re and enum, a third of a harness's start
    import _json

    _ENCODE = _json.make_encoder(
        None, _no_default, _json.encode_basestring_ascii, None, ":", ",", False, False, True
    )

    def _dumps(tree) -> str:
        return "".join(_ENCODE(tree, 0))

    def _loads(text: str, hook):
        try:
            value, end = _json.make_scanner(_ScanContext(hook))(text, 0)
        except StopIteration as stop:
            raise Bad(f"malformed JSON at character {stop.value}") from None
        if end != len(text):
            raise Bad(f"malformed JSON at character {end}")
        return value

except ImportError:  # another Python without _json
    import json

    def _dumps(tree) -> str:
        return json.dumps(tree, ensure_ascii=True, allow_nan=True, separators=(",", ":"))

    def _loads(text: str, hook):
        return json.loads(text, object_hook=hook, parse_constant=float)


def plain_json(value) -> bytes:
    """Compact ASCII JSON for a record of JSON types (the judge's verdict)."""
    return _dumps(value).encode("ascii")


def read_json(data: bytes):
    """The value of compact JSON (a verdict); Bad when malformed."""
    try:
        return _loads(data.decode("ascii"), None)
    except (ValueError, UnicodeDecodeError) as error:
        raise Bad(f"malformed JSON ({error})") from None


class Closed(Exception):
    """The other side hung up (end of file, broken pipe)."""


class TimedOut(Exception):
    """The deadline passed before a whole frame arrived."""


class Bad(Exception):
    """A frame or a value that breaks the protocol (too large, malformed, unknown tag)."""


class NotPlain(Exception):
    """A value that is not plain data (an instance of a class the sender defined, a module, a frame...)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def write_frame(fd: int, body: bytes) -> None:
    """Write one frame whole; Closed when the reader is gone."""
    data = memoryview(len(body).to_bytes(4, "big") + body)
    while data:
        try:
            written = os.write(fd, data)
        except (BrokenPipeError, ConnectionResetError):
            raise Closed("the other side closed the channel") from None
        data = data[written:]


class FrameReader:
    """Reads frames from a file descriptor with a deadline (time.monotonic() value, or None for none)."""

    def __init__(self, fd: int, cap: int = MAX_FRAME) -> None:
        self.fd = fd
        self.cap = cap
        self._buffer = bytearray()
        self._eof = False
        self._thread_queue = None
        self._pollable = os.name == "posix"

    def _fill(self, deadline: float | None) -> None:
        """Add at least one chunk to the buffer, or set EOF; TimedOut past the deadline."""
        import time

        if self._pollable:
            import select

            while True:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise TimedOut("no reply before the deadline")
                try:
                    ready, _, _ = select.select([self.fd], [], [], remaining)
                except InterruptedError:
                    continue
                except (OSError, ValueError):  # closed under us
                    ready = [self.fd]
                if ready:
                    break
            try:
                chunk = os.read(self.fd, 1 << 16)
            except OSError:  # reset, or closed under us: the channel is over
                chunk = b""
        else:  # pipes cannot be polled here (Windows): a daemon thread reads, we wait on its queue
            import queue
            import threading

            if self._thread_queue is None:
                self._thread_queue = queue.Queue()

                def pump(fd: int = self.fd, out: queue.Queue = self._thread_queue) -> None:
                    while True:
                        try:
                            piece = os.read(fd, 1 << 16)
                        except OSError:
                            piece = b""
                        out.put(piece)
                        if not piece:
                            return

                threading.Thread(target=pump, name="ia-frame-reader", daemon=True).start()
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                chunk = self._thread_queue.get(timeout=remaining)
            except queue.Empty:
                raise TimedOut("no reply before the deadline") from None
        if chunk:
            self._buffer += chunk
        else:
            self._eof = True

    def read(self, deadline: float | None = None) -> bytes:
        """The next frame's body; Closed at end of file, TimedOut past the deadline, Bad when over the cap."""
        while True:
            if len(self._buffer) >= 4:
                size = int.from_bytes(self._buffer[:4], "big")
                if size > self.cap:
                    raise Bad(f"a frame of {size} bytes is over the limit of {self.cap}")
                if len(self._buffer) >= 4 + size:
                    body = bytes(self._buffer[4 : 4 + size])
                    del self._buffer[: 4 + size]
                    return body
            if self._eof:
                raise Closed("the other side closed the channel")
            self._fill(deadline)


class Codec:
    """Encodes and decodes values; ``export(obj, kind)`` and ``proxy(kind, handle)`` hook handles to rpc.Peer.

    Without hooks, functions and iterators are NotPlain on encode and Bad on decode."""

    def __init__(self, export=None, proxy=None) -> None:
        self._export = export
        self._proxy = proxy

    # -- encode ---------------------------------------------------------------------------------------------
    def encode(self, value) -> bytes:
        """JSON bytes for ``value``; NotPlain for what cannot travel, Bad when too large or too deep."""
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 4 * MAX_DEPTH))
        try:
            tree = self._tree(value, 0)
            return _dumps(tree).encode("ascii")
        except ValueError as error:  # an int past the digit limit
            raise Bad(f"a value too large to send ({error})") from None
        except RecursionError:
            raise Bad("a value nested too deeply to send") from None
        finally:
            sys.setrecursionlimit(limit)

    def _tree(self, value, depth: int):
        kind = type(value)
        if kind in _SCALARS:
            return value  # json.dumps refuses ints past sys.get_int_max_str_digits() (set by each role)
        if depth > MAX_DEPTH:
            raise Bad(f"a value nested more than {MAX_DEPTH} levels deep")
        depth += 1
        if kind is list:
            if set(map(type, value)) <= _SCALARS:  # a flat list of scalars: json.dumps takes it as it is
                return value
            return [self._tree(item, depth) for item in value]
        if kind is tuple:
            return {"t": [self._tree(item, depth) for item in value]}
        if kind is dict:
            return {"d": [[self._tree(k, depth), self._tree(v, depth)] for k, v in value.items()]}
        if kind is set:
            return {"s": [self._tree(item, depth) for item in value]}
        if kind is frozenset:
            return {"f": [self._tree(item, depth) for item in value]}
        if kind is bytes:
            return {"b": binascii.b2a_base64(value, newline=False).decode("ascii")}
        if kind is bytearray:
            return {"a": binascii.b2a_base64(bytes(value), newline=False).decode("ascii")}
        if kind is complex:
            return {"c": [value.real, value.imag]}
        if kind is range:
            return {"r": [value.start, value.stop, value.step]}
        if value is Ellipsis:
            return {"e": 0}
        if kind in _VIEW_TYPES:
            tag = _VIEW_TYPES[kind]
            items = [[self._tree(k, depth), self._tree(v, depth)] for k, v in value] if tag == "i" else None
            return {tag: items if items is not None else [self._tree(item, depth) for item in value]}
        module, name = getattr(kind, "__module__", ""), getattr(kind, "__qualname__", "")
        if (module, name) == ("fractions", "Fraction"):
            return {"q": [int.__index__(value.numerator), int.__index__(value.denominator)]}
        if (module, name) == ("decimal", "Decimal"):
            return {"m": str.__str__(str(value))}
        for base in _BASES:
            if isinstance(value, base):
                return self._tree(_as_base(base, value), depth - 1)
        if isinstance(value, type) or callable(value):
            name = getattr(value, "__name__", None)
            if name in SAFE_BUILTINS and getattr(builtins, name) is value:
                return {"B": name}
            if self._export is not None:
                return {"F": self._export(value, "F")}
        elif hasattr(kind, "__next__") and self._export is not None:
            return {"I": self._export(value, "I")}
        raise NotPlain(_type_name(kind))

    # -- decode ---------------------------------------------------------------------------------------------
    def decode(self, data: bytes):
        """The value in ``data``; Bad for anything that is not this codec's output."""
        limit = sys.getrecursionlimit()
        sys.setrecursionlimit(max(limit, 4 * MAX_DEPTH))
        try:
            return _loads(data.decode("ascii"), self._hook)
        except Bad:
            raise
        except RecursionError:
            raise Bad("a value nested too deeply") from None
        except (ValueError, TypeError, KeyError, OverflowError, MemoryError, UnicodeDecodeError) as error:
            raise Bad(f"a malformed value ({type(error).__name__}: {str(error)[:200]})") from None
        finally:
            sys.setrecursionlimit(limit)

    def _hook(self, obj: dict):
        if len(obj) != 1:
            raise Bad("a JSON object that is not a one-key tag")
        ((tag, payload),) = obj.items()
        if tag in ("t", "s", "f", "k", "v"):
            _expect(payload, list, tag)
            if tag == "t":
                return tuple(payload)
            if tag == "s":
                return set(payload)
            if tag == "f":
                return frozenset(payload)
            if tag == "k":
                return dict.fromkeys(payload).keys()
            return dict(enumerate(payload)).values()
        if tag in ("d", "i"):
            _expect(payload, list, tag)
            for pair in payload:
                if type(pair) is not list or len(pair) != 2:
                    raise Bad(f"tag {tag!r} needs [key, value] pairs")
            mapping = dict(payload)
            return mapping if tag == "d" else mapping.items()
        if tag in ("b", "a"):
            _expect(payload, str, tag)
            try:
                raw = binascii.a2b_base64(payload.encode("ascii"), strict_mode=True)
            except (ValueError, UnicodeEncodeError, binascii.Error) as error:
                raise Bad(f"bad base64 ({error})") from None
            return raw if tag == "b" else bytearray(raw)
        if tag == "c":
            _expect(payload, list, tag)
            if len(payload) != 2 or not all(type(p) in (int, float) for p in payload):
                raise Bad("tag 'c' needs [real, imag]")
            return complex(payload[0], payload[1])
        if tag == "r":
            _expect(payload, list, tag)
            if len(payload) != 3 or not all(type(p) is int for p in payload):
                raise Bad("tag 'r' needs [start, stop, step]")
            return range(*payload)
        if tag == "e":
            return Ellipsis
        if tag == "q":
            _expect(payload, list, tag)
            if len(payload) != 2 or not all(type(p) is int for p in payload) or payload[1] == 0:
                raise Bad("tag 'q' needs [numerator, denominator]")
            from fractions import Fraction

            return Fraction(payload[0], payload[1])
        if tag == "m":
            _expect(payload, str, tag)
            if len(payload) > MAX_INT_DIGITS:
                raise Bad("a Decimal too large")
            from decimal import Decimal, InvalidOperation

            try:
                return Decimal(payload)
            except InvalidOperation:
                raise Bad("a malformed Decimal") from None
        if tag == "B":
            if payload not in SAFE_BUILTINS:
                raise Bad(f"{payload!r} is not a built-in that may be sent")
            return getattr(builtins, payload)
        if tag in ("F", "I"):
            if type(payload) is not int or self._proxy is None:
                raise Bad(f"a handle where none is expected ({tag!r})")
            return self._proxy(tag, payload)
        raise Bad(f"unknown tag {tag!r}")


def _expect(payload, kind: type, tag: str) -> None:
    if type(payload) is not kind:
        raise Bad(f"tag {tag!r} needs a {kind.__name__}")


def _type_name(kind: type) -> str:
    try:
        name = type.__getattribute__(kind, "__qualname__")
        module = type.__getattribute__(kind, "__module__")
    except Exception:
        return "object"
    if type(name) is not str or type(module) is not str:
        return "object"
    return name if module == "builtins" else f"{module}.{name}"[:200]


def _as_base(base: type, value):
    """The built-in value inside an instance of a subclass, read through the base type's own methods."""
    if base is bool or base is int:
        return int.__index__(value)
    if base is float:
        return float.__float__(value)
    if base is complex:
        return complex.__complex__(value)
    if base is str:
        return str.__str__(value)[:]  # str.__str__ of a subclass returns an exact str copy
    if base is bytes:
        return bytes.__bytes__(value) if hasattr(bytes, "__bytes__") else bytes(memoryview(value))
    if base is bytearray:
        return bytearray(memoryview(value))
    if base is tuple:
        return tuple(tuple.__iter__(value))
    if base is list:
        return list(list.__iter__(value))
    if base is dict:
        return dict(dict.items(value))
    if base is set:
        return set(set.__iter__(value))
    return frozenset(frozenset.__iter__(value))
