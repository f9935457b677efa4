"""The embedded server's OpenAI-compatible API, driven by ScriptedEngine: every shape, read as raw bytes and
through the official `openai` client (models, chat and text completions, streaming and not, usage)."""

from __future__ import annotations

import json
import re
import time

import httpx
import openai
import pytest

from core.embedded.scripted import Script, Think, scripted_model

USER = [{"role": "user", "content": "hi"}]
CHAT_ID = re.compile(r"chatcmpl-[A-Za-z0-9]{29}")
CMPL_ID = re.compile(r"cmpl-[A-Za-z0-9]{29}")


@pytest.fixture
def client(scripted_server):
    with openai.OpenAI(base_url=scripted_server.url + "/v1", api_key="unused", max_retries=0) as made:
        yield made


def events(response: httpx.Response) -> list[str]:
    """The data of each server-sent event, checking the framing: `data: …` events separated by a blank line."""
    body = response.text
    assert body.endswith("\n\n"), body[-80:]
    frames = body[:-2].split("\n\n")
    assert all(frame.startswith("data: ") and "\n" not in frame for frame in frames), frames
    return [frame.removeprefix("data: ") for frame in frames]


def post(url: str, path: str, body: dict) -> httpx.Response:
    return httpx.post(url + "/v1" + path, json=body, timeout=10)


# --- /v1/models ------------------------------------------------------------------------------------------


def test_models_lists_every_model_as_openai_does(scripted_server, client):
    answer = httpx.get(scripted_server.url + "/v1/models")
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    data = answer.json()
    assert data["object"] == "list"
    tags = [m["name"] for m in httpx.get(scripted_server.url + "/api/tags").json()["models"]]
    assert [m["id"] for m in data["data"]] == tags  # same models, same order (newest first) as /api/tags
    first = data["data"][0]
    assert set(first) == {"id", "object", "created", "owned_by"}
    assert first["object"] == "model" and first["owned_by"] == "library"
    assert first["created"] == 1767225600  # the scripted models' modified_at, 2026-01-01T00:00:00Z
    assert [m.id for m in client.models.list()] == tags


def test_a_model_is_retrieved_by_its_name_even_with_slashes(scripted_server, client):
    scripted_server.engine.set_models(scripted_model("hf.co/bartowski/Tiny-GGUF:Q4_K_M"), scripted_model("x"))
    model = client.models.retrieve("hf.co/bartowski/Tiny-GGUF:Q4_K_M")
    assert model.id == "hf.co/bartowski/Tiny-GGUF:Q4_K_M" and model.owned_by == "bartowski"
    assert client.models.retrieve("x").id == "x:latest"
    with pytest.raises(openai.NotFoundError) as err:
        client.models.retrieve("missing")
    assert err.value.code == "model_not_found" and "missing" in err.value.message
    assert "hf.co/bartowski/Tiny-GGUF:Q4_K_M" in err.value.message  # it says what is served


# --- chat completions --------------------------------------------------------------------------------------


def test_chat_without_stream_is_one_chat_completion(scripted_server):
    scripted_server.engine.enqueue(Script(["Hel", "lo", "!"], prompt_eval_count=9))
    before = int(time.time())
    answer = post(scripted_server.url, "/chat/completions", {"model": "smollm2:135m", "messages": USER})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    data = answer.json()
    assert list(data) == ["id", "object", "created", "model", "system_fingerprint", "choices", "usage"]
    assert CHAT_ID.fullmatch(data["id"]) and data["object"] == "chat.completion"
    assert before <= data["created"] <= int(time.time()) and data["model"] == "smollm2:135m"
    assert re.fullmatch(r"fp_[0-9a-f]{10}", data["system_fingerprint"])
    assert data["choices"] == [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hello!", "refusal": None},
            "logprobs": None,
            "finish_reason": "stop",
        }
    ]
    assert data["usage"] == {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}


def test_chat_through_the_official_client(scripted_server, client):
    scripted_server.engine.enqueue(["one ", "two"])
    reply = client.chat.completions.create(model="smollm2:135m", messages=USER)
    assert reply.choices[0].message.content == "one two" and reply.choices[0].finish_reason == "stop"
    assert reply.usage.completion_tokens == 2 and reply.usage.total_tokens == reply.usage.prompt_tokens + 2
    assert reply.model == "smollm2:135m" and reply.object == "chat.completion"


def test_streaming_chat_opens_with_the_role_and_ends_with_finish_and_done(scripted_server):
    scripted_server.engine.enqueue(["Hel", "lo"])
    answer = post(
        scripted_server.url, "/chat/completions", {"model": "smollm2:135m", "messages": USER, "stream": True}
    )
    assert answer.headers["content-type"] == "text/event-stream; charset=utf-8"
    frames = events(answer)
    assert frames[-1] == "[DONE]"
    chunks = [json.loads(frame) for frame in frames[:-1]]
    assert [c["choices"][0]["delta"] for c in chunks] == [
        {"role": "assistant", "content": ""},
        {"content": "Hel"},
        {"content": "lo"},
        {},
    ]
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None, None, None, "stop"]
    assert all("usage" not in c for c in chunks)  # no include_usage: no usage field at all
    assert len({c["id"] for c in chunks}) == 1 and CHAT_ID.fullmatch(chunks[0]["id"])
    assert len({c["created"] for c in chunks}) == 1
    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    first = chunks[0]
    assert list(first) == ["id", "object", "created", "model", "system_fingerprint", "choices"]
    assert first["choices"][0] == {
        "index": 0,
        "delta": {"role": "assistant", "content": ""},
        "logprobs": None,
        "finish_reason": None,
    }


def test_include_usage_adds_a_last_chunk_with_empty_choices(scripted_server):
    scripted_server.engine.enqueue(Script(["a", "b", "c"], prompt_eval_count=4))
    body = {
        "model": "smollm2:135m",
        "messages": USER,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    frames = events(post(scripted_server.url, "/chat/completions", body))
    chunks = [json.loads(frame) for frame in frames[:-1]]
    assert frames[-1] == "[DONE]"
    assert all(c["usage"] is None for c in chunks[:-1])  # as OpenAI: null on every chunk but the last
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}


def test_streaming_chat_with_usage_through_the_official_client(scripted_server, client):
    scripted_server.engine.enqueue(["x", "y", "z"])
    stream = client.chat.completions.create(
        model="smollm2:135m", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "xyz" and chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 3
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"


def test_an_empty_reply_still_opens_with_the_role(scripted_server):
    scripted_server.engine.enqueue([])
    body = {"model": "smollm2:135m", "messages": USER, "stream": True}
    chunks = [json.loads(f) for f in events(post(scripted_server.url, "/chat/completions", body))[:-1]]
    assert [c["choices"][0]["delta"] for c in chunks] == [{"role": "assistant", "content": ""}, {}]


@pytest.mark.parametrize("stream", [False, True])
def test_max_tokens_ends_with_finish_reason_length(scripted_server, client, stream):
    scripted_server.engine.enqueue(["a", "b", "c", "d"])
    if stream:
        chunks = list(
            client.chat.completions.create(model="smollm2:135m", messages=USER, max_tokens=2, stream=True)
        )
        assert "".join(c.choices[0].delta.content or "" for c in chunks) == "ab"
        assert chunks[-1].choices[0].finish_reason == "length"
    else:
        reply = client.chat.completions.create(model="smollm2:135m", messages=USER, max_tokens=2)
        assert reply.choices[0].message.content == "ab" and reply.choices[0].finish_reason == "length"
    assert scripted_server.engine.last_generation.options["num_predict"] == 2


def test_thinking_goes_to_reasoning_unless_effort_is_none(scripted_server, client):
    scripted_server.engine.enqueue([Think("plan "), "answer"], [Think("plan "), "answer"])
    body = {"model": "thinker", "messages": USER, "stream": True}
    chunks = [json.loads(f) for f in events(post(scripted_server.url, "/chat/completions", body))[:-1]]
    assert [c["choices"][0]["delta"] for c in chunks] == [
        {"role": "assistant", "content": ""},
        {"reasoning": "plan "},
        {"content": "answer"},
        {},
    ]
    quiet = client.chat.completions.create(model="thinker", messages=USER, reasoning_effort="none")
    assert (
        quiet.choices[0].message.content == "answer" and scripted_server.engine.last_generation.think is False
    )


# --- text completions ---------------------------------------------------------------------------------------


def test_completion_without_stream_is_one_text_completion(scripted_server, client):
    scripted_server.engine.enqueue(Script(["    return", " a + b"], prompt_eval_count=5))
    answer = post(scripted_server.url, "/completions", {"model": "gemma3:270m", "prompt": "def add(a, b):"})
    data = answer.json()
    assert list(data) == ["id", "object", "created", "model", "system_fingerprint", "choices", "usage"]
    assert CMPL_ID.fullmatch(data["id"]) and data["object"] == "text_completion"
    assert data["choices"] == [
        {"text": "    return a + b", "index": 0, "logprobs": None, "finish_reason": "stop"}
    ]
    assert data["usage"] == {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    generation = scripted_server.engine.last_generation
    assert generation.raw is True and generation.prompt == "def add(a, b):"  # read as it is, no template
    scripted_server.engine.enqueue(["!"])
    reply = client.completions.create(model="gemma3:270m", prompt="Hi", echo=True)
    assert reply.choices[0].text == "Hi!" and reply.object == "text_completion"


def test_streaming_completion_chunks_then_usage_then_done(scripted_server, client):
    scripted_server.engine.enqueue(["x", "y"])
    body = {
        "model": "gemma3:270m",
        "prompt": ["p"],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    frames = events(post(scripted_server.url, "/completions", body))
    assert frames[-1] == "[DONE]"
    chunks = [json.loads(frame) for frame in frames[:-1]]
    assert [c["choices"] for c in chunks] == [
        [{"text": "x", "index": 0, "logprobs": None, "finish_reason": None}],
        [{"text": "y", "index": 0, "logprobs": None, "finish_reason": None}],
        [{"text": "", "index": 0, "logprobs": None, "finish_reason": "stop"}],
        [],
    ]
    assert {c["object"] for c in chunks} == {"text_completion"} and len({c["id"] for c in chunks}) == 1
    assert CMPL_ID.fullmatch(chunks[0]["id"]) and chunks[-1]["usage"]["completion_tokens"] == 2
    scripted_server.engine.enqueue(["a", "b"])
    parts = list(client.completions.create(model="gemma3:270m", prompt="p", stream=True, echo=True))
    assert "".join(p.choices[0].text for p in parts) == "pab"
