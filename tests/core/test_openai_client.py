"""core.openai_client against the protocol-level stand-in (tests/fixtures/openai_servers.py): what a real
server will not do on demand (no model list, no usage, llama-server's timings, a refused key, an error event,
a dropped stream) and what is sent (the key, the translated options, images, stream_options)."""

from __future__ import annotations

import base64
import socket
import threading

import pytest

from config import load_settings, parse_host
from core.backend import connect, connect_to, make_client
from core.errors import (
    ModelNotFound,
    NotSupported,
    ServerError,
    ServerUnreachable,
    StreamBroken,
    exit_code,
)
from core.ollama_client import ContentChunk, FinalChunk, OllamaClient
from core.openai_client import OpenAIClient, api_base, is_openai_host
from core.openai_stream import DONE, sse_events
from core.openai_wire import request_options

USER = [{"role": "user", "content": "hi"}]
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


# -- naming the server ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("given", "normalised", "openai"),
    [
        ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8080/v1", True),
        ("127.0.0.1:8080/v1/", "http://127.0.0.1:8080/v1", True),
        ("openai:http://127.0.0.1:8000", "http://127.0.0.1:8000/v1", True),
        ("OpenAI:localhost:1234", "http://localhost:1234/v1", True),
        (
            "openai:https://api.example.com/v1beta/openai",
            "openai:https://api.example.com:443/v1beta/openai",
            True,
        ),
        ("http://127.0.0.1:11434", "http://127.0.0.1:11434", False),
        ("example.com:56789/path/", "http://example.com:56789/path", False),
        ("http://host/v1x", "http://host:80/v1x", False),
    ],
)
def test_a_host_ending_in_v1_or_written_openai_is_spoken_to_with_the_openai_api(given, normalised, openai):
    assert parse_host(given) == normalised
    assert is_openai_host(given) is openai
    kind = OpenAIClient if openai else OllamaClient
    client = make_client(given)
    try:
        assert isinstance(client, kind) and client.host == normalised
    finally:
        client.close()
    if openai:
        assert api_base(given) == normalised.removeprefix("openai:")


def test_settings_keep_an_openai_host_from_the_environment():
    settings = load_settings(env={"OLLAMA_HOST": "openai:127.0.0.1:8080"})
    assert settings.ollama_host == "http://127.0.0.1:8080/v1"


# -- what is sent -----------------------------------------------------------------------------------------
def test_ollama_options_become_openai_parameters_and_the_rest_is_named():
    params, dropped = request_options(
        {"num_predict": 64, "temperature": 0.2, "top_k": 5, "stop": ["\n"], "num_ctx": 4096, "num_gpu": 1}
    )
    assert params == {"max_tokens": 64, "temperature": 0.2, "top_k": 5, "stop": ["\n"]}
    assert dropped == ["num_ctx", "num_gpu"]
    assert request_options({"num_predict": -1})[0] == {}  # "no limit" is the server's default


def test_the_request_carries_options_usage_request_images_and_format(openai_stand_in, tmp_path):
    image = tmp_path / "dot.png"
    image.write_bytes(PNG)
    with OpenAIClient(openai_stand_in.url) as client:
        message = {"role": "user", "content": "what is this?", "images": [str(image)]}
        reply = client.chat(
            "stand-in-model", [message], options={"num_predict": 9, "seed": 3, "num_ctx": 99}, format="json"
        )
    assert reply.text == "Hello from the stand-in."
    (body,) = openai_stand_in.bodies("/v1/chat/completions")
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["max_tokens"] == 9 and body["seed"] == 3 and "num_ctx" not in body
    assert body["response_format"] == {"type": "json_object"}
    text, picture = body["messages"][0]["content"]
    assert text == {"type": "text", "text": "what is this?"}
    assert picture["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(PNG).decode()


def test_thinking_schema_and_think_flag(openai_stand_in):
    """reasoning_content deltas are thinking; a JSON schema is a json_schema response_format; think=False
    goes to the chat template (llama-server, vLLM), a level as reasoning_effort."""
    from core.ollama_client import ThinkingChunk

    openai_stand_in.reasoning = ["Let me", " think."]
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    with OpenAIClient(openai_stand_in.url) as client:
        stream = client.chat_stream("stand-in-model", USER, think=False, format=schema)
        chunks = list(stream)
        client.chat("stand-in-model", USER, think="high")
    assert [c.text for c in chunks if isinstance(c, ThinkingChunk)] == ["Let me", " think."]
    assert stream.thinking == "Let me think." and stream.text == "Hello from the stand-in."
    assert stream.stats.ttft_s is not None  # the first thought is the first token
    first, second = openai_stand_in.bodies("/v1/chat/completions")
    assert first["chat_template_kwargs"] == {"enable_thinking": False}
    assert first["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "reply", "schema": schema, "strict": True},
    }
    assert second["reasoning_effort"] == "high" and "chat_template_kwargs" not in second


def test_openai_api_key_is_sent_as_a_bearer_token(openai_stand_in, monkeypatch):
    openai_stand_in.api_key = "sk-local-123"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-123")
    with OpenAIClient(openai_stand_in.url) as client:
        assert [m.name for m in client.list_models()] == ["stand-in-model"]
        assert client.chat("stand-in-model", USER).text == "Hello from the stand-in."
    assert openai_stand_in.requests, "nothing reached the server"
    for request in openai_stand_in.requests:
        assert request.headers["authorization"] == "Bearer sk-local-123", request.path


def test_no_key_is_sent_when_openai_api_key_is_unset(openai_stand_in):
    with OpenAIClient(openai_stand_in.url) as client:
        client.chat("stand-in-model", USER)
    assert all("authorization" not in r.headers for r in openai_stand_in.requests)


@pytest.mark.parametrize("key", [None, "sk-wrong"])
def test_a_refused_key_says_what_to_set(openai_stand_in, monkeypatch, key):
    openai_stand_in.api_key = "sk-right"
    if key:
        monkeypatch.setenv("OPENAI_API_KEY", key)
    with OpenAIClient(openai_stand_in.url) as client, pytest.raises(ServerError) as caught:
        client.list_models()
    assert caught.value.status == 401
    wanted = "OPENAI_API_KEY was refused" if key else "set OPENAI_API_KEY"
    assert wanted in str(caught.value) and "Incorrect API key provided" in str(caught.value)


# -- statistics -------------------------------------------------------------------------------------------
def test_tokens_per_second_come_from_usage_and_the_time_measured_here(openai_stand_in):
    openai_stand_in.delay_s = 0.05
    with OpenAIClient(openai_stand_in.url) as client:
        stream = client.chat_stream("stand-in-model", USER)
        chunks = list(stream)
    stats = stream.stats
    assert isinstance(chunks[-1], FinalChunk) and chunks[-1].stats is stats
    assert stats.counts_from == "usage" and stats.eval_count == 5 and stats.prompt_eval_count == 11
    assert 0.04 < stats.ttft_s < stats.total_s
    # 4 tokens after the first, each 50 ms apart: the rate is 4 / (time between the first and the last token)
    gap_s = stats.eval_duration_ns / 1e9 * 4 / 5
    assert 0.15 < gap_s < 0.2 + 0.5 and stats.gen_tps == pytest.approx(4 / gap_s, rel=1e-3)
    assert stats.done_reason == "stop" and stats.prompt_tps is None  # no prompt time in usage
    assert stats.to_dict()["counts_from"] == "usage"


def test_llama_server_timings_are_the_servers_own_figures(openai_stand_in):
    openai_stand_in.timings = {"prompt_n": 11, "prompt_ms": 22.0, "predicted_n": 5, "predicted_ms": 50.0}
    with OpenAIClient(openai_stand_in.url) as client:
        stats = client.chat("stand-in-model", USER).stats
    assert stats.counts_from == "server"
    assert stats.gen_tps == pytest.approx(100.0) and stats.prompt_tps == pytest.approx(500.0)


def test_a_server_without_usage_gives_no_tokens_per_second_and_says_so(openai_stand_in):
    from cli.render import format_stats

    openai_stand_in.usage = False
    with OpenAIClient(openai_stand_in.url) as client:
        stats = client.chat("stand-in-model", USER).stats
    assert stats.counts_from == "" and stats.eval_count is None and stats.gen_tps is None
    assert stats.ttft_s is not None and stats.total_s >= stats.ttft_s
    assert "tok/s not reported (the server sent no token counts)" in format_stats(stats)


# -- what the server lacks ---------------------------------------------------------------------------------
def test_a_server_without_a_model_list_says_so_and_still_chats(openai_stand_in):
    openai_stand_in.models = None
    with OpenAIClient(openai_stand_in.url) as client:
        with pytest.raises(NotSupported) as caught:
            client.list_models()
        assert "cannot list its models" in str(caught.value) and "HTTP 404" in str(caught.value)
        assert "-m NAME" in str(caught.value)
        assert client.chat("any-name", USER).text == "Hello from the stand-in."  # the name is not checked
        assert client.show("any-name").context_length is None


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda c: c.pull("x"), "cannot pull models"),
        (lambda c: c.ps(), "cannot say which models are loaded"),
        (lambda c: c.unload("x"), "cannot unload a model"),
        (lambda c: c.delete("x"), "cannot delete models"),
        (lambda c: c.create("x", from_="y"), "cannot create models"),
    ],
)
def test_what_the_openai_api_has_no_call_for_is_refused_with_advice(openai_stand_in, call, words):
    with OpenAIClient(openai_stand_in.url) as client, pytest.raises(NotSupported) as caught:
        call(client)
    assert words in str(caught.value) and "the OpenAI API has no such call" in str(caught.value)
    assert exit_code(caught.value) == 5
    assert not openai_stand_in.requests, "nothing is sent for a call the API does not have"


def test_an_unknown_model_names_those_served_before_anything_is_generated(openai_stand_in):
    openai_stand_in.models = ["alpha", "beta:7b"]
    with OpenAIClient(openai_stand_in.url) as client:
        with pytest.raises(ModelNotFound) as caught:
            client.chat("gamma", USER)
        assert "it serves alpha, beta:7b" in str(caught.value) and exit_code(caught.value) == 4
        assert client.chat("alpha:latest", USER).text  # Ollama's implicit tag matches...
    # ...and the server gets its own spelling; nothing was sent for the unknown one
    assert [b["model"] for b in openai_stand_in.bodies("/v1/chat/completions")] == ["alpha"]


def test_the_servers_own_model_not_found_is_understood(openai_stand_in):
    """A server whose list is gone (or hides the model) refuses with OpenAI's 404 model_not_found."""
    openai_stand_in.models = None
    with OpenAIClient(openai_stand_in.url) as client:
        client._no_list = True  # noqa: SLF001 - as after a list request answered 404
        openai_stand_in.models = ["alpha"]
        with pytest.raises(ModelNotFound) as caught:
            client.chat("gamma", USER)
    assert "not served by the OpenAI-compatible server" in str(caught.value)


# -- broken streams and unreachable servers ----------------------------------------------------------------
def test_an_error_event_mid_stream_keeps_the_partial_reply(openai_stand_in):
    openai_stand_in.error_after = 2
    with OpenAIClient(openai_stand_in.url) as client:
        stream = client.chat_stream("stand-in-model", USER)
        seen = []
        with pytest.raises(StreamBroken) as caught:
            for chunk in stream:
                seen.append(chunk)
    assert "stand-in: the model crashed" in str(caught.value)
    assert [c.text for c in seen if isinstance(c, ContentChunk)] == ["Hello", " from"]
    assert stream.text == "Hello from" and stream.stats is None


def test_a_stream_cut_before_it_ends_is_reported(openai_stand_in):
    openai_stand_in.drop_after = 3
    with OpenAIClient(openai_stand_in.url) as client, pytest.raises(StreamBroken) as caught:
        client.chat("stand-in-model", USER)
    assert "closed the stream before it said the reply was complete" in str(caught.value)


def test_a_server_that_ignores_stream_still_answers(openai_stand_in):
    openai_stand_in.ignore_stream = True
    with OpenAIClient(openai_stand_in.url) as client:
        reply = client.chat("stand-in-model", USER)
        raw = client.generate("stand-in-model", "def f():", raw=True)
    assert reply.text == raw.text == "Hello from the stand-in."
    assert reply.stats.counts_from == "usage" and reply.stats.eval_count == 5


def test_an_http_error_from_the_server_is_a_server_error(openai_stand_in):
    openai_stand_in.status = 500
    with OpenAIClient(openai_stand_in.url) as client, pytest.raises(ServerError) as caught:
        client.chat("stand-in-model", USER)
    assert caught.value.status == 500 and "stand-in failure 500" in str(caught.value)


def test_nothing_listening_is_an_unreachable_openai_server():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = OpenAIClient(f"http://127.0.0.1:{port}/v1", connect_timeout=1)
    assert client.identify() is None and not client.ping()
    with pytest.raises(ServerUnreachable) as caught:
        client.chat("m", USER)
    assert str(caught.value).startswith(
        f"Cannot reach the OpenAI-compatible server at http://127.0.0.1:{port}/v1"
    )
    assert exit_code(caught.value) == 3
    settings = load_settings({"ollama_host": f"http://127.0.0.1:{port}/v1", "embedded": "off"})
    with pytest.raises(ServerUnreachable) as again:
        connect(settings)
    assert "OpenAI-compatible server" in str(again.value) and "embedded backend is turned off" in str(
        again.value
    )
    with pytest.raises(ServerUnreachable, match="Cannot reach the OpenAI-compatible server"):
        connect_to(settings, settings.ollama_host)


def test_connect_names_an_openai_server(openai_stand_in):
    settings = load_settings({"ollama_host": f"openai:{openai_stand_in.base}", "embedded": "off"})
    backend = connect(settings)
    try:
        assert backend.kind == "openai" and backend.host == openai_stand_in.url
        assert backend.note == f"Using the OpenAI-compatible server at {openai_stand_in.url}."
        assert isinstance(backend.client, OpenAIClient) and backend.client.ping()
    finally:
        backend.close()


@pytest.mark.parametrize(
    ("timeouts", "phase"),
    [
        ({"first_token_timeout": 0.5}, "first token"),
        ({"first_token_timeout": 10, "stall_timeout": 0.5}, "between chunks"),
    ],
)
def test_a_silent_server_is_stopped_at_its_deadline(openai_stand_in, timeouts, phase):
    from core.errors import StreamStalled

    openai_stand_in.delay_s = 3.0  # before every delta, the first one included
    openai_stand_in.reply = ["a", "b"]
    with OpenAIClient(openai_stand_in.url, **timeouts) as client, pytest.raises(StreamStalled) as caught:
        client.chat("stand-in-model", USER)
    assert caught.value.phase == phase


def test_cancel_from_another_thread_ends_the_stream_quietly(openai_stand_in):
    openai_stand_in.delay_s = 0.5
    openai_stand_in.reply = ["tick"] * 40
    with OpenAIClient(openai_stand_in.url) as client:
        stream = client.chat_stream("stand-in-model", USER)
        first = threading.Event()
        seen = []

        def read() -> None:
            for chunk in stream:
                seen.append(chunk)
                first.set()

        reader = threading.Thread(target=read)
        reader.start()
        assert first.wait(10)
        stream.cancel()
        reader.join(5)
    assert not reader.is_alive() and stream.cancelled and stream.stats is None
    assert 1 <= len(seen) < 40


# -- the SSE reader ------------------------------------------------------------------------------------------
def test_sse_events_follow_the_event_stream_rules():
    lines = [": comment", "data: {\"a\":", "data: 1}", "", "event: x", "data: {\"b\": 2}", "", "data: [DONE]", "",
             "data: {\"after\": 1}", ""]  # fmt: skip
    assert list(sse_events(lines)) == [{"a": 1}, {"b": 2}, DONE]
    assert list(sse_events(['data: {"tail": true}'])) == [{"tail": True}]  # closed without a blank line
    with pytest.raises(StreamBroken, match="not JSON"):
        list(sse_events(["data: <html>", ""]))
    with pytest.raises(StreamBroken, match="not a JSON object"):
        list(sse_events(["data: [1, 2]", ""]))


# -- the stand-in is the real protocol -----------------------------------------------------------------------
def test_the_stand_in_speaks_the_protocol_the_official_openai_client_reads(openai_stand_in):
    openai = pytest.importorskip("openai")
    client = openai.OpenAI(base_url=openai_stand_in.url, api_key="sk-any", max_retries=0)
    assert [m.id for m in client.models.list()] == ["stand-in-model"]
    stream = client.chat.completions.create(
        model="stand-in-model", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert (
        "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello from the stand-in."
    )
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 5
    completion = client.completions.create(model="stand-in-model", prompt="x", stream=True)
    assert "".join(c.choices[0].text for c in completion) == "Hello from the stand-in."
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="nope", messages=USER)
    assert caught.value.code == "model_not_found"
    openai_stand_in.api_key = "sk-other"
    with pytest.raises(openai.AuthenticationError):
        client.models.list()
