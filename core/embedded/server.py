"""EmbeddedServer: the Ollama-compatible app served by uvicorn on a loopback port in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from core.embedded.app import build_app
from core.embedded.engine import Engine
from core.i18n import _, format_number

__all__ = ["BACKEND_HEADER", "EmbeddedServer", "build_app"]

# Every answer of the embedded server carries this header, so a client can tell it from Ollama (same API).
BACKEND_HEADER = "x-ia-backend"


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class EmbeddedServer:
    """Serves `engine` (default: LlamaEngine on `home`) at http://host:port; `start()` returns the URL."""

    def __init__(
        self,
        engine: Engine | None = None,
        *,
        home: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if engine is None:
            from core.embedded.llama_engine import (
                LlamaEngine,
            )  # needs llama-cpp-python: import only when used

            engine = LlamaEngine(home)
        self.engine = engine
        self.host = host
        self.port = port
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 15.0) -> str:
        """Start uvicorn in a daemon thread; return the base URL once `GET /` answers."""
        if self._server is not None:
            return self.url
        port = self.port or _free_port(self.host)
        # IA_V3's llama.cpp engine says so in every answer; a test's scripted engine, standing in for
        # Ollama, sends no such header unless told to (ScriptedEngine.backend).
        backend = getattr(self.engine, "backend", "embedded")
        config = uvicorn.Config(
            build_app(self.engine),
            host=self.host,
            port=port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            headers=[(BACKEND_HEADER, backend)] if backend else [],  # which backend answered (identify())
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=self._serve, args=(server,), name=f"ia-embedded-{port}", daemon=True)
        thread.start()
        url = f"http://{self.host}:{port}"
        deadline = time.monotonic() + timeout
        while True:
            if not thread.is_alive():
                raise RuntimeError(
                    _(
                        "the embedded server could not start on {address}: the port is taken or not allowed"
                    ).format(address=f"{self.host}:{port}")
                )
            try:  # `started` first: another server on a reused port must not be mistaken for ours
                if (
                    server.started
                    and httpx.get(url + "/", timeout=1.0, trust_env=False).text == "Ollama is running"
                ):
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                server.should_exit = True
                raise RuntimeError(
                    _("the embedded server did not answer on {url} within {seconds} s").format(
                        url=url, seconds=format_number(round(timeout))
                    )
                )
            time.sleep(0.02)
        self._server, self._thread, self.port, self.url = server, thread, port, url
        return url

    @staticmethod
    def _serve(server: uvicorn.Server) -> None:
        try:
            server.run()
        except SystemExit:  # uvicorn exits this way when it cannot bind; start() reports it
            pass

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server thread ends (or `timeout` passes); True when it has ended."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask uvicorn to exit and wait for its thread."""
        if self._server is None:
            return
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self._server = None
        self._thread = None

    def __enter__(self) -> EmbeddedServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
