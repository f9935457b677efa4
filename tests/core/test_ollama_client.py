"""OllamaClient streaming against the real embedded server with a ScriptedEngine: chunks, stats, errors."""

from __future__ import annotations

import json

import httpx
import ollama
import pytest

from core.embedded.scripted import Delay, Drop, ErrorBefore, ErrorLine, MalformedLine, Script, Think
from core.errors import (
    CapabilityMissing,
    IAError,
    ModelNotFound,
    ServerError,
    ServerUnreachable,
    StreamBroken,
    StreamStalled,
)
from core.ollama_client import (
    ChatStream,
    ContentChunk,
    FinalChunk,
    OllamaClient,
    StreamStats,
    ThinkingChunk,
    translate_error,
)

USER = [{"role": "user", "content": "hello there"}]
MODEL = "smollm2:135m"


@pytest.fixture
def client(scripted_server):
    with OllamaClient(scripted_server.url, connect_timeout=2, first_token_timeout=10, stall_timeout=10) as c:
        yield c


def _assert_next_request_works(client: OllamaClient, engine) -> None:
    engine.enqueue(["still", " fine"])
    assert client.chat(MODEL, USER).text == "still fine"


def test_chat_stream_yields_content_then_one_final_chunk(client, scripted_server):
    scripted_server.engine.enqueue(["Hel", "lo", " you"])
    stream = client.chat_stream(MODEL, USER, options={"temperature": 0.1})
    chunks = list(stream)
    assert chunks[:-1] == [ContentChunk("Hel"), ContentChunk("lo"), ContentChunk(" you")]
    assert isinstance(chunks[-1], FinalChunk) and chunks[-1].stats is stream.stats
    assert stream.text == "Hello you" and stream.thinking == "" and not stream.cancelled
    body = scripted_server.engine.bodies("/api/chat")[-1]
    assert body["model"] == MODEL and body["stream"] is True
    assert body["messages"] == USER and body["options"] == {"temperature": 0.1}


def test_request_is_sent_lazily_on_first_next(client, scripted_server):
    stream = client.chat_stream(MODEL, USER)
    assert scripted_server.engine.bodies("/api/chat") == []
    next(iter(stream))
    assert len(scripted_server.engine.bodies("/api/chat")) == 1
    stream.close()


def test_stats_come_from_the_server_counts_and_our_clock(client, scripted_server):
    scripted_server.engine.enqueue(Script([Delay(0.2), "a", "b", "c", "d"], prompt_eval_count=7))
    stream = client.chat_stream(MODEL, USER)
    list(stream)
    stats = stream.stats
    assert stats.model == MODEL and stats.host == client.host
    assert stats.done_reason == "stop"
    assert stats.eval_count == 4 and stats.prompt_eval_count == 7
    assert stats.load_duration_ns == 1_000_000  # the scripted engine's first load of the model
    assert stats.gen_tps == pytest.approx(4 / stats.eval_duration_ns * 1e9)
    assert stats.prompt_tps == pytest.approx(7 / stats.prompt_eval_duration_ns * 1e9)
    assert stats.load_s == pytest.approx(0.001)
    assert 0.2 <= stats.ttft_s <= stats.total_s  # the Delay comes before the first token
    assert stats.total_duration_ns >= stats.eval_duration_ns


def test_num_predict_limit_gives_done_reason_length(client, scripted_server):
    scripted_server.engine.enqueue(["one", " two", " three", " four"])
    reply = client.chat(MODEL, USER, options={"num_predict": 2})
    assert reply.text == "one two"
    assert reply.stats.done_reason == "length" and reply.stats.eval_count == 2


def test_stream_stats_derived_rates_from_known_durations():
    stats = StreamStats(
        model="m",
        host="h",
        ttft_s=0.5,
        total_s=2.0,
        done_reason="stop",
        eval_count=282,
        eval_duration_ns=4_535_599_000,
        prompt_eval_count=26,
        prompt_eval_duration_ns=342_546_000,
        load_duration_ns=1_334_875,
        total_duration_ns=4_883_583_458,
    )
    assert stats.gen_tps == pytest.approx(62.175, rel=1e-4)
    assert stats.prompt_tps == pytest.approx(75.902, rel=1e-4)
    assert stats.load_s == pytest.approx(0.001334875)
    as_dict = stats.to_dict()
    assert as_dict["eval_count"] == 282 and as_dict["gen_tps"] == stats.gen_tps
    missing = StreamStats("m", "h", None, 1.0, "stop", None, None, 3, 0, None, None)
    assert missing.gen_tps is None and missing.prompt_tps is None and missing.load_s is None


def test_thinking_chunks_are_typed_and_collected(client, scripted_server):
    scripted_server.engine.enqueue([Think("Let me"), Think(" think."), "Answer"])
    stream = client.chat_stream("thinker", USER, think=True)
    chunks = list(stream)
    assert chunks[:3] == [ThinkingChunk("Let me"), ThinkingChunk(" think."), ContentChunk("Answer")]
    assert stream.thinking == "Let me think." and stream.text == "Answer"
    assert stream.stats.ttft_s is not None


def test_generate_stream_sends_prompt_raw_and_system(client, scripted_server):
    scripted_server.engine.enqueue(["def f():", "\n    return 1"])
    stream = client.generate_stream("gemma3:270m", "def f", raw=True, options={"stop": ["\n\n"]})
    assert [c.text for c in stream if isinstance(c, ContentChunk)] == ["def f():", "\n    return 1"]
    assert stream.stats.eval_count == 2
    body = scripted_server.engine.bodies("/api/generate")[-1]
    assert body["prompt"] == "def f" and body["raw"] is True and body["options"] == {"stop": ["\n\n"]}
    scripted_server.engine.enqueue(["ok"])
    reply = client.generate("gemma3:270m", "Say ok", system="Be brief")
    assert reply.text == "ok" and scripted_server.engine.bodies("/api/generate")[-1]["system"] == "Be brief"


def test_images_are_sent_as_base64_and_missing_files_refused(client, scripted_server, tmp_path):
    picture = tmp_path / "pixel.png"
    picture.write_bytes(b"\x89PNG fake pixel")
    scripted_server.engine.enqueue(["a picture"])
    reply = client.chat("vision", [{"role": "user", "content": "what?", "images": [str(picture)]}])
    assert reply.text == "a picture"
    sent = scripted_server.engine.bodies("/api/chat")[-1]["messages"][0]["images"]
    assert sent == ["iVBORyBmYWtlIHBpeGVs"]  # base64 of the file's bytes
    with pytest.raises(IAError, match="does not exist"):
        client.chat_stream(
            "vision", [{"role": "user", "content": "x", "images": [str(tmp_path / "gone.png")]}]
        )


def test_empty_model_name_is_refused_with_a_clear_message(client):
    with pytest.raises(IAError, match="No model was chosen"):
        client.chat_stream("", USER)


def test_start_sends_the_request_and_keeps_the_first_chunk(client, scripted_server):
    scripted_server.engine.enqueue(["first", " second"])
    stream = client.chat_stream(MODEL, USER)
    stream.start()
    assert len(scripted_server.engine.bodies("/api/chat")) == 1
    assert [c.text for c in stream if not isinstance(c, FinalChunk)] == ["first", " second"]


@pytest.mark.parametrize(
    ("steps", "model", "think", "error", "fragments"),
    [
        (
            [ErrorBefore(500, "the runner crashed")],
            MODEL,
            None,
            ServerError,
            ["HTTP 500", "the runner crashed"],
        ),
        (
            ["a", ErrorLine("an error was encountered while running the model")],
            MODEL,
            None,
            StreamBroken,
            ["cut off", "running the model", "partial reply is kept"],
        ),
        (["a", MalformedLine('{"model": oops')], MODEL, None, StreamBroken, ["not JSON", "oops"]),
        (["a", Drop()], MODEL, None, StreamBroken, ["connection was dropped"]),
        (None, "nope", None, ModelNotFound, ["'nope'", "pull it"]),
        (None, MODEL, True, CapabilityMissing, ["does not support thinking", "turn thinking off"]),
    ],
    ids=["server-error", "error-line", "malformed-line", "dropped", "model-not-found", "no-thinking"],
)
def test_each_failure_has_its_error_type_and_the_client_recovers(
    client, scripted_server, steps, model, think, error, fragments
):
    if steps is not None:  # refused before generation: such requests take no script
        scripted_server.engine.enqueue(steps)
    stream = client.chat_stream(model, USER, think=think)
    with pytest.raises(error) as caught:
        list(stream)
    for fragment in fragments:
        assert fragment in str(caught.value)
    if isinstance(caught.value, CapabilityMissing):
        assert caught.value.capability == "thinking" and caught.value.model == MODEL
    if error is StreamBroken:
        assert stream.text == "a"  # the partial reply stays readable
    _assert_next_request_works(client, scripted_server.engine)


def test_errors_are_core_errors_not_ollama_or_httpx(client, scripted_server):
    scripted_server.engine.enqueue([ErrorBefore(503, "server busy, please try again.")])
    with pytest.raises(ServerError) as caught:
        client.chat(MODEL, USER)
    assert caught.value.status == 503 and caught.value.detail == "server busy, please try again."
    assert not isinstance(caught.value, ollama.ResponseError)


@pytest.mark.parametrize("streaming", [True, False])
def test_unreachable_server_names_the_host_and_what_to_do(streaming):
    client = OllamaClient("127.0.0.1:9", connect_timeout=1)
    assert client.host == "http://127.0.0.1:9"
    assert client.ping() is False
    with pytest.raises(ServerUnreachable) as caught:
        if streaming:
            list(client.chat_stream(MODEL, USER))
        else:
            client.list_models()
    assert caught.value.host == "http://127.0.0.1:9"
    assert "http://127.0.0.1:9" in str(caught.value) and "ollama serve" in str(caught.value)
    client.close()


def test_ping_and_version(client):
    assert client.ping() is True
    assert client.version().count(".") == 2


def test_chat_stream_is_a_context_manager_that_closes(client, scripted_server):
    scripted_server.engine.enqueue(["a", Delay(5), "b"])
    with client.chat_stream(MODEL, USER) as stream:
        assert isinstance(stream, ChatStream)
        assert next(iter(stream)) == ContentChunk("a")
    assert stream.cancelled
    assert scripted_server.engine.wait_generation_end().stopped_by_cancel
    _assert_next_request_works(client, scripted_server.engine)


@pytest.mark.parametrize(
    ("exc", "expected", "attrs"),
    [
        (ollama.ResponseError('{"error":"model \'x\' not found"}', 404), ModelNotFound, {"model": "m"}),
        (ollama.ResponseError("404 page not found", 404), ServerError, {"status": 404}),
        (
            ollama.ResponseError('"m" does not support generate', 400),
            CapabilityMissing,
            {"capability": "generate"},
        ),
        (
            ollama.ResponseError("registry.ollama.ai/library/m:latest does not support tools", 400),
            CapabilityMissing,
            {"capability": "tools"},
        ),
        (ollama.ResponseError("boom"), StreamBroken, {}),  # status -1: an error line mid-stream
        (ollama.ResponseError("pull model manifest: file does not exist"), ModelNotFound, {}),
        (
            ConnectionError("Failed to connect to Ollama. Please check that Ollama is downloaded, running"),
            ServerUnreachable,
            {"host": "http://h:1"},
        ),
        (httpx.ConnectError("refused"), ServerUnreachable, {}),
        (httpx.ConnectTimeout("slow"), ServerUnreachable, {}),
        (httpx.ReadTimeout("timed out"), StreamStalled, {"phase": "between chunks", "seconds": 7.0}),
        (httpx.RemoteProtocolError("incomplete chunked read"), StreamBroken, {}),
        (httpx.ReadError("reset"), StreamBroken, {}),
        (json.JSONDecodeError("Expecting value", "{oops", 1), StreamBroken, {}),
    ],
)
def test_translate_error_maps_library_exceptions(exc, expected, attrs):
    error = translate_error(exc, host="http://h:1", model="m", read_timeout=7.0, got_data=True)
    assert type(error) is expected
    for name, value in attrs.items():
        assert getattr(error, name) == value
    assert isinstance(error, IAError) and len(str(error)) > 40  # a sentence a person can act on


def test_translate_error_leaves_unknown_exceptions_alone():
    bug = KeyError("x")
    assert translate_error(bug, host="h") is bug
