"""Run blocking work (a reply stream, a pull) on a worker thread so Ctrl-C in the main thread can stop it.

While the work runs, SIGINT calls ``on_interrupt`` (e.g. ``ChatTurn.cancel``) instead of raising
KeyboardInterrupt at a random point of the main thread; the wait goes on until the work has wound down, so
nothing is left half-saved. The terminal does not echo keys meanwhile: an echoed ``^C`` or typed-ahead text
would shift the lines under rich's live display (a reply or a progress bar) and leave copies of them behind.
Typed-ahead text is still read by the next prompt.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

__all__ = ["no_echo", "run_interruptible"]

T = TypeVar("T")


@contextlib.contextmanager
def no_echo() -> Iterator[None]:
    """Turn off the echo of typed keys on the terminal (stdin) for the block; nothing when it is no terminal."""
    try:
        import termios
    except ImportError:  # Windows
        yield
        return
    try:
        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd)
    except (AttributeError, OSError, ValueError, termios.error):  # no stdin, or not a terminal
        yield
        return
    quiet = list(saved)
    quiet[3] &= ~(termios.ECHO | getattr(termios, "ECHOCTL", 0))
    try:
        termios.tcsetattr(fd, termios.TCSANOW, quiet)
    except (OSError, termios.error):
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError, termios.error):
            termios.tcsetattr(fd, termios.TCSANOW, saved)


def run_interruptible(work: Callable[[], T], on_interrupt: Callable[[], None]) -> tuple[T | None, bool]:
    """Run ``work`` on a thread; returns (its result, whether Ctrl-C was pressed). Its exception is re-raised."""
    box: dict[str, Any] = {}
    pressed = threading.Event()

    def target() -> None:
        try:
            box["result"] = work()
        except BaseException as exc:  # handed to the main thread below
            box["error"] = exc

    def on_sigint(signum: int, frame: object) -> None:
        if not pressed.is_set():
            pressed.set()
            on_interrupt()

    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, on_sigint) if in_main else None
    try:
        with no_echo():
            thread = threading.Thread(target=target, name="ia-cli-worker", daemon=True)
            thread.start()
            while thread.is_alive():
                try:
                    thread.join(0.1)
                except KeyboardInterrupt:  # only when not on the main thread's handler (called from a thread)
                    on_sigint(signal.SIGINT, None)
    finally:
        if in_main:
            signal.signal(signal.SIGINT, previous)
    if "error" in box:
        raise box["error"]
    return box.get("result"), pressed.is_set()
