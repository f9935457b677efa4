"""Faults on the OpenAI-compatible API: engine errors before and during a stream, broken streams, clients that
leave, one generation at a time shared with the Ollama API, and paths or methods it does not serve."""

from __future__ import annotations

import json
import threading
import time

import httpx
import ollama
import openai
import pytest

from core.embedded.scripted import Delay, Drop, ErrorBefore, ErrorLine, MalformedLine, Stall

USER = [{"role": "user", "content": "hi"}]


@pytest.fixture
def client(scripted_server):
    with openai.OpenAI(base_url=scripted_server.url + "/v1", api_key="unused", max_retries=0) as made:
        yield made


def body(**extra) -> dict:
    return {"model": "smollm2:135m", "messages": USER, **extra}


# --- engine errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "message", "kind", "param", "code"),
    [
        (500, "unable to load model smollm2:135m: out of memory", "server_error", None, None),
        (400, "the input length exceeds the context length", "invalid_request_error", "messages",
         "context_length_exceeded"),
        (404, "model 'smollm2:135m' not found", "invalid_request_error", "model", "model_not_found"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("stream", [False, True])
def test_an_engine_error_before_any_chunk_is_an_http_error(scripted_server, status, message, kind, param, code,
                                                           stream):  # fmt: skip
    scripted_server.engine.enqueue([ErrorBefore(status, message)])
    answer = httpx.post(scripted_server.url + "/v1/chat/completions", json=body(stream=stream))
    assert answer.status_code == status
    assert answer.json() == {"error": {"message": message, "type": kind, "param": param, "code": code}}


def test_a_server_error_reaches_the_client_as_its_exception(scripted_server, client):
    scripted_server.engine.enqueue([ErrorBefore(500, "unable to load model smollm2:135m: bad file")])
    with pytest.raises(openai.InternalServerError) as err:
        client.chat.completions.create(model="smollm2:135m", messages=USER, stream=True)
    assert "bad file" in err.value.message and err.value.type == "server_error"


def test_an_error_mid_stream_is_an_error_event_without_done(scripted_server, client):
    scripted_server.engine.enqueue(["partial", ErrorLine("llama runner process has terminated")])
    answer = httpx.post(scripted_server.url + "/v1/chat/completions", json=body(stream=True))
    assert answer.status_code == 200
    frames = answer.text.split("\n\n")
    assert frames[-1] == "" and "[DONE]" not in answer.text
    assert json.loads(frames[-2].removeprefix("data: ")) == {
        "error": {
            "message": "llama runner process has terminated",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }
    scripted_server.engine.enqueue(["partial", ErrorLine("llama runner process has terminated")])
    seen = []
    with pytest.raises(openai.APIError) as err:
        for chunk in client.chat.completions.create(model="smollm2:135m", messages=USER, stream=True):
            seen.append(chunk.choices[0].delta.content)
    assert seen == ["", "partial"] and "terminated" in err.value.message


def test_an_error_mid_generation_without_stream_is_a_500(scripted_server, client):
    scripted_server.engine.enqueue(["partial", ErrorLine("llama runner process has terminated")])
    with pytest.raises(openai.InternalServerError) as err:
        client.chat.completions.create(model="smollm2:135m", messages=USER)
    assert err.value.status_code == 500 and "terminated" in err.value.message


def test_a_malformed_event_is_written_verbatim(scripted_server, client):
    scripted_server.engine.enqueue(["ok", MalformedLine("{not json"), "more"])
    answer = httpx.post(scripted_server.url + "/v1/chat/completions", json=body(stream=True))
    assert "\n\ndata: {not json\n\n" in answer.text
    scripted_server.engine.enqueue(["ok", MalformedLine("{not json")])
    with pytest.raises(ValueError):  # the client cannot decode the event
        list(client.chat.completions.create(model="smollm2:135m", messages=USER, stream=True))


def test_a_dropped_connection_mid_stream_is_a_connection_error(scripted_server, client):
    scripted_server.engine.enqueue(["ok", Drop()])
    with pytest.raises(openai.APIConnectionError):
        list(client.chat.completions.create(model="smollm2:135m", messages=USER, stream=True))
    scripted_server.engine.enqueue(["ok", Drop()])
    with pytest.raises(openai.APIConnectionError):
        client.completions.create(model="gemma3:270m", prompt="p")


# --- clients that leave -------------------------------------------------------------------------------------


def test_a_client_leaving_mid_stream_stops_the_generation(scripted_server, client):
    engine = scripted_server.engine
    engine.enqueue(["first", Delay(0.2), "second", Delay(30), "never"])
    stream = client.chat.completions.create(model="smollm2:135m", messages=USER, stream=True)
    for chunk in stream:
        if chunk.choices[0].delta.content == "first":
            break
    left = time.monotonic()
    stream.close()
    generation = engine.wait_generation_end(timeout=10)
    assert generation.stopped_by_cancel and not generation.finished
    assert generation.ended - left < 5  # stopped at once, not after the 30 s step
    engine.enqueue(["next"])  # the line is free for the next request
    reply = client.chat.completions.create(model="smollm2:135m", messages=USER)
    assert reply.choices[0].message.content == "next"


def test_a_client_that_times_out_without_stream_stops_the_generation(scripted_server):
    engine = scripted_server.engine
    engine.enqueue(["a", Stall(30), "b"])
    impatient = openai.OpenAI(base_url=scripted_server.url + "/v1", api_key="x", max_retries=0, timeout=0.5)
    with impatient, pytest.raises(openai.APITimeoutError):
        impatient.completions.create(model="gemma3:270m", prompt="p")
    generation = engine.wait_generation_end(timeout=10)
    assert generation.stopped_by_cancel and not generation.finished


def test_one_generation_at_a_time_across_the_openai_and_ollama_apis(scripted_server, client):
    engine = scripted_server.engine
    engine.enqueue(["slow", Delay(0.6), "reply"], ["quick"])
    done: list[str] = []

    def openai_side() -> None:
        reply = client.chat.completions.create(model="smollm2:135m", messages=USER)
        done.append(reply.choices[0].message.content)

    worker = threading.Thread(target=openai_side)
    worker.start()
    deadline = time.monotonic() + 5
    while not engine.generations and time.monotonic() < deadline:
        time.sleep(0.01)
    ollama_reply = ollama.Client(host=scripted_server.url).chat("smollm2:135m", messages=USER)
    worker.join(10)
    assert done == ["slowreply"] and ollama_reply.message.content == "quick"
    first, second = engine.wait_ended(2)
    assert first.ended <= second.started  # the Ollama request waited for the OpenAI one


# --- paths and methods --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "code", "words"),
    [
        ("GET", "/v1/chat/completions", 405, None, "use POST"),
        ("POST", "/v1/models", 405, None, "use GET"),
        ("DELETE", "/v1/models/smollm2:135m", 405, None, "use GET"),
        ("POST", "/v1/embeddings", 501, "not_implemented", "does not offer /v1/embeddings"),
        ("POST", "/v1/responses", 501, "not_implemented", "does not offer /v1/responses"),
        ("GET", "/v1/nothing", 404, None, "Invalid URL (GET /v1/nothing)"),
    ],
)
def test_paths_and_methods_it_does_not_serve_answer_in_openais_shape(scripted_server, method, path, status, code,
                                                                     words):  # fmt: skip
    answer = httpx.request(method, scripted_server.url + path, json={"model": "smollm2:135m"})
    assert answer.status_code == status
    error = answer.json()["error"]
    assert words in error["message"] and error["code"] == code and error["type"] == "invalid_request_error"
    assert "/v1/chat/completions" in error["message"] or status == 405
    if status == 405:
        assert answer.headers["allow"] in ("GET", "POST")


def test_the_ollama_api_beside_it_is_unchanged(scripted_server):
    assert httpx.get(scripted_server.url + "/").text == "Ollama is running"
    missing = httpx.post(scripted_server.url + "/api/nothing", json={})
    assert (missing.status_code, missing.text) == (404, "404 page not found")
    bad = httpx.post(scripted_server.url + "/api/chat", content=b"{")
    assert bad.status_code == 400 and bad.json() == {"error": "unexpected EOF"}
    with pytest.raises(ollama.ResponseError) as err:
        ollama.Client(host=scripted_server.url).chat("gpt-4o", messages=USER)
    assert err.value.status_code == 404 and err.value.error == "model 'gpt-4o' not found"


# --- LangChain -------------------------------------------------------------------------------------------------


def test_langchain_chat_openai_streams_an_answer_with_usage(scripted_server):
    from langchain_openai import ChatOpenAI

    scripted_server.engine.enqueue(["Bonjour", " !"])
    llm = ChatOpenAI(
        model="smollm2:135m",
        base_url=scripted_server.url + "/v1",
        api_key="unused",
        stream_usage=True,
        max_retries=0,
    )
    chunks = list(llm.stream("Say hello in French"))
    assert "".join(c.content for c in chunks) == "Bonjour !"
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    assert total.usage_metadata["output_tokens"] == 2
    assert total.response_metadata["finish_reason"] == "stop"
    sent = scripted_server.engine.bodies("/v1/chat/completions")[-1]
    assert sent["stream"] is True and sent["messages"] == [{"role": "user", "content": "Say hello in French"}]
