"""Calls across the sandbox boundary: the judge calls the sample's functions, the sample calls back what the
test passed it (a key function, an iterator), each side serving the other's requests while it waits.

One ``Peer`` per side over two pipes. Messages are tuples encoded with wire.Codec (JSON); the judge may send
its own messages as marshal (``fast=True``: much faster for a list of a million ints), which only the sample
side accepts: the judge never unmarshals anything.

Requests: ("load", program) · ("call", handle, args, kwargs) · ("next", handle, count) · ("get", name) ·
("bye",). Replies: ("ok", value, writes) · ("items", values, finished, error) · ("exc", error) ·
("ready", functions, values) · ("loaderror", error).

``writes`` carries the arguments the call changed in place, as [position, new value] pairs: the judge copies
them into its own objects (rpc.sync), so a test that checks its input was (or was not) modified sees what the
reference harness would see. An error travels as (built-in type name, the sender's type name, args, text);
the judge raises the nearest built-in exception type again with those args, never a type the sample made.
"""

from __future__ import annotations

import builtins
import marshal
import sys

from core.benchmark.harness.wire import (
    MAX_DEPTH,
    Bad,
    Closed,
    Codec,
    FrameReader,
    NotPlain,
    TimedOut,
    write_frame,
)

__all__ = [
    "BROKEN",
    "Peer",
    "RemoteFunction",
    "RemoteIterator",
    "SampleBroke",
    "error_info",
    "rebuild_error",
    "sync",
]

REPLIES = frozenset(("ok", "items", "exc", "ready", "loaderror"))
REQUESTS = frozenset(("load", "call", "next", "get", "bye"))
# Raised in the sample, these end the check as a failure wherever the test catches them (as the reference
# harness fails a sample that exits); anything else comes back as the built-in exception it is.
ABORTS = frozenset(
    ("SystemExit", "KeyboardInterrupt", "GeneratorExit", "BaseException", "BaseExceptionGroup")
)
_MAX_BATCH = 256
_MAX_NESTING = 64


# Every SampleBroke made in this process, in order: the judge is one process per sample, and a sample that
# broke fails even when the test caught the exception.
BROKEN: list[SampleBroke] = []


class SampleBroke(BaseException):
    """The sample's side broke the protocol, died, timed out or aborted: the sample fails whatever the test
    does with this (a BaseException, so ``except Exception`` in a test does not swallow it)."""

    def __init__(self, message: str, reason: str = "exception") -> None:
        super().__init__(message)
        self.reason = reason
        BROKEN.append(self)


def _base_name(kind: type) -> str:
    """Name of the nearest built-in exception class of ``kind`` (BaseException when none is found)."""
    try:
        for klass in type.__getattribute__(kind, "__mro__"):
            module = type.__getattribute__(klass, "__module__")
            name = type.__getattribute__(klass, "__name__")
            if module == "builtins" and getattr(builtins, name, None) is klass:
                return name
    except Exception:
        pass
    return "BaseException"


def _text(error: BaseException) -> str:
    try:
        detail = str(error)
    except BaseException:
        detail = "<unprintable>"
    try:
        name = type.__getattribute__(type(error), "__qualname__")
    except Exception:
        name = "BaseException"
    detail = str.__str__(detail) if isinstance(detail, str) else "<unprintable>"
    name = str.__str__(name) if isinstance(name, str) else "BaseException"
    return (f"{name}: {detail}" if detail else name)[:1000]


def error_info(error: BaseException, codec: Codec) -> tuple:
    """What travels of an exception: (built-in base name, type name, args as plain data or None, text)."""
    base = _base_name(type(error))
    try:
        args = tuple(error.args)
        codec.encode(args)
    except BaseException:
        args = None
    try:
        name = type.__getattribute__(type(error), "__qualname__")
        name = str.__str__(name)[:200] if isinstance(name, str) else base
    except Exception:
        name = base
    return (base, name, args, _text(error))


def rebuild_error(info) -> BaseException:
    """The judge-side exception for an error_info tuple; SampleBroke for aborts or anything malformed."""
    if type(info) is not tuple or len(info) != 4:
        raise SampleBroke("the sample sent a malformed error")
    base, name, args, text = info
    if type(base) is not str or type(name) is not str or type(text) is not str:
        raise SampleBroke("the sample sent a malformed error")
    if args is not None and type(args) is not tuple:
        raise SampleBroke("the sample sent a malformed error")
    kind = getattr(builtins, base, None)
    if base in ABORTS or not (isinstance(kind, type) and issubclass(kind, Exception)):
        raise SampleBroke(f"the code under test raised {text[:300]}")
    error = None
    if args is not None:
        try:
            error = kind(*args)
        except BaseException:
            error = None
    if error is None:
        error = kind(text.partition(": ")[2] if ": " in text else text)
    if type(error) is not kind and not isinstance(error, kind):
        error = kind(text)
    error.ia_sample_error = text  # raised by the code under test (the verdict says so)
    return error


def sync(old, new) -> object:
    """Copy ``new`` into ``old`` in place where ``old`` is mutable (keeping inner objects where shapes match);
    returns the object the caller should hold (``old`` when it could be updated, else ``new``)."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4 * MAX_DEPTH))
    try:
        return _sync(old, new)
    except RecursionError:
        raise SampleBroke(
            "the code under test changed an argument into something nested too deeply"
        ) from None
    finally:
        sys.setrecursionlimit(limit)


def _sync(old, new) -> object:
    kind = type(old)
    if kind is list and type(new) is list:
        if len(old) == len(new):
            for index, item in enumerate(new):
                old[index] = _sync(old[index], item)
        else:
            old[:] = new
        return old
    if kind is dict and type(new) is dict:
        if list(old) == list(new):
            for key, item in new.items():
                old[key] = _sync(old[key], item)
        else:
            old.clear()
            old.update(new)
        return old
    if kind is set and type(new) is set:
        old.clear()
        old.update(new)
        return old
    if kind is bytearray and type(new) is bytearray:
        old[:] = new
        return old
    if kind is tuple and type(new) is tuple and len(old) == len(new):
        for mine, theirs in zip(old, new, strict=True):
            _sync(mine, theirs)
        return old
    return new


def _mutable(value) -> bool:
    kind = type(value)
    if kind in (list, dict, set, bytearray):
        return True
    return kind is tuple and any(_mutable(item) for item in value)


class RemoteFunction:
    """A function on the other side; calling it sends ("call", ...) and returns the plain value it gave."""

    def __init__(self, peer: Peer, handle: int, name: str = "candidate", doc: str | None = None) -> None:
        self._peer = peer
        self._handle = handle
        self.__name__ = self.__qualname__ = name
        self.__doc__ = doc

    def __call__(self, *args, **kwargs):
        return self._peer.call(self._handle, args, kwargs)

    def __repr__(self) -> str:
        return f"<function {self.__name__} (in the sandbox)>"


class RemoteIterator:
    """An iterator on the other side, read in growing batches (1, 2, 4 ... 256 items per request)."""

    def __init__(self, peer: Peer, handle: int) -> None:
        self._peer = peer
        self._handle = handle
        self._buffer: list = []
        self._batch = 1
        self._finished = False
        self._error = None

    def __iter__(self):
        return self

    def __next__(self):
        if not self._buffer and not self._finished:
            values, self._finished, self._error = self._peer.next_items(self._handle, self._batch)
            self._batch = min(self._batch * 2, _MAX_BATCH)
            self._buffer = values[::-1]
        if self._buffer:
            return self._buffer.pop()
        if self._error is not None:
            error, self._error = self._error, None
            raise error
        raise StopIteration


class Peer:
    """One side of the channel. ``trusting`` (the sample's side) accepts marshal frames; the judge does not,
    and checks the shape of everything it receives (a violation raises SampleBroke)."""

    def __init__(self, read_fd: int, write_fd: int, *, trusting: bool, deadline: float | None = None) -> None:
        self.reader = FrameReader(read_fd)
        self.write_fd = write_fd
        self.trusting = trusting
        self.deadline = deadline
        self.codec = Codec(export=self._export, proxy=self._proxy)
        self._local: dict[int, object] = {}
        self._kinds: dict[int, str] = {}
        self._next_handle = 1
        self._remote_kinds: dict[int, str] = {}
        self._nesting = 0
        self.namespace: dict | None = None  # the sample's globals, once loaded (sample side)
        self._last_body = b""

    # -- handles --------------------------------------------------------------------------------------------
    def _export(self, value, kind: str) -> int:
        handle = self._next_handle
        self._next_handle += 1
        self._local[handle] = value
        self._kinds[handle] = kind
        return handle

    def _proxy(self, kind: str, handle: int):
        return RemoteFunction(self, handle) if kind == "F" else RemoteIterator(self, handle)

    # -- frames ---------------------------------------------------------------------------------------------
    def send(self, message: tuple, fast: bool = False) -> None:
        body = None
        if fast:
            try:
                body = b"M" + marshal.dumps(message)
            except (ValueError, TypeError):
                body = None
        if body is None:
            body = b"J" + self.codec.encode(message)
        write_frame(self.write_fd, body)

    def receive(self) -> tuple:
        try:
            body = self.reader.read(self.deadline)
        except TimedOut:
            raise SampleBroke("timed out", "timeout") from None
        except Closed:
            if self.trusting:
                raise
            raise SampleBroke("the process of the code under test ended", "ended") from None
        except Bad as error:
            raise SampleBroke(f"the code under test broke the protocol: {error}") from None
        self._last_body = body
        return self._decode(body)

    def _decode(self, body: bytes) -> tuple:
        fmt, data = body[:1], body[1:]
        try:
            if fmt == b"M" and self.trusting:
                message = marshal.loads(data)
            elif fmt == b"J":
                message = self.codec.decode(data)
            else:
                raise Bad("unknown frame format")
        except Bad as error:
            raise SampleBroke(f"the code under test broke the protocol: {error}") from None
        if type(message) is not tuple or not message or type(message[0]) is not str:
            raise SampleBroke("the code under test broke the protocol: a message that is not a tuple")
        return message

    # -- judge side -----------------------------------------------------------------------------------------
    def request(self, message: tuple, fast: bool = False) -> tuple:
        """Send a request and return its reply, serving the other side's requests (callbacks) meanwhile."""
        try:
            self.send(message, fast=fast)
        except Closed:
            if self.trusting:
                raise
            raise SampleBroke("the process of the code under test ended", "ended") from None
        self._nesting += 1
        try:
            if self._nesting > _MAX_NESTING:
                raise SampleBroke("calls nested too deeply between the test and the code under test")
            while True:
                reply = self.receive()
                if reply[0] in REPLIES:
                    return reply
                if reply[0] not in REQUESTS:
                    raise SampleBroke(f"the code under test sent an unknown message {reply[0][:40]!r}")
                self.handle(reply)
        finally:
            self._nesting -= 1

    def call(self, handle: int, args: tuple, kwargs: dict):
        """Call a remote function; copy back what it changed in the arguments; raise what it raised."""
        reply = self.request(("call", handle, args, kwargs), fast=not self.trusting)
        if reply[0] == "ok" and len(reply) == 3 and type(reply[2]) is list:
            for write in reply[2]:
                if type(write) is not list or len(write) != 2:
                    raise SampleBroke("the code under test sent a malformed argument update")
                position, value = write
                if type(position) is int and 0 <= position < len(args):
                    sync(args[position], value)
                elif type(position) is str and position in kwargs:
                    sync(kwargs[position], value)
                else:
                    raise SampleBroke("the code under test sent a malformed argument update")
            return reply[1]
        if reply[0] == "exc" and len(reply) == 2:
            raise (rebuild_error(reply[1]) if not self.trusting else _local_error(reply[1]))
        raise SampleBroke(f"the code under test answered a call with {reply[0][:40]!r}")

    def next_items(self, handle: int, count: int) -> tuple[list, bool, BaseException | None]:
        reply = self.request(("next", handle, count))
        if reply[0] == "items" and len(reply) == 4 and type(reply[1]) is list and type(reply[2]) is bool:
            error = reply[3]
            if error is not None:
                error = rebuild_error(error) if not self.trusting else _local_error(error)
            if len(reply[1]) > count:
                raise SampleBroke("the code under test sent more items than asked")
            return reply[1], reply[2], error
        if reply[0] == "exc" and len(reply) == 2:
            raise (rebuild_error(reply[1]) if not self.trusting else _local_error(reply[1]))
        raise SampleBroke(f"the code under test answered 'next' with {reply[0][:40]!r}")

    # -- serving ----------------------------------------------------------------------------------------------
    def serve(self) -> None:
        """Answer requests until ("bye",) or end of file."""
        while True:
            try:
                message = self.receive()
            except Closed:
                return
            if message[0] == "bye":
                return
            self.handle(message)

    def handle(self, message: tuple) -> None:
        """Answer one request (the sample side answers all kinds; the judge only calls back its own objects)."""
        op = message[0]
        if op == "load" and self.trusting:
            self._reply(self._load(message[1]))
        elif op == "call":
            self._reply(self._call(message))
        elif op == "next":
            self._reply(self._next(message))
        elif op == "get" and self.trusting and self.namespace is not None:
            self._reply(("ok", self.namespace.get(message[1]), []))
        elif not self.trusting:
            raise SampleBroke(f"the code under test sent a request the judge does not serve ({op[:40]!r})")
        else:
            self.send(
                ("exc", ("RuntimeError", "RuntimeError", None, f"RuntimeError: unknown request {op!r}"))
            )

    def _reply(self, reply: tuple) -> None:
        """Send a reply; a value that is not plain data becomes a TypeError saying where it was."""
        try:
            self.send(reply)
        except NotPlain as error:
            where = "returned"
            if reply[0] == "ok" and reply[2]:
                try:
                    self.codec.encode(reply[1])
                    where = "left in its arguments"
                except (NotPlain, Bad):
                    pass
            self.send(("exc", ("TypeError", "TypeError", None, _not_plain_text(error.kind, where))))
        except Bad as error:
            self.send(("exc", ("ValueError", "ValueError", None, f"ValueError: {error}")))

    def _target(self, handle, kind: str):
        if type(handle) is str and self.trusting and self.namespace is not None:
            return self.namespace[handle]
        if type(handle) is not int or self._kinds.get(handle) != kind:
            if self.trusting:
                raise KeyError(f"no {kind} handle {handle!r}")
            raise SampleBroke("the code under test used a handle it was not given")
        return self._local[handle]

    def _call(self, message: tuple) -> tuple:
        if len(message) != 4 or type(message[2]) is not tuple or type(message[3]) is not dict:
            raise SampleBroke("a malformed call")
        _, handle, args, kwargs = message
        function = self._target(handle, "F")
        pristine = self._decode(self._last_body) if self.trusting else None
        try:
            value = _invoke(function, args, kwargs)
        except SampleBroke:
            raise  # the judge serving a callback: the sample broke during a nested call
        except BaseException as error:  # an exception of the called function: the other side raises it again
            return ("exc", error_info(error, self.codec))
        writes = []
        if pristine is not None:
            for index, (now, before) in enumerate(zip(args, pristine[2], strict=True)):
                if _mutable(now) and not _equal(now, before):
                    writes.append([index, now])
            for key, now in kwargs.items():
                if _mutable(now) and not _equal(now, pristine[3].get(key)):
                    writes.append([key, now])
        return ("ok", value, writes)

    def _next(self, message: tuple) -> tuple:
        if len(message) != 3 or type(message[2]) is not int:
            raise SampleBroke("a malformed next request")
        iterator = self._target(message[1], "I")
        values, error = [], None
        for _ in range(max(1, min(message[2], _MAX_BATCH))):
            try:
                values.append(next(iterator))
            except StopIteration:
                return ("items", values, True, None)
            except BaseException as caught:
                error = error_info(caught, self.codec)
                return ("items", values, True, error)
        return ("items", values, False, None)

    def _load(self, program: str) -> tuple:
        namespace: dict = {}
        try:
            code = compile(program, "<sample>", "exec")
            exec(code, namespace)
        except BaseException as error:
            return ("loaderror", error_info(error, self.codec))
        self.namespace = namespace
        functions, values = {}, []
        for name, value in list(namespace.items()):
            if type(name) is not str or name.startswith("__"):
                continue
            if callable(value):
                functions[name] = value  # the codec sends it as a handle
            elif type(value).__name__ != "module":
                values.append(name)
        return ("ready", functions, values)


def _invoke(function, args, kwargs):
    return function(*args, **kwargs)


def _equal(now, before) -> bool:
    """``now == before`` with room for arguments nested as deeply as the codec allows."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 4 * MAX_DEPTH))
    try:
        return bool(now == before)
    except BaseException:
        return False
    finally:
        sys.setrecursionlimit(limit)


def _not_plain_text(kind: str, where: str) -> str:
    return (
        f"TypeError: the code under test {where} an object of type {kind}, which is not plain data "
        "(only built-in values cross the sandbox)"
    )


def _local_error(info) -> BaseException:
    """On the sample side (trusting), an error the judge's callback raised, as a built-in exception."""
    try:
        return rebuild_error(info)
    except SampleBroke as broke:
        return RuntimeError(str(broke))


def recursion_headroom() -> int:
    """How many frames deep this process is now (the sample side adds it to the default recursion limit)."""
    depth, frame = 0, sys._getframe()
    while frame is not None:
        depth += 1
        frame = frame.f_back
    return depth
