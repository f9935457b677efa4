"""Non-widget glue of the desktop app: backend calls on worker threads, results handed back on the main thread.

Every method that may block (connect, list, show, pull, session listing, search, streaming) runs on a worker
and reports through ``post``, which defaults to Kivy's thread-safe ``Clock.schedule_once``. Tests pass their
own ``post`` to drive the controller without any widget.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from core.errors import (
    CapabilityMissing,
    ConfigError,
    ConversationCorrupt,
    EmbeddedUnavailable,
    IAError,
    ModelNotFound,
    ServerError,
    ServerUnreachable,
    StorageError,
    StreamBroken,
    StreamStalled,
)
from core.i18n import _

if TYPE_CHECKING:
    from config import Settings
    from core.backend import Backend
    from core.embedded.engine import Engine
    from core.machine import FitVerdict, MachineResources
    from core.model_records import ModelInfo, PullProgress
    from core.models import ModelManager

__all__ = ["Controller", "Problem", "clock_post", "describe_error"]  # i18n: names of this module

T = TypeVar("T")
Post = Callable[[Callable[[], None]], None]


def clock_post(fn: Callable[[], None]) -> None:
    """Run ``fn`` on the Kivy main thread at the next frame (Clock.schedule_once is thread safe)."""
    from kivy.clock import Clock

    Clock.schedule_once(lambda _dt: fn(), 0)


@dataclass(frozen=True)
class Problem:
    """An error as the window shows it: the sentence, and the action the banner offers (or "")."""

    message: str
    action: str = ""  # "reconnect" | "pull" | "regenerate" | ""
    kind: str = "error"  # "error" | "warning"


def describe_error(exc: BaseException) -> Problem:
    """Turn any failure into a banner: IAError messages as they are, anything else as an unexpected error."""
    if isinstance(exc, ServerUnreachable | EmbeddedUnavailable):
        return Problem(str(exc), "reconnect")
    if isinstance(exc, ModelNotFound):
        return Problem(str(exc), "pull")
    if isinstance(exc, StreamBroken | StreamStalled):
        return Problem(str(exc), "regenerate")
    if isinstance(exc, CapabilityMissing | ConfigError | ConversationCorrupt | StorageError | ServerError):
        return Problem(str(exc))
    if isinstance(exc, IAError):
        return Problem(str(exc))
    return Problem(
        _("Unexpected error: {kind}: {detail}. The app keeps working; see logs/technical.log.").format(
            kind=type(exc).__name__, detail=exc
        )
    )


class Controller:
    """Owns settings, the backend connection, sessions and model management for the window."""

    def __init__(self, settings: Settings, *, post: Post | None = None, engine: Engine | None = None) -> None:
        self.settings = settings
        self.post: Post = post or clock_post
        self.engine = engine
        self.backend: Backend | None = None
        self.status = "connecting"  # "connecting" | "ready" | "offline"
        self.note = ""
        self._pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="ia-ui")
        self._lock = threading.Lock()
        self._closed = False
        self._sessions: Any = None
        self._devlog: Any = None
        self._chat: Any = None

    # -- plumbing -------------------------------------------------------------------------------------
    def run(
        self,
        work: Callable[[], T],
        on_ok: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> Future[T]:
        """Run ``work`` on a worker thread; its result or exception reaches the main thread through post."""

        def job() -> T:
            try:
                result = work()
            except BaseException as exc:
                if on_error is not None:
                    self.post(lambda e=exc: on_error(e))
                raise
            if on_ok is not None:
                self.post(lambda: on_ok(result))
            return result

        if self._closed:  # the window is closing: late callbacks start no new work
            future: Future[T] = Future()
            future.cancel()
            return future
        return self._pool.submit(job)

    def close(self) -> None:
        """Stop workers and the embedded server we may have started."""
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self.backend is not None:
            self.backend.close()
            self.backend = None

    # -- core objects ---------------------------------------------------------------------------------
    @property
    def sessions(self) -> Any:
        """The SessionManager (created on first use: it opens the search index)."""
        with self._lock:
            if self._sessions is None:
                from core.session_manager import SessionManager

                self._sessions = SessionManager(self.settings)
            return self._sessions

    @property
    def devlog(self) -> Any:
        with self._lock:
            if self._devlog is None:
                from core.devlog import DevLog

                self._devlog = DevLog(self.settings)
            return self._devlog

    @property
    def chat(self) -> Any:
        """The ChatService on the current backend; ServerUnreachable when not connected."""
        if self.backend is None:
            raise ServerUnreachable(self.settings.ollama_host, _("not connected yet"))
        if self._chat is None or self._chat.backend is not self.backend:
            from core.chat import ChatService

            self._chat = ChatService(self.settings, self.backend, self.sessions, self.devlog)
        return self._chat

    @property
    def models(self) -> ModelManager:
        from core.models import ModelManager

        if self.backend is None:
            raise ServerUnreachable(self.settings.ollama_host, _("not connected yet"))
        return ModelManager(self.backend.client)

    # -- backend --------------------------------------------------------------------------------------
    def connect(self, on_done: Callable[[Backend | None, BaseException | None], None]) -> Future[Any]:
        """Connect (the server at settings.ollama_host, else the embedded server) in the background;
        ``on_done(backend, error)``."""
        from core.backend import connect

        self.status = "connecting"
        old, self.backend = self.backend, None
        self._chat = None

        def work() -> Backend:
            if old is not None:
                old.close()
            return connect(self.settings, engine=self.engine)

        def ok(backend: Backend) -> None:
            self.backend, self.status, self.note = backend, "ready", backend.note
            on_done(backend, None)

        def failed(exc: BaseException) -> None:
            self.status, self.note = "offline", str(exc)
            on_done(None, exc)

        return self.run(work, ok, failed)

    def switch_host(
        self,
        host: str,
        on_done: Callable[[Backend | None, BaseException | None], None],
        *,
        fallback: bool = False,
    ) -> Future[Any]:
        """Use the server at ``host`` (Ollama or OpenAI-compatible) from now on. The current backend keeps
        serving until the new one answers; only then is it replaced and closed (an embedded server we started
        stops). When nothing answers, the current one stays and ``on_done(None, error)`` says why.
        ``fallback``: connect as at start-up instead (the embedded backend when nothing answers at ``host``)."""
        import dataclasses

        from core.backend import connect, connect_to

        def work() -> Backend:
            if fallback:
                return connect(dataclasses.replace(self.settings, ollama_host=host), engine=self.engine)
            return connect_to(self.settings, host)

        def ok(backend: Backend) -> None:
            if self._closed:  # the window closed meanwhile: nothing will use it
                backend.close()
                return
            old, self.backend = self.backend, backend
            self._chat = None
            self.status, self.note = "ready", backend.note
            if old is not None and old is not backend:
                self.run(old.close)
            on_done(backend, None)

        return self.run(work, ok, lambda exc: on_done(None, exc))

    def check_alive(self, on_done: Callable[[bool], None]) -> Future[Any]:
        """Ping the current backend (for the status light and recovery after a server restart)."""
        backend = self.backend

        def work() -> bool:
            return backend is not None and backend.client.ping()

        return self.run(work, on_done, lambda _exc: on_done(False))

    def list_models(
        self, on_ok: Callable[[list[Any]], None], on_error: Callable[[BaseException], None]
    ) -> None:
        self.run(lambda: self.models.list(), on_ok, on_error)

    def fit_models(
        self,
        on_ok: Callable[[tuple[MachineResources, list[tuple[ModelInfo, FitVerdict]]]], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        """The installed models, each with whether it fits this machine, and the machine measured now: one
        /api/tags request (fit is judged from the listed sizes) plus psutil and nvidia-smi, on a worker."""
        from core.machine import machine_resources

        def work() -> tuple[MachineResources, list[tuple[ModelInfo, FitVerdict]]]:
            resources = machine_resources()
            return resources, self.models.fit(resources)

        self.run(work, on_ok, on_error)

    def recommend_models(
        self, on_ok: Callable[[Any], None], on_error: Callable[[BaseException], None]
    ) -> None:
        """The models to suggest for this machine (ModelManager.recommended: its class, and five entries named
        for this backend with their fit and whether each is installed), on a worker."""
        from core.machine import machine_resources

        self.run(lambda: self.models.recommended(machine_resources()), on_ok, on_error)

    def show_model(
        self, name: str, on_ok: Callable[[Any], None], on_error: Callable[[BaseException], None]
    ) -> None:
        self.run(lambda: self.models.show(name), on_ok, on_error)

    def running(self, on_ok: Callable[[list[Any]], None], on_error: Callable[[BaseException], None]) -> None:
        self.run(lambda: self.models.running(), on_ok, on_error)

    def delete_model(
        self, name: str, on_ok: Callable[[Any], None], on_error: Callable[[BaseException], None]
    ) -> None:
        self.run(lambda: self.models.delete(name), on_ok, on_error)

    def unload(
        self, name: str, on_ok: Callable[[Any], None], on_error: Callable[[BaseException], None]
    ) -> None:
        self.run(lambda: self.models.unload(name), on_ok, on_error)

    def pull(
        self,
        name: str,
        on_progress: Callable[[PullProgress], None],
        on_done: Callable[[BaseException | None, bool], None],
    ) -> threading.Event:
        """Pull a model; progress lines are coalesced to one per frame. ``on_done(error, cancelled)``."""
        cancel = threading.Event()
        latest: list[PullProgress] = []
        pending = threading.Event()

        def flush() -> None:
            pending.clear()
            if latest:
                on_progress(latest[-1])

        def progress(p: PullProgress) -> None:
            latest[:] = [p]
            if not pending.is_set():
                pending.set()
                self.post(flush)

        def work() -> None:
            self.models.pull(name, progress, cancel)

        self.run(work, lambda _r: on_done(None, cancel.is_set()), lambda exc: on_done(exc, cancel.is_set()))
        return cancel

    # -- sessions -------------------------------------------------------------------------------------
    def list_sessions(
        self, on_ok: Callable[[list[Any]], None], on_error: Callable[[BaseException], None]
    ) -> None:
        self.run(lambda: self.sessions.list(), on_ok, on_error)

    def search(
        self, query: str, on_ok: Callable[[list[Any]], None], on_error: Callable[[BaseException], None]
    ) -> None:
        self.run(lambda: self.sessions.search(query, limit=500), on_ok, on_error)

    def load(
        self, slug: str, on_ok: Callable[[Any], None], on_error: Callable[[BaseException], None]
    ) -> None:
        self.run(lambda: self.sessions.load(slug), on_ok, on_error)
