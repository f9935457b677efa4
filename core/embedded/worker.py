"""Runs engine work on one long-lived worker thread, one job at a time, first come first served.

llama.cpp is blocking and holds one model context, so generations (and loads/unloads) are serialised: concurrent
requests wait in line, and a waiting request whose client left is skipped when its turn comes. One persistent
thread (rather than a thread per request) also keeps llama.cpp's OpenMP thread team warm between requests.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from core.embedded.engine import EngineError, Event

__all__ = ["GenerationLine"]

log = logging.getLogger(__name__)
_END = object()


class GenerationLine:
    """The queue in front of the engine: `run` streams a generation's events, `call` runs a blocking call."""

    def __init__(self, name: str = "ia-embedded-generation") -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self._pending = 0

    @property
    def busy(self) -> bool:
        """True while a job runs or waits."""
        return self._pending > 0

    def _submit(self, job: Callable[[], None]) -> None:
        with self._start_lock:
            self._pending += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
                self._thread.start()
        self._jobs.put(job)

    def _serve(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job()
            except Exception:  # jobs report their own errors; this only keeps the line alive
                log.exception("embedded worker job failed")
            finally:
                with self._start_lock:
                    self._pending -= 1

    async def run(
        self, start: Callable[[threading.Event], Iterator[Event]], cancel: threading.Event
    ) -> AsyncIterator[Event | EngineError]:
        """Run `start(cancel)` when its turn comes; yield its events (an EngineError value ends them)."""
        loop = asyncio.get_running_loop()
        events: asyncio.Queue[Any] = asyncio.Queue()

        def put(item: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening any more
                loop.call_soon_threadsafe(events.put_nowait, item)

        def job() -> None:
            try:
                if cancel.is_set():
                    return
                with contextlib.closing(start(cancel)) as produced:
                    for event in produced:
                        put(event)
                        if cancel.is_set():
                            break
            except EngineError as exc:
                put(exc)
            except Exception as exc:  # an engine bug must still end the stream in Ollama's error shape
                log.exception("embedded engine failed")
                put(EngineError(500, f"an error was encountered while running the model: {exc}"))
            finally:
                put(_END)

        self._submit(job)
        try:
            while True:
                item = await events.get()
                if item is _END:
                    return
                yield item
        finally:
            cancel.set()

    async def call(self, fn: Callable[[], Any], cancel: threading.Event) -> Any:
        """Run a blocking engine call (load/unload) in its turn; EngineError 499 if the client left first."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[Any] = loop.create_future()

        def settle(ok: bool, value: Any) -> None:
            if not done.done():
                done.set_result(value) if ok else done.set_exception(value)

        def job() -> None:
            if cancel.is_set():
                outcome: tuple[bool, Any] = (False, EngineError(499, "request canceled"))
            else:
                try:
                    outcome = (True, fn())
                except Exception as exc:
                    outcome = (False, exc)
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(settle, *outcome)

        self._submit(job)
        return await done
