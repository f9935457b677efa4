"""Runs engine generators in worker threads, one generation at a time, and hands their events to asyncio.

llama.cpp is blocking and holds one model context, so generations are serialised by a lock: concurrent
requests wait in line (roughly first come, first served) and a waiting request whose client left gives up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from core.embedded.engine import EngineError, Event

__all__ = ["GenerationLine"]

log = logging.getLogger(__name__)
_END = object()


class GenerationLine:
    """The queue in front of the engine: `run` yields events (or an EngineError value) from a worker thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    @property
    def busy(self) -> bool:
        """True while some generation holds the engine."""
        return self._lock.locked()

    async def run(
        self, start: Callable[[threading.Event], Iterator[Event]], cancel: threading.Event
    ) -> AsyncIterator[Event | EngineError]:
        """Start `start(cancel)` in a worker thread once the engine is free; stop it when cancel is set."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()

        def put(item: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is gone: nobody is listening any more
                loop.call_soon_threadsafe(queue.put_nowait, item)

        def work() -> None:
            acquired = False
            try:
                while not cancel.is_set() and not acquired:
                    acquired = self._lock.acquire(timeout=0.05)
                if not acquired:
                    return
                with contextlib.closing(start(cancel)) as events:
                    for event in events:
                        put(event)
                        if cancel.is_set():
                            break
            except EngineError as exc:
                put(exc)
            except Exception as exc:  # an engine bug must still end the stream in Ollama's error shape
                log.exception("embedded engine failed")
                put(EngineError(500, f"an error was encountered while running the model: {exc}"))
            finally:
                if acquired:
                    self._lock.release()
                put(_END)

        threading.Thread(target=work, name="ia-embedded-generation", daemon=True).start()
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    return
                yield item
        finally:
            cancel.set()

    async def call(self, fn: Callable[[], Any], cancel: threading.Event) -> Any:
        """Run a blocking engine call (load/unload) in its turn, in a worker thread."""

        def work() -> Any:
            while not self._lock.acquire(timeout=0.05):
                if cancel.is_set():
                    raise EngineError(499, "request canceled")
            try:
                return fn()
            finally:
                self._lock.release()

        return await asyncio.to_thread(work)
