"""Moves a streaming reply from a worker thread to the Kivy main thread, at most every LIMITS["pump_interval"].

The worker iterates the turn (core.chat.ChatTurn, or any iterable of core.ollama_client chunks with a
`cancel()`), accumulating text under a lock; the first chunk after each update wakes the main thread through
``post`` (the controller's, like every hand-off of the window), which arms a Clock trigger that runs
`interval` seconds later and hands the accumulated text to `on_update`, so a burst of tokens costs one update
(and a fast model does not cost a join of the whole reply and a call into the view at every frame).
Widgets are only ever touched from the main thread. `stop()` cancels the turn from any thread.

    pump = StreamPump(lambda: service.send(conv, text), on_update=view.update_reply, on_done=finished)
    pump.start()            # on_update(text, thinking) with the new text so far; on_done(PumpResult) once
    pump.stop()             # the reply ends as "interrupted" with its partial text kept
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kivy.clock import Clock

from core.ollama_client import ContentChunk, FinalChunk, ThinkingChunk
from ui.config_ui import LIMITS
from ui.controller import clock_post

__all__ = ["PumpResult", "StreamPump"]


@dataclass
class PumpResult:
    """How a streamed reply ended: status "complete" | "interrupted" | "error", with what arrived."""

    status: str
    text: str
    thinking: str
    stats: dict[str, Any] | None
    error: str | None
    turn: Any = None  # the iterated turn (ChatTurn: .message, .notes, .code_files, .model)
    exception: BaseException | None = None


class StreamPump:
    """Runs one turn on a worker thread and applies its chunks on the Kivy main thread, coalesced."""

    def __init__(
        self,
        turn_factory: Callable[[], Iterable[Any]],
        on_update: Callable[[str, str], None],
        on_done: Callable[[PumpResult], None],
        interval: float | None = None,
        post: Callable[[Callable[[], None]], None] | None = None,
    ) -> None:
        self._factory = turn_factory
        self._on_update = on_update
        self._on_done = on_done
        self._lock = threading.Lock()
        self._text: list[str] = []
        self._thinking: list[str] = []
        self._dirty = False
        self._result: PumpResult | None = None
        self._delivered = False
        self._cancel = threading.Event()
        self._turn: Any = None
        self._thread: threading.Thread | None = None
        if interval is None:
            interval = float(LIMITS["pump_interval"])
        self._trigger = Clock.create_trigger(self._drain, interval)  # created and fired on the main thread
        self.post = post or clock_post  # the worker's way to the main thread
        self._woken = False  # a wake-up is on its way and the trigger not yet drained
        self.updates = 0  # on_update calls made (for tests and benchmarks)
        self.chunks = 0  # chunks received by the worker

    @property
    def running(self) -> bool:
        """True from start() until on_done has been called."""
        return self._thread is not None and not self._delivered

    def start(self) -> StreamPump:
        """Start the worker thread; returns self."""
        if self._thread is not None:
            raise RuntimeError("a StreamPump can be started only once")  # i18n: a programming error
        self._thread = threading.Thread(target=self._work, name="ia-stream-pump", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Cancel the reply (thread-safe); on_done follows with status "interrupted"."""
        self._cancel.set()
        with self._lock:
            turn = self._turn
        if turn is not None and hasattr(turn, "cancel"):
            turn.cancel()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the worker thread (not for on_done, which needs the main loop); True if it ended."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # ----- worker thread ------------------------------------------------------------------------------

    def _work(self) -> None:
        turn: Any = None
        stats: dict[str, Any] | None = None
        exception: BaseException | None = None
        try:
            turn = self._factory()
            with self._lock:
                self._turn = turn
            if self._cancel.is_set() and hasattr(turn, "cancel"):
                turn.cancel()
            for chunk in turn:
                self.chunks += 1
                if isinstance(chunk, ContentChunk):
                    with self._lock:
                        self._text.append(chunk.text)
                        self._dirty = True
                elif isinstance(chunk, ThinkingChunk):
                    with self._lock:
                        self._thinking.append(chunk.text)
                        self._dirty = True
                elif isinstance(chunk, FinalChunk):
                    stats = chunk.stats.to_dict()
                else:
                    continue
                self._wake()
        except Exception as exc:  # reported to the main thread; the typed text is never lost there
            exception = exc
        self._finish(turn, stats, exception)

    def _finish(self, turn: Any, stats: dict[str, Any] | None, exception: BaseException | None) -> None:
        error_obj = exception or getattr(turn, "error", None)
        error = str(error_obj) if error_obj is not None else None
        cancelled = self._cancel.is_set() or bool(getattr(turn, "cancelled", False))
        message = getattr(turn, "message", None)
        status = getattr(message, "status", None)
        if status not in ("complete", "interrupted", "error"):
            status = "error" if error else "interrupted" if cancelled else "complete"
        if stats is None and getattr(turn, "stats", None) is not None:
            stats = turn.stats.to_dict()
        with self._lock:
            self._result = PumpResult(
                status=status,
                text="".join(self._text),
                thinking="".join(self._thinking),
                stats=stats,
                error=error,
                turn=turn,
                exception=exception,
            )
        self._wake()

    def _wake(self) -> None:
        """Worker thread: have the main thread drain soon; one hand-off per update, however many chunks."""
        with self._lock:
            if self._woken:
                return
            self._woken = True
        self.post(self._trigger)

    # ----- main thread ---------------------------------------------------------------------------------

    def _drain(self, *_: Any) -> None:
        if self._delivered:
            return
        with self._lock:
            self._woken = False
            dirty = self._dirty
            self._dirty = False
            text = "".join(self._text) if dirty else ""
            thinking = "".join(self._thinking) if dirty else ""
            if dirty:  # keep one joined piece: the next join only adds the new chunks
                self._text = [text]
                self._thinking = [thinking] if thinking else []
            result = self._result
        if dirty:
            self.updates += 1
            self._on_update(text, thinking)
        if result is not None:
            self._delivered = True
            self._on_done(result)
