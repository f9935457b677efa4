"""Run blocking work (a reply stream, a pull) on a worker thread so Ctrl-C in the main thread can stop it.

The main thread waits in short joins, which a SIGINT interrupts; the first Ctrl-C calls ``on_interrupt``
(e.g. ``ChatTurn.cancel``) and the wait goes on until the work has wound down, so nothing is left half-saved.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

__all__ = ["run_interruptible"]

T = TypeVar("T")


def run_interruptible(work: Callable[[], T], on_interrupt: Callable[[], None]) -> tuple[T | None, bool]:
    """Run ``work`` on a thread; returns (its result, whether Ctrl-C was pressed). Its exception is re-raised."""
    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["result"] = work()
        except BaseException as exc:  # handed to the main thread below
            box["error"] = exc

    thread = threading.Thread(target=target, name="ia-cli-worker", daemon=True)
    thread.start()
    interrupted = False
    while thread.is_alive():
        try:
            thread.join(0.1)
        except KeyboardInterrupt:
            if not interrupted:
                interrupted = True
                on_interrupt()
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box.get("result"), interrupted  # type: ignore[return-value]
