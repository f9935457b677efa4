"""Which server answers: the one at settings.ollama_host (Ollama, IA_V3's embedded server, or an
OpenAI-compatible one when the host says so), else the embedded llama.cpp server on loopback.

``make_client`` is the one place that picks the client for a host: core.openai_client.OpenAIClient for a
host whose path ends in /v1 or written ``openai:URL``, core.ollama_client.OllamaClient for any other; both
have the same interface (``ModelClient``), so chat, CLI, app and benchmark never ask which one they hold."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from config import parse_host
from core.errors import ConfigError, EmbeddedUnavailable, ServerUnreachable
from core.i18n import N_, _
from core.ollama_client import OllamaClient
from core.openai_client import OpenAIClient, is_openai_host

if TYPE_CHECKING:
    from config import Settings
    from core.embedded.engine import Engine
    from core.embedded.server import EmbeddedServer

__all__ = ["Backend", "ModelClient", "connect", "connect_to", "embedded_missing", "make_client"]

ModelClient = OllamaClient | OpenAIClient


@dataclass
class Backend:
    """The server in use, a client for it, and the sentence that tells the user which one it is (``note``,
    in the interface's language at the time it is read: the window shows it again after a change)."""

    kind: str  # "ollama" | "embedded" (IA_V3's own server: started here, or found at OLLAMA_HOST) | "openai"
    host: str
    client: ModelClient
    note_source: tuple[str, dict[str, str]]  # an N_() message and its placeholders' values
    server: EmbeddedServer | None = field(default=None, repr=False)

    @property
    def note(self) -> str:
        template, values = self.note_source
        return _(template).format(**values)

    def close(self) -> None:
        """Close the client and stop the embedded server if we started one."""
        self.client.close()
        if self.server is not None:
            self.server.stop()
            self.server = None


def embedded_missing() -> str | None:
    """Why the embedded backend cannot run here, or None when llama-cpp-python and its engine import."""
    for module, why in (
        ("llama_cpp", N_("llama-cpp-python is not installed")),
        ("core.embedded.llama_engine", N_("its llama.cpp engine cannot be loaded")),
    ):
        try:
            importlib.import_module(module)
        except Exception as exc:  # an ImportError, or a broken native library raising anything
            return f"{_(why)} ({type(exc).__name__}: {exc})"
    return None


def make_client(
    host: str,
    *,
    connect_timeout: float = 3.0,
    first_token_timeout: float = 600.0,
    stall_timeout: float = 120.0,
) -> ModelClient:
    """The client that speaks the host's API: OpenAI's for ``…/v1`` and ``openai:URL``, else Ollama's."""
    kind = OpenAIClient if is_openai_host(host) else OllamaClient
    return kind(
        host,
        connect_timeout=connect_timeout,
        first_token_timeout=first_token_timeout,
        stall_timeout=stall_timeout,
    )


def _client(settings: Settings, host: str) -> ModelClient:
    return make_client(
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
        raise EmbeddedUnavailable(
            _("it failed to start ({error})").format(error=f"{type(exc).__name__}: {exc}")
        ) from exc


def _answering(settings: Settings, host: str) -> Backend | None:
    """The backend at ``host`` when a server answers there within connect_timeout, named for what it is."""
    client = _client(settings, host)
    answers = client.identify()
    if answers == "embedded":  # `python -m core.embedded` started by hand: same API, say which it is
        note = N_("Using IA_V3's embedded backend (llama.cpp) at {host}.")
        return Backend("embedded", client.host, client, (note, {"host": client.host}))
    if answers == "ollama":
        return Backend("ollama", client.host, client, (N_("Using Ollama at {host}."), {"host": client.host}))
    if answers == "openai":
        if getattr(client, "embedded", False):
            note = N_("Using the OpenAI-compatible server at {host} (IA_V3's embedded backend).")
        else:
            note = N_("Using the OpenAI-compatible server at {host}.")
        return Backend("openai", client.host, client, (note, {"host": client.host}))
    client.close()
    return None


def connect_to(settings: Settings, host: str) -> Backend:
    """Exactly the server at ``host`` (an Ollama or OpenAI-compatible URL), with no embedded fallback: the
    app's backend panel switches to it only once it answers. Raises ServerUnreachable."""
    backend = _answering(settings, host)
    if backend is None:
        kind = "openai" if is_openai_host(host) else "ollama"
        raise ServerUnreachable(parse_host(host), backend=kind)
    return backend


def connect(settings: Settings, *, engine: Engine | None = None) -> Backend:
    """Use the server at OLLAMA_HOST when it answers within connect_timeout; else, per settings.embedded, the
    embedded server. ``kind`` is "embedded" for IA_V3's own server, whether started here or by hand at
    OLLAMA_HOST (it says so with its x-ia-backend header), "openai" for a host spoken to with the OpenAI API
    (make_client); ``server`` is set only when started here.

    ``engine`` replaces the embedded llama.cpp engine (tests pass a ScriptedEngine); by default it is
    LlamaEngine on settings.home. Raises ServerUnreachable or EmbeddedUnavailable with what to do.
    """
    mode = settings.embedded
    if mode not in ("auto", "force", "off"):
        raise ConfigError("embedded", _("must be auto, force or off, not '{mode}'").format(mode=mode))
    host = settings.ollama_host
    if mode != "force":
        backend = _answering(settings, host)
        if backend is not None:
            return backend
        expected = "openai" if is_openai_host(host) else "ollama"
        if mode == "off":
            raise ServerUnreachable(
                host,
                _("the embedded backend is turned off (--no-embedded / IA_EMBEDDED=off)"),
                backend=expected,
            )
        if engine is None and (reason := embedded_missing()):
            raise ServerUnreachable(
                host,
                _("the embedded backend cannot take over: {reason}").format(reason=reason),
                backend=expected,
            )
    server, url = _start_embedded(settings, engine)
    client = _client(settings, url)
    client.server_kind = "embedded"
    if mode == "force":
        note = N_("Using the embedded backend (llama.cpp) at {url}, as requested.")
    elif is_openai_host(host):
        note = N_("No server answers at {host}; using the embedded backend (llama.cpp) at {url}.")
    else:
        note = N_("No Ollama at {host}; using the embedded backend (llama.cpp) at {url}.")
    return Backend("embedded", url, client, (note, {"host": host, "url": url}), server)
