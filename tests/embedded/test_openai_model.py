"""`python -m core.embedded --port P` (what `iav3-serve --port P` runs) serves the official `openai` client and
LangChain's ChatOpenAI with the real bundled models: list, streaming chat with usage, chat, completions on
gemma3:270m, a JSON-schema reply that parses and matches its schema. Short replies: these run llama.cpp."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jsonschema
import openai
import pytest
from pydantic import BaseModel, Field

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parents[2]
USER = [{"role": "user", "content": "Say hello to Ann."}]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The standalone server as a user starts it, on a free port and a temporary home; yields (url, process)."""
    pytest.importorskip(
        "llama_cpp", reason="the embedded backend needs llama-cpp-python (pip install .[embedded])"
    )
    home = tmp_path_factory.mktemp("openai_home")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "core.embedded", "--port", str(port), "--home", str(home)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, proc.stderr.read()
        try:
            if httpx.get(url, timeout=1).text == "Ollama is running":
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the standalone server did not answer in time"
        time.sleep(0.05)
    try:
        yield url, proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture
def client(served):
    with openai.OpenAI(base_url=served[0] + "/v1", api_key="unused", max_retries=0, timeout=120) as made:
        yield made


def test_the_models_are_listed(client):
    ids = [model.id for model in client.models.list()]
    assert {"smollm2:135m", "gemma3:270m"} <= set(ids)
    assert client.models.retrieve("gemma3:270m").owned_by == "library"
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="gpt-4o", messages=USER)
    assert err.value.code == "model_not_found"


def test_streaming_chat_reports_usage(client):
    stream = client.chat.completions.create(
        model="smollm2:135m",
        messages=USER,
        stream=True,
        stream_options={"include_usage": True},
        max_tokens=12,
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    finish = [c.choices[0].finish_reason for c in chunks if c.choices][-1]
    usage = chunks[-1].usage
    assert text.strip() and chunks[-1].choices == [] and finish in ("stop", "length")
    assert 0 < usage.completion_tokens <= 12 and usage.prompt_tokens > 5
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert finish == "stop" or usage.completion_tokens == 12


def test_chat_without_stream_is_reproducible_with_temperature_0(client):
    def ask() -> openai.types.chat.ChatCompletion:
        return client.chat.completions.create(
            model="smollm2:135m", messages=USER, max_tokens=10, temperature=0
        )

    first, second = ask(), ask()
    assert first.choices[0].message.content and first.choices[0].message.role == "assistant"
    assert first.choices[0].message.content == second.choices[0].message.content
    assert first.usage.completion_tokens <= 10 and first.id != second.id


def test_completions_on_the_base_model(client):
    settings = {"model": "gemma3:270m", "prompt": "def add(a, b):", "max_tokens": 12, "temperature": 0}
    whole = client.completions.create(**settings)
    choice = whole.choices[0]
    assert "return a + b" in choice.text and choice.finish_reason == "length"
    assert whole.usage.completion_tokens == 12 and whole.object == "text_completion"
    streamed = list(client.completions.create(**settings, stream=True))
    assert "".join(c.choices[0].text for c in streamed) == choice.text  # same text, streamed
    stopped = client.completions.create(**settings, stop=["\n\n"])
    assert (
        stopped.choices[0].text == choice.text.split("\n\n")[0] and stopped.choices[0].finish_reason == "stop"
    )


class Person(BaseModel):
    name: str = Field(max_length=20)
    age: int


def test_a_json_schema_reply_parses_and_matches_the_schema(client):
    prompt = [{"role": "user", "content": "Ann is 31 years old. Give her name and age as JSON."}]
    parsed = client.chat.completions.parse(
        model="smollm2:135m", messages=prompt, response_format=Person, max_tokens=60, temperature=0
    )
    assert isinstance(parsed.choices[0].message.parsed, Person) and parsed.choices[0].finish_reason == "stop"
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string", "maxLength": 20}, "founded": {"type": "integer"}},
        "required": ["city", "founded"],
        "additionalProperties": False,
    }
    reply = client.chat.completions.create(
        model="smollm2:135m",
        messages=[{"role": "user", "content": "Name a city and the year it was founded."}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "city", "schema": schema, "strict": True},
        },
        max_tokens=60,
        temperature=0,
    )
    jsonschema.validate(json.loads(reply.choices[0].message.content), schema)


def test_langchain_chat_openai_streams_an_answer(served):
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(
        model="smollm2:135m", base_url=served[0] + "/v1", api_key="unused", max_tokens=12, stream_usage=True
    )
    chunks = list(llm.stream("Say hello."))
    assert len(chunks) > 2 and "".join(c.content for c in chunks).strip()
    total = chunks[0]
    for chunk in chunks[1:]:
        total += chunk
    assert 0 < total.usage_metadata["output_tokens"] <= 12


def test_a_client_leaving_mid_stream_stops_llama_cpp(embedded_server):
    """In-process server (LlamaEngine inspectable): closing the stream stops decoding within a token."""
    client = openai.OpenAI(base_url=embedded_server.url + "/v1", api_key="unused", max_retries=0, timeout=120)
    with client:
        stream = client.chat.completions.create(
            model="smollm2:135m", messages=USER, stream=True, max_tokens=2000, temperature=0.8
        )
        received = 0
        for chunk in stream:
            received += bool(chunk.choices and chunk.choices[0].delta.content)
            if received == 3:
                break
        stream.close()
    engine = embedded_server.engine
    deadline = time.monotonic() + 30
    while not engine.runs[-1].ended and time.monotonic() < deadline:
        time.sleep(0.02)
    run = engine.runs[-1]
    assert run.ended and run.cancelled and run.tokens < 200
