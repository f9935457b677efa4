"""What each refusal and failure tells the user, through the real embedded server (scripted engine) and a real
socket that never accepts: the right error type, and a message that says what to do."""

from __future__ import annotations

import socket
import threading
import time

import ollama
import pytest

from core.embedded.scripted import ErrorBefore, ScriptedEngine
from core.embedded.server import EmbeddedServer
from core.errors import CapabilityMissing, ServerError, ServerUnreachable
from core.ollama_client import OllamaClient, translate_error

USER = [{"role": "user", "content": "hello"}]
MODEL = "smollm2:135m"


@pytest.fixture
def client(scripted_server):
    with OllamaClient(scripted_server.url, connect_timeout=2, first_token_timeout=10, stall_timeout=10) as c:
        yield c


@pytest.fixture
def silent_port():
    """A listening socket whose accept queue is full: the kernel drops new connections' SYNs, so a client's
    connect hangs, as with a firewalled or hung host."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.1)
    try:
        yield port
    finally:
        for sock in [*fillers, listener]:
            sock.close()


@pytest.mark.parametrize("call", ["stream", "list", "ping"])
def test_a_host_that_never_accepts_is_unreachable_once_the_connect_timeout_passes(silent_port, call):
    client = OllamaClient(f"127.0.0.1:{silent_port}", connect_timeout=0.5, first_token_timeout=30)
    started = time.monotonic()
    if call == "ping":
        assert client.ping() is False
    else:
        with pytest.raises(ServerUnreachable) as caught:
            list(client.chat_stream(MODEL, USER)) if call == "stream" else client.list_models()
        assert "connect timeout" in str(caught.value) and "ollama serve" in str(caught.value)
        assert caught.value.host == f"http://127.0.0.1:{silent_port}"
    assert 0.4 <= time.monotonic() - started < 5  # the connect limit, not the 30 s first-token one
    client.close()


@pytest.fixture
def mute_port():
    """A server that accepts connections and reads requests but never answers (a hung server)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return  # closed at the end of the test
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        for conn in held:
            conn.close()


@pytest.mark.parametrize("call", ["list_models", "version", "show"])
def test_a_server_that_never_answers_a_model_query_is_unreachable_after_the_stall_limit(mute_port, call):
    client = OllamaClient(
        f"127.0.0.1:{mute_port}", connect_timeout=2, first_token_timeout=60, stall_timeout=0.5
    )
    started = time.monotonic()
    with pytest.raises(ServerUnreachable) as caught:
        getattr(client, call)(*([MODEL] if call == "show" else []))
    assert 0.4 <= time.monotonic() - started < 5  # the stall limit, not the 60 s first-token one
    assert "sent no answer within 0.5 s" in str(caught.value) and "ollama serve" in str(caught.value)
    client.close()


def test_images_for_a_text_only_model_name_the_capability_and_what_to_do(client):
    with pytest.raises(CapabilityMissing) as caught:
        client.chat(MODEL, [{"role": "user", "content": "see", "images": [b"\x89PNG"]}])
    assert caught.value.capability == "images" and caught.value.model == MODEL
    assert str(caught.value) == (
        f"Model '{MODEL}' does not support images: remove the image, or choose a model with vision."
    )
    assert "text-only" in caught.value.detail  # the server's own words are kept


def test_thinking_refused_says_how_to_turn_it_off(client):
    with pytest.raises(CapabilityMissing) as caught:
        client.chat(MODEL, USER, think=True)
    assert caught.value.capability == "thinking" and "/set think off" in str(caught.value)


def test_raw_with_a_system_prompt_is_a_refused_request_not_a_missing_capability(client):
    with pytest.raises(ServerError) as caught:
        client.generate("gemma3:270m", "x", raw=True, system="be brief")
    error = caught.value
    assert not isinstance(error, CapabilityMissing) and error.status == 400
    assert str(error).startswith("The server refused the request (HTTP 400): raw mode does not support")
    assert "Try again" not in str(error)  # the same request would be refused again


def test_a_prompt_longer_than_the_context_says_how_to_make_it_fit(client, scripted_server):
    scripted_server.engine.enqueue([ErrorBefore(400, "the input length exceeds the context length")])
    with pytest.raises(ServerError) as caught:
        client.chat(MODEL, USER)
    text = str(caught.value)
    assert caught.value.status == 400 and "exceeds the context length" in text
    assert "/set context N" in text and "/set num_ctx N" in text and "new conversation" in text


def test_a_server_failure_says_try_again_and_a_missing_feature_says_so(client, scripted_server):
    scripted_server.engine.enqueue([ErrorBefore(500, "the runner crashed")])
    with pytest.raises(ServerError) as failed:
        client.chat(MODEL, USER)
    assert str(failed.value) == (
        "The server failed (HTTP 500): the runner crashed. Try again; if it persists, check the server's log."
    )
    with (
        EmbeddedServer(ScriptedEngine(can_pull=False)) as server,
        OllamaClient(server.url) as other,
        pytest.raises(ServerError) as missing,
    ):
        list(other.pull("llama3.2"))
    assert missing.value.status == 501
    assert str(missing.value).startswith("The server does not offer this (HTTP 501): the embedded backend")
    assert "Try again" not in str(missing.value)


def test_an_api_the_server_lacks_says_to_check_the_host():
    lacking = ollama.ResponseError("404 page not found", 404)  # what Ollama answers on a path it lacks
    error = translate_error(lacking, host="http://h:1", model=MODEL)
    assert isinstance(error, ServerError) and error.status == 404 and "OLLAMA_HOST" in str(error)


@pytest.mark.parametrize(
    ("text", "capability"),
    [
        ('"llama3.2" does not support thinking', "thinking"),
        ("registry.ollama.ai/library/x:latest does not support tools", "tools"),
        ("llama3 does not support tools", "tools"),
        ("model 'x' does not support insert", "insert"),
        ('"m" does not support images: it is a text-only model (no vision)', "images"),
    ],
)
def test_capability_refusals_in_every_wording_ollama_uses(text, capability):
    error = translate_error(ollama.ResponseError(text, 400), host="http://h:1", model="x")
    assert isinstance(error, CapabilityMissing) and error.capability == capability and error.detail == text


@pytest.mark.parametrize(
    "text",
    [
        "raw mode does not support template, system, or context",
        "the embedded backend does not support a custom template",
    ],
)
def test_other_refusals_that_say_does_not_support_are_not_capabilities(text):
    error = translate_error(ollama.ResponseError(text, 400), host="http://h:1", model="x")
    assert type(error) is ServerError and error.status == 400 and "refused the request" in str(error)
