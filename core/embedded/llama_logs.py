"""Open llama.cpp models without touching the process's output, and route llama.cpp's logs into logging.

With verbose=False, llama-cpp-python redirects file descriptors 1 and 2 to /dev/null for the whole model load,
which silently swallows whatever any other thread prints meanwhile (the CLI, the app). So models are opened
with verbose=True (no redirection), and the few Python-level notes llama-cpp-python prints while loading are
taken from the loading thread's sys.stderr writes only (other threads still write through) and logged at
debug level.

llama.cpp has one logger per process. Its callback is set once, when this module is first imported, through
llama_log_set (its supported hook): llama.cpp's lines go to the `core.embedded.llama_cpp` logger, warnings
and errors at their level. Opening a model (by any engine) changes no process-wide setting: the level of
llama-cpp-python's own logger, which `Llama(verbose=...)` sets, is put back as it was.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import sys
import threading
from typing import Any

__all__ = ["open_llama", "route_llama_logs"]

log = logging.getLogger("core.embedded.llama_cpp")
_LEVELS = {3: logging.WARNING, 4: logging.ERROR}  # ggml_log_level: 1 debug, 2 info, 3 warn, 4 error, 5 cont
_installed: list[Any] = []  # keeps the ctypes callback alive for the life of the process
_lock = threading.Lock()


def route_llama_logs() -> None:
    """Send llama.cpp's log lines to logging (done once at import; calling it again changes nothing)."""
    with _lock:
        if _installed:
            return
        import llama_cpp

        @llama_cpp.llama_log_callback
        def callback(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
            message = text.decode("utf-8", errors="replace").rstrip()
            if message:
                log.log(_LEVELS.get(level, logging.DEBUG), "%s", message)

        llama_cpp.llama_log_set(callback, ctypes.c_void_p(0))
        _installed.append(callback)


class _ThreadStderr:
    """sys.stderr stand-in: writes from one thread go to a buffer, every other thread's pass through."""

    def __init__(self, real: Any, owner: int) -> None:
        self.real = real
        self.owner = owner
        self.notes = io.StringIO()

    def write(self, text: str) -> int:
        target = self.notes if threading.get_ident() == self.owner else self.real
        return target.write(text)

    def flush(self) -> None:
        if threading.get_ident() != self.owner:
            self.real.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


_open_lock = threading.Lock()


@contextlib.contextmanager
def _notes_of_this_thread() -> Any:
    with _open_lock:
        real = sys.stderr
        proxy = _ThreadStderr(real, threading.get_ident())
        sys.stderr = proxy
        try:
            yield proxy.notes
        finally:
            if sys.stderr is proxy:
                sys.stderr = real


def open_llama(path: str, **kwargs: Any) -> Any:
    """`llama_cpp.Llama(path, **kwargs)` that leaves other threads' output alone and is quiet afterwards."""
    import llama_cpp

    theirs = logging.getLogger("llama-cpp-python")
    level = theirs.level
    try:
        with _notes_of_this_thread() as notes:
            llama = llama_cpp.Llama(path, verbose=True, **kwargs)
    finally:
        theirs.setLevel(level)  # Llama() sets it process-wide (llama_cpp._logger.set_verbose)
    llama.verbose = False  # no per-request notes from here on
    if notes.getvalue().strip():
        log.debug("llama-cpp-python notes while opening %s:\n%s", path, notes.getvalue().strip())
    return llama


route_llama_logs()  # process level, once: llama.cpp's logger is not per model or per engine
