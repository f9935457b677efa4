"""core.openai_client against a real OpenAI-compatible server we did not write: llama-cpp-python's
`python -m llama_cpp.server` on the bundled SmolLM2 GGUF (tests/fixtures/openai_servers.py)."""

from __future__ import annotations

import threading
import time

import pytest

from core.backend import make_client
from core.errors import ModelNotFound
from core.ollama_client import ContentChunk, FinalChunk
from core.openai_client import OpenAIClient

pytestmark = pytest.mark.model

USER = [{"role": "user", "content": "Say hello in one short sentence."}]


def test_streamed_chat_gives_text_and_measured_stats(llama_openai_server):
    with make_client(llama_openai_server.url) as client:
        assert isinstance(client, OpenAIClient)
        stream = client.chat_stream(
            llama_openai_server.model, USER, options={"num_predict": 16, "temperature": 0}
        )
        chunks = list(stream)
    texts = [c.text for c in chunks if isinstance(c, ContentChunk)]
    assert len(texts) > 1 and "".join(texts) == stream.text and stream.text.strip()
    assert isinstance(chunks[-1], FinalChunk)
    stats = stream.stats
    assert 0 < stats.ttft_s <= stats.total_s and stats.done_reason in ("stop", "length")
    # llama-cpp-python's server sends no usage in a stream, whatever stream_options says: not reported.
    assert stats.counts_from == "" and stats.eval_count is None and stats.gen_tps is None
    assert stats.model == llama_openai_server.model and stats.host == llama_openai_server.url


def test_model_list_details_and_version(llama_openai_server):
    with OpenAIClient(llama_openai_server.url) as client:
        assert client.identify() == "openai" and client.ping()
        assert [m.name for m in client.list_models()] == [llama_openai_server.model]
        details = client.show(llama_openai_server.model)
        assert details.name == llama_openai_server.model and details.capabilities == []
        assert client.version().startswith("llama-cpp-python 0.")


def test_an_unknown_model_is_refused_although_the_server_would_answer_any_name(llama_openai_server):
    with OpenAIClient(llama_openai_server.url) as client, pytest.raises(ModelNotFound) as caught:
        client.chat("smollm2:135m", USER, options={"num_predict": 4})
    assert f"it serves {llama_openai_server.model}" in str(caught.value)


def test_raw_completion_for_the_complete_style(llama_openai_server):
    with OpenAIClient(llama_openai_server.url) as client:
        reply = client.generate(
            llama_openai_server.model,
            "def add(a, b):\n",
            raw=True,
            options={"num_predict": 24, "temperature": 0, "stop": ["\ndef "]},
        )
    assert reply.text and "\ndef " not in reply.text and reply.stats.done_reason in ("stop", "length")


def test_stop_mid_stream_closes_the_request_and_the_server_sees_it(llama_openai_server):
    before = llama_openai_server.log_text().count("disconnected")
    with OpenAIClient(llama_openai_server.url) as client:
        stream = client.chat_stream(
            llama_openai_server.model,
            [{"role": "user", "content": "Write a very long story about a lighthouse."}],
            options={"num_predict": 1500, "temperature": 0.7},
        )
        got = threading.Event()
        seen: list[object] = []

        def read() -> None:
            for chunk in stream:
                seen.append(chunk)
                if len(seen) >= 3:
                    got.set()

        reader = threading.Thread(target=read)
        reader.start()
        assert got.wait(60), "no token came"
        stream.cancel()
        reader.join(10)
        assert not reader.is_alive() and stream.cancelled and stream.stats is None
        assert 3 <= len(seen) < 1500 and stream.text
        # llama_cpp.server prints "disconnected" when the client leaves the stream it is generating
        deadline = time.monotonic() + 30
        while llama_openai_server.log_text().count("disconnected") == before and time.monotonic() < deadline:
            time.sleep(0.1)
        assert llama_openai_server.log_text().count("disconnected") > before
        # and it serves the next request
        assert client.chat(llama_openai_server.model, USER, options={"num_predict": 4}).text
