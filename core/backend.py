"""Which server answers: Ollama at settings.ollama_host, else the embedded llama.cpp server on loopback."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from core.errors import ConfigError, EmbeddedUnavailable, ServerUnreachable
from core.ollama_client import OllamaClient

if TYPE_CHECKING:
    from config import Settings
    from core.embedded.engine import Engine
    from core.embedded.server import EmbeddedServer

__all__ = ["Backend", "connect", "embedded_missing"]


@dataclass
class Backend:
    """The server in use, a client for it, and the sentence that tells the user which one it is."""

    kind: str  # "ollama" | "embedded" (IA_V3's own server: started here, or found at OLLAMA_HOST)
    host: str
    client: OllamaClient
    note: str
    server: EmbeddedServer | None = field(default=None, repr=False)

    def close(self) -> None:
        """Close the client and stop the embedded server if we started one."""
        self.client.close()
        if self.server is not None:
            self.server.stop()
            self.server = None


def embedded_missing() -> str | None:
    """Why the embedded backend cannot run here, or None when llama-cpp-python and its engine import."""
    for module, why in (
        ("llama_cpp", "llama-cpp-python is not installed"),
        ("core.embedded.llama_engine", "its llama.cpp engine cannot be loaded"),
    ):
        try:
            importlib.import_module(module)
        except Exception as exc:  # an ImportError, or a broken native library raising anything
            return f"{why} ({type(exc).__name__}: {exc})"
    return None


def _client(settings: Settings, host: str) -> OllamaClient:
    return OllamaClient(
        host,
        connect_timeout=settings.connect_timeout,
        first_token_timeout=settings.first_token_timeout,
        stall_timeout=settings.stall_timeout,
    )


def _start_embedded(settings: Settings, engine: Engine | None) -> tuple[EmbeddedServer, str]:
    if engine is None and (reason := embedded_missing()):
        raise EmbeddedUnavailable(reason)
    from core.embedded.server import EmbeddedServer

    try:
        server = EmbeddedServer(engine, home=settings.home)
        return server, server.start()
    except Exception as exc:
        raise EmbeddedUnavailable(f"it failed to start ({type(exc).__name__}: {exc})") from exc


def connect(settings: Settings, *, engine: Engine | None = None) -> Backend:
    """Use the server at OLLAMA_HOST when it answers within connect_timeout; else, per settings.embedded, the
    embedded server. ``kind`` is "embedded" for IA_V3's own server, whether started here or by hand at
    OLLAMA_HOST (it says so with its x-ia-backend header); ``server`` is set only when started here.

    ``engine`` replaces the embedded llama.cpp engine (tests pass a ScriptedEngine); by default it is
    LlamaEngine on settings.home. Raises ServerUnreachable or EmbeddedUnavailable with what to do.
    """
    mode = settings.embedded
    if mode not in ("auto", "force", "off"):
        raise ConfigError("embedded", f"must be auto, force or off, not '{mode}'")
    host = settings.ollama_host
    if mode != "force":
        client = _client(settings, host)
        answers = client.identify()
        if answers == "embedded":  # `python -m core.embedded` started by hand: same API, say which it is
            note = f"Using IA_V3's embedded backend (llama.cpp) at {client.host}."
            return Backend("embedded", client.host, client, note)
        if answers == "ollama":
            return Backend("ollama", client.host, client, f"Using Ollama at {client.host}.")
        client.close()
        if mode == "off":
            raise ServerUnreachable(
                host, "the embedded backend is turned off (--no-embedded / IA_EMBEDDED=off)"
            )
        if engine is None and (reason := embedded_missing()):
            raise ServerUnreachable(host, f"the embedded backend cannot take over: {reason}")
    server, url = _start_embedded(settings, engine)
    client = _client(settings, url)
    client.server_kind = "embedded"
    if mode == "force":
        note = f"Using the embedded backend (llama.cpp) at {url}, as requested."
    else:
        note = f"No Ollama at {host}; using the embedded backend (llama.cpp) at {url}."
    return Backend("embedded", url, client, note, server)
