"""Backend selection: Ollama when it answers, else the embedded server (auto/force/off), with a note."""

from __future__ import annotations

import sys

import pytest
from ollama._client import _parse_host

from config import load_settings
from core.backend import connect, embedded_missing
from core.embedded.scripted import ScriptedEngine
from core.errors import ConfigError, EmbeddedUnavailable, ServerUnreachable, exit_code
from core.ollama_client import OllamaClient

DEAD = "http://127.0.0.1:9"  # the root conftest points OLLAMA_HOST here
USER = [{"role": "user", "content": "hi"}]


def test_ollama_is_used_when_it_answers(scripted_server):
    settings = load_settings({"ollama_host": scripted_server.url, "embedded": "auto", "connect_timeout": 1.5})
    backend = connect(settings)
    try:
        assert backend.kind == "ollama" and backend.host == scripted_server.url and backend.server is None
        assert backend.note == f"Using Ollama at {scripted_server.url}."
        assert backend.client.connect_timeout == 1.5
    finally:
        backend.close()


def test_our_embedded_server_at_ollama_host_is_named_as_such(scripted_embedded_server):
    """`python -m core.embedded` started by hand and given as OLLAMA_HOST: used, and called what it is."""
    settings = load_settings({"ollama_host": scripted_embedded_server.url, "embedded": "auto"})
    backend = connect(settings)
    try:
        assert (
            backend.kind == "embedded"
            and backend.host == scripted_embedded_server.url
            and backend.server is None
        )
        assert (
            backend.note == f"Using IA_V3's embedded backend (llama.cpp) at {scripted_embedded_server.url}."
        )
        assert backend.client.chat("smollm2:135m", USER).text == "Hello from the scripted engine."
    finally:
        backend.close()
    assert OllamaClient(scripted_embedded_server.url).ping(), (
        "close() leaves a server it did not start running"
    )


def test_an_embedded_server_at_ollama_host_that_stops_is_named_not_ollama(scripted_embedded_server):
    """`python -m core.embedded` closed mid-session: the error names IA_V3's embedded backend and how to start
    it again, for model calls and replies alike, instead of telling the user to run `ollama serve`."""
    backend = connect(load_settings({"ollama_host": scripted_embedded_server.url, "embedded": "auto"}))
    port = scripted_embedded_server.url.rsplit(":", 1)[-1]
    try:
        scripted_embedded_server.server.stop()
        for call in (backend.client.list_models, lambda: backend.client.chat("smollm2:135m", USER)):
            with pytest.raises(ServerUnreachable) as caught:
                call()
            message = str(caught.value)
            assert message.startswith(
                f"Cannot reach IA_V3's embedded backend at {scripted_embedded_server.url}: it stopped."
            )
            assert f"python -m core.embedded --port {port}" in message
            assert "ollama serve" not in message and caught.value.backend == "embedded"
            assert exit_code(caught.value) == 3
    finally:
        backend.close()


def test_an_ollama_server_that_stops_is_still_called_ollama(scripted_server):
    url = scripted_server.url
    backend = connect(load_settings({"ollama_host": url, "embedded": "auto"}))
    try:
        assert backend.client.server_kind == "ollama"
        scripted_server.server.stop()
        with pytest.raises(ServerUnreachable) as caught:
            backend.client.list_models()
        assert str(caught.value).startswith(f"Cannot reach Ollama at {url}: is it running?")
        assert caught.value.backend == "ollama"
    finally:
        backend.close()


def test_the_client_knows_the_header_the_embedded_server_sends():
    from core.embedded.server import BACKEND_HEADER as SENT
    from core.ollama_client import BACKEND_HEADER

    assert BACKEND_HEADER == SENT


def test_auto_starts_the_embedded_server_when_ollama_is_not_there():
    settings = load_settings({"embedded": "auto"})
    assert settings.ollama_host == DEAD
    backend = connect(settings, engine=ScriptedEngine())
    try:
        assert backend.kind == "embedded" and backend.host.startswith("http://127.0.0.1:")
        assert backend.host != DEAD
        assert f"No Ollama at {DEAD}" in backend.note and "embedded backend" in backend.note
        assert backend.host in backend.note
        assert backend.client.chat("smollm2:135m", USER).text == "Hello from the scripted engine."
        assert backend.client.server_kind == "embedded"
        backend.server.stop()  # our own background server died: named as such, not as Ollama
        with pytest.raises(
            ServerUnreachable, match="Cannot reach IA_V3's embedded backend at .*restart the chat"
        ):
            backend.client.list_models()
    finally:
        backend.close()
    assert backend.client.host == backend.host
    assert not OllamaClient(backend.host, connect_timeout=1).ping(), "close() stops the server we started"


def test_force_uses_embedded_even_when_ollama_answers(scripted_server):
    settings = load_settings({"ollama_host": scripted_server.url, "embedded": "force"})
    backend = connect(settings, engine=ScriptedEngine(default_reply=("embedded",)))
    try:
        assert backend.kind == "embedded" and backend.host != scripted_server.url
        assert "as requested" in backend.note
        assert backend.client.chat("smollm2:135m", USER).text == "embedded"
        assert scripted_server.engine.bodies("/api/chat") == []
    finally:
        backend.close()


def test_off_raises_server_unreachable_with_what_to_do():
    settings = load_settings()  # IA_EMBEDDED=off from the root conftest, like --no-embedded
    assert settings.embedded == "off"
    with pytest.raises(ServerUnreachable) as caught:
        connect(settings, engine=ScriptedEngine())
    message = str(caught.value)
    assert DEAD in message and "ollama serve" in message and "turned off" in message
    assert exit_code(caught.value) == 3


def test_auto_without_the_embedded_backend_says_why(monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # makes `import llama_cpp` fail as if not installed
    assert "llama-cpp-python is not installed" in embedded_missing()
    with pytest.raises(ServerUnreachable) as caught:
        connect(load_settings({"embedded": "auto"}))
    assert "cannot take over" in str(caught.value) and "llama-cpp-python" in str(caught.value)
    with pytest.raises(EmbeddedUnavailable) as forced:
        connect(load_settings({"embedded": "force"}))
    assert "pip install" in str(forced.value) and exit_code(forced.value) == 3


def test_unknown_embedded_mode_is_a_config_error():
    settings = load_settings()
    settings.embedded = "sometimes"
    with pytest.raises(ConfigError, match="auto, force or off"):
        connect(settings)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        ":5000",
        "1.2.3.4",
        "example.com:56789/path/",
        "http://example.com",
        "https://example.com",
        "[::1]:8080",
        "0.0.0.0:11434",
        "http://localhost:11434/",
    ],
)
def test_host_is_parsed_exactly_as_ollama_python_does(raw):
    client = OllamaClient(raw)
    assert client.host == _parse_host(raw)
    client.close()


def test_ollama_host_from_the_environment_reaches_the_backend(scripted_server, monkeypatch):
    port = scripted_server.url.rsplit(":", 1)[1]
    monkeypatch.setenv("OLLAMA_HOST", f":{port}")
    backend = connect(load_settings())
    try:
        assert backend.kind == "ollama" and backend.host == f"http://127.0.0.1:{port}"
    finally:
        backend.close()


@pytest.mark.model
def test_auto_starts_the_real_embedded_llama_cpp_backend():
    if reason := embedded_missing():
        pytest.skip(reason)
    backend = connect(load_settings({"embedded": "auto"}))
    try:
        assert backend.kind == "embedded" and "llama.cpp" in backend.note
        names = [m.name for m in backend.client.list_models()]
        assert "smollm2:135m" in names
        reply = backend.client.chat("smollm2:135m", USER, options={"num_predict": 8, "temperature": 0})
        assert reply.text.strip() and reply.stats.eval_count and reply.stats.eval_count <= 8
    finally:
        backend.close()
