"""A streamed reply or transfer: typed chunks, stats, cancel from any thread, first-token and stall deadlines.

Every request runs on its own connection (the client disables keep-alive), and an httpx ``trace`` hook hands
the stream its socket as soon as it is connected. ``cancel()`` (or the watchdog, when a deadline passes)
shuts that socket down, which wakes the worker thread blocked in a read at once; the worker then ends
quietly (cancel) or raises ``StreamStalled``. httpx's own read timeout is set to the longer first-token
limit as a backstop, since it applies to every socket read and cannot tell the phases apart.
"""

from __future__ import annotations

import abc
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import httpx

from core.errors import IAError, StreamBroken, StreamStalled
from core.i18n import _
from core.model_records import PullProgress
from core.ollama_errors import translate_error

if TYPE_CHECKING:
    from core.ollama_client import OllamaClient

__all__ = [
    "ChatStream",
    "Chunk",
    "ContentChunk",
    "FinalChunk",
    "PullStream",
    "Reply",
    "StreamStats",
    "ThinkingChunk",
    "attach_trace",
]

_monotonic = time.monotonic
_local = threading.local()  # the stream whose request the current thread is about to send


@dataclass
class StreamStats:
    """Timing and token counts of one reply: ours (ttft, total) and the server's (counts, durations in ns).

    ``counts_from`` says where the counts and durations come from: "server" (measured by the server: Ollama,
    llama-server's `timings`), "usage" (an OpenAI-compatible server's `usage` counts over the generation time
    measured here, core.openai_stream), or "" (the server reported no counts: tokens/s is not known)."""

    model: str
    host: str
    ttft_s: float | None
    total_s: float
    done_reason: str | None
    eval_count: int | None
    eval_duration_ns: int | None
    prompt_eval_count: int | None
    prompt_eval_duration_ns: int | None
    load_duration_ns: int | None
    total_duration_ns: int | None
    counts_from: str = "server"

    @property
    def gen_tps(self) -> float | None:
        """Generation speed in tokens/s from the server's count and duration."""
        if not self.eval_count or not self.eval_duration_ns:
            return None
        return self.eval_count / self.eval_duration_ns * 1e9

    @property
    def prompt_tps(self) -> float | None:
        """Prompt processing speed in tokens/s."""
        if not self.prompt_eval_count or not self.prompt_eval_duration_ns:
            return None
        return self.prompt_eval_count / self.prompt_eval_duration_ns * 1e9

    @property
    def load_s(self) -> float | None:
        return None if self.load_duration_ns is None else self.load_duration_ns / 1e9

    def to_dict(self) -> dict[str, Any]:
        """Plain dict with the derived rates, for saving with a message or a dev record."""
        out = asdict(self)
        out.update(gen_tps=self.gen_tps, prompt_tps=self.prompt_tps, load_s=self.load_s)
        return out


@dataclass(frozen=True, slots=True)
class ContentChunk:
    text: str


@dataclass(frozen=True, slots=True)
class ThinkingChunk:
    text: str


@dataclass(frozen=True, slots=True)
class FinalChunk:
    stats: StreamStats


Chunk = ContentChunk | ThinkingChunk | FinalChunk


@dataclass
class Reply:
    """A whole reply from a non-streaming call."""

    text: str
    thinking: str
    stats: StreamStats


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _shutdown(sock: socket.socket | None) -> None:
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed: nothing left to stop


class _Watchdog:
    """One daemon thread for the process: trips each watched stream when its current deadline passes."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._streams: set[_HttpStream] = set()
        self._thread: threading.Thread | None = None

    def watch(self, stream: _HttpStream) -> None:
        with self._cond:
            self._streams.add(stream)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ia-stream-watchdog", daemon=True)
                self._thread.start()
            self._cond.notify()

    def unwatch(self, stream: _HttpStream) -> None:
        with self._cond:
            self._streams.discard(stream)

    def _run(self) -> None:
        with self._cond:
            while True:
                now = _monotonic()
                soonest: float | None = None
                for stream in list(self._streams):
                    deadline, seconds, phase = stream._deadline()
                    if deadline <= now:
                        self._streams.discard(stream)
                        stream._trip(seconds, phase)
                        continue
                    if phase == "first token":
                        # Look again one stall period later: once the first chunk has come, the stall
                        # deadline (last chunk + stall) is what counts, and it may be the sooner one.
                        deadline = min(deadline, now + stream._stall_timeout)
                    if soonest is None or deadline < soonest:
                        soonest = deadline
                self._cond.wait(None if soonest is None else soonest - now)


_watchdog = _Watchdog()


def attach_trace(request: httpx.Request) -> None:
    """httpx request hook: let the stream being opened in this thread see its socket once connected."""
    stream = getattr(_local, "stream", None)
    if stream is not None:
        _local.stream = None
        request.extensions["trace"] = stream._trace


class _HttpStream(abc.ABC):
    """Shared machinery of chat and pull streams: lazy start, cancel, deadlines, error translation."""

    def __init__(self, client: OllamaClient, model: str, open_parts: Callable[[], Iterator[Any]]) -> None:
        self.model = model
        self.host = client.host
        self._client = client  # its server_kind names the server in an "unreachable" error
        self.cancelled = False
        self._open_parts = open_parts
        self._first_timeout = client.first_token_timeout
        self._stall_timeout = client.stall_timeout
        self._read_timeout = client.read_timeout
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._stop = False  # set by cancel or the watchdog; read once per chunk
        self._stalled: StreamStalled | None = None
        self._finished = False
        self._t0 = 0.0
        self._last: float | None = None
        self._gen: Iterator[Any] | None = None
        self._head: list[Any] = []

    # -- public ---------------------------------------------------------------------------------------
    def start(self) -> None:
        """Send the request now and wait for the first chunk, so errors surface here (used by fallback)."""
        if self._gen is not None:
            return
        self._gen = self._run()
        self._head = list(itertools.islice(self._gen, 1))

    def __iter__(self) -> Iterator[Any]:
        if self._gen is None:
            self._gen = self._run()
            return self._gen
        head, self._head = self._head, []
        return itertools.chain(head, self._gen)

    def cancel(self) -> None:
        """Stop now from any thread: the connection is closed (the server stops) and iteration ends quietly."""
        with self._lock:
            if self.cancelled or self._finished:
                self.cancelled = True
                return
            self.cancelled = True
            self._stop = True
            sock = self._sock
        _shutdown(sock)

    def close(self) -> None:
        """Cancel and release the generator (safe to call twice or from another thread)."""
        self.cancel()
        if self._gen is not None:
            try:
                self._gen.close()
            except ValueError:
                pass  # running in another thread: the cancel above makes it end by itself

    def __enter__(self) -> _HttpStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------------------------
    def _trace(self, name: str, info: dict[str, Any]) -> None:
        if name != "connection.connect_tcp.complete":
            return
        network_stream = info.get("return_value")
        sock = network_stream.get_extra_info("socket") if network_stream is not None else None
        with self._lock:
            self._sock = sock
            abort = self._stop
        if abort:
            _shutdown(sock)

    def _deadline(self) -> tuple[float, float, str]:
        if self._last is None:
            return self._t0 + self._first_timeout, self._first_timeout, "first token"
        return self._last + self._stall_timeout, self._stall_timeout, "between chunks"

    def _trip(self, seconds: float, phase: str) -> None:
        with self._lock:
            if self._stop or self._finished:
                return
            self._stalled = StreamStalled(seconds, phase)
            self._stop = True
            sock = self._sock
        _shutdown(sock)

    def _begin(self) -> Iterator[Any]:
        self._t0 = _monotonic()
        _watchdog.watch(self)
        try:
            parts = self._open_parts()  # builds and validates the request; it is sent on the first next()
        except (ValueError, TypeError) as exc:  # pydantic's ValidationError is a ValueError
            raise IAError(
                _("Cannot send this request: {error}. Check the messages and options.").format(
                    error=_first_line(exc)
                )
            ) from exc
        _local.stream = self
        return parts

    def _end(self, parts: Iterator[Any] | None) -> None:
        """Release the connection and stop watching; idempotent."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
            self._sock = None
        _watchdog.unwatch(self)
        _local.stream = None
        if parts is not None:
            parts.close()  # type: ignore[attr-defined]

    def _raise_failure(self, exc: BaseException | None, detail: str = "") -> None:
        """Raise the error for how the stream ended; return quietly when it was cancelled."""
        if self._stalled is not None:
            raise self._stalled from exc
        if self.cancelled:
            return
        if exc is None:
            raise StreamBroken(detail or _("the server closed the stream before the reply was complete"))
        error = translate_error(
            exc,
            host=self.host,
            model=self.model,
            read_timeout=self._read_timeout,
            got_data=self._last is not None,
            backend=self._client.server_kind or "ollama",
        )
        if error is exc:
            raise exc
        raise error from exc

    @abc.abstractmethod
    def _run(self) -> Iterator[Any]:
        """The generator behind iteration: send the request, yield records, raise the translated error."""


class ChatStream(_HttpStream):
    """A streamed chat or generate reply: iterate ContentChunk/ThinkingChunk, then one FinalChunk."""

    def __init__(
        self, client: OllamaClient, model: str, open_parts: Callable[[], Iterator[Any]], *, chat: bool
    ) -> None:
        super().__init__(client, model, open_parts)
        self._chat = chat
        self._text: list[str] = []
        self._thinking: list[str] = []
        self.ttft_s: float | None = None
        self.stats: StreamStats | None = None

    @property
    def text(self) -> str:
        return "".join(self._text)

    @property
    def thinking(self) -> str:
        return "".join(self._thinking)

    def _run(self) -> Iterator[Chunk]:
        if self.cancelled:
            return
        parts = None
        final = None
        chat = self._chat
        text, thinking = self._text, self._thinking
        try:
            try:
                parts = self._begin()
                t0 = self._t0
                for part in parts:
                    if self._stop:
                        break
                    self._last = now = _monotonic()
                    if part.done:
                        final = part
                        break
                    msg = part.message if chat else part
                    content = msg.content if chat else msg.response
                    if content:
                        if self.ttft_s is None:
                            self.ttft_s = now - t0
                        text.append(content)
                        yield ContentChunk(content)
                    if msg.thinking:
                        if self.ttft_s is None:
                            self.ttft_s = now - t0
                        thinking.append(msg.thinking)
                        yield ThinkingChunk(msg.thinking)
            except Exception as exc:
                self._raise_failure(exc)
                return
            self._end(parts)
            if final is None:
                self._raise_failure(None)
                return
            yield from self._finish(final)
        finally:
            self._end(parts)

    def _finish(self, final: Any) -> Iterator[Chunk]:
        msg = final.message if self._chat else final
        content = msg.content if self._chat else msg.response
        if msg.thinking:
            self._thinking.append(msg.thinking)
            yield ThinkingChunk(msg.thinking)
        if content:
            if self.ttft_s is None:
                self.ttft_s = self._last - self._t0  # type: ignore[operator]
            self._text.append(content)
            yield ContentChunk(content)
        self.stats = StreamStats(
            model=self.model,
            host=self.host,
            ttft_s=self.ttft_s,
            total_s=self._last - self._t0,  # type: ignore[operator]
            done_reason=final.done_reason,
            eval_count=final.eval_count,
            eval_duration_ns=final.eval_duration,
            prompt_eval_count=final.prompt_eval_count,
            prompt_eval_duration_ns=final.prompt_eval_duration,
            load_duration_ns=final.load_duration,
            total_duration_ns=final.total_duration,
        )
        yield FinalChunk(self.stats)


class PullStream(_HttpStream):
    """Progress of a pull or create: iterate PullProgress lines; ``cancel()`` stops the transfer.

    Between lines it allows the longer of the two limits: Ollama sends nothing while it checks the sha256 of
    what it downloaded ("verifying sha256 digest"), which for a large model on a slow disk takes minutes.
    """

    def __init__(self, client: OllamaClient, model: str, open_parts: Callable[[], Iterator[Any]]) -> None:
        super().__init__(client, model, open_parts)
        self._stall_timeout = client.read_timeout
        self.last: PullProgress | None = None

    def _run(self) -> Iterator[PullProgress]:
        if self.cancelled:
            return
        parts = None
        try:
            try:
                parts = self._begin()
                for part in parts:
                    if self._stop:
                        break
                    self._last = _monotonic()
                    self.last = PullProgress(part.status or "", part.digest, part.completed, part.total)
                    yield self.last
            except Exception as exc:
                self._raise_failure(exc)
                return
            if self.last is None or self.last.status != "success":
                self._raise_failure(None, _("the transfer ended before the server said 'success'"))
        finally:
            self._end(parts)
