"""The client against the real embedded llama.cpp server: a real reply with stats, and cancel mid-generation."""

from __future__ import annotations

import threading
import time

import pytest

from core.ollama_client import ContentChunk, FinalChunk, OllamaClient

pytestmark = pytest.mark.model

MODEL = "smollm2:135m"


def test_real_model_streams_a_reply_with_stats(embedded_server):
    with OllamaClient(embedded_server.url, first_token_timeout=300, stall_timeout=120) as client:
        stream = client.chat_stream(
            MODEL, [{"role": "user", "content": "Say hello."}], options={"num_predict": 12, "temperature": 0}
        )
        chunks = list(stream)
    assert any(isinstance(c, ContentChunk) for c in chunks) and isinstance(chunks[-1], FinalChunk)
    stats = stream.stats
    assert stream.text.strip() and 0 < stats.eval_count <= 12
    assert stats.gen_tps > 0 and stats.prompt_eval_count > 0
    assert stats.done_reason in ("stop", "length") and 0 < stats.ttft_s <= stats.total_s


def test_real_model_generation_stops_on_cancel(embedded_server):
    runs = embedded_server.engine.runs
    before = len(runs)
    with OllamaClient(embedded_server.url, first_token_timeout=300, stall_timeout=120) as client:
        stream = client.chat_stream(
            MODEL,
            [{"role": "user", "content": "Write a very long story about a dragon and a knight."}],
            options={"num_predict": 4000, "temperature": 0.7},
        )
        chunks: list = []
        errors: list = []

        def work() -> None:
            try:
                chunks.extend(stream)
            except Exception as exc:  # recorded for the assertion below
                errors.append(exc)

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        deadline = time.monotonic() + 120
        while len(stream.text) < 20 and time.monotonic() < deadline and worker.is_alive():
            time.sleep(0.02)
        assert len(stream.text) >= 20, "the model produced text before the cancel"
        stream.cancel()
        worker.join(timeout=10)
        assert not worker.is_alive() and errors == [] and stream.cancelled
        assert not any(isinstance(c, FinalChunk) for c in chunks)
        deadline = time.monotonic() + 30
        while not (len(runs) > before and runs[-1].ended) and time.monotonic() < deadline:
            time.sleep(0.02)
        cancelled = runs[-1]
        assert cancelled.ended and cancelled.cancelled, "the closed connection stopped llama.cpp"
        assert cancelled.tokens < 1000  # within a few tokens of the cancel, far from the 4,000 asked for
        reply = client.chat(MODEL, [{"role": "user", "content": "Hi"}], options={"num_predict": 4})
        assert reply.stats.eval_count <= 4  # the server is free again for the next request
