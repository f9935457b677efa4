"""Cancel from another thread, first-token and stall timeouts, against the real embedded server (scripted)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest

from core.embedded.scripted import Delay, Script, Stall
from core.errors import StreamStalled
from core.ollama_client import ContentChunk, FinalChunk, OllamaClient

USER = [{"role": "user", "content": "go"}]
MODEL = "smollm2:135m"


def wait_until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


class Worker:
    """Iterates a stream on its own thread, as the UI and CLI do, recording chunks and any exception."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.chunks: list = []
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for chunk in self.stream:
                self.chunks.append(chunk)
        except BaseException as exc:  # recorded for the test to assert on
            self.error = exc


@pytest.fixture
def client(scripted_server):
    with OllamaClient(scripted_server.url, connect_timeout=2, first_token_timeout=30, stall_timeout=30) as c:
        yield c


def _works_after(client: OllamaClient, engine) -> None:
    engine.enqueue(["after"])
    assert client.chat(MODEL, USER).text == "after"


def test_cancel_from_another_thread_stops_quietly_and_the_server_sees_the_disconnect(client, scripted_server):
    scripted_server.engine.enqueue(["a"] + [Delay(0.05), "b"] * 400)  # 20 s if nobody stops it
    stream = client.chat_stream(MODEL, USER)
    worker = Worker(stream)
    wait_until(lambda: len(worker.chunks) >= 3)
    stream.cancel()
    worker.thread.join(timeout=2)
    assert not worker.thread.is_alive(), "the worker thread must stop promptly after cancel"
    assert worker.error is None, "cancel ends the iteration quietly"
    assert stream.cancelled and stream.stats is None
    assert not any(isinstance(c, FinalChunk) for c in worker.chunks)
    assert stream.text == "".join(c.text for c in worker.chunks)
    generation = scripted_server.engine.wait_generation_end()
    assert generation.stopped_by_cancel and not generation.finished
    assert generation.pieces < 100
    _works_after(client, scripted_server.engine)


def test_cancel_while_waiting_for_the_first_token(client, scripted_server):
    scripted_server.engine.enqueue(
        [Delay(20), "late"]
    )  # the server holds the headers back, like a model load
    stream = client.chat_stream(MODEL, USER)
    worker = Worker(stream)
    wait_until(lambda: scripted_server.engine.last_generation is not None)
    stream.cancel()
    worker.thread.join(timeout=2)
    assert not worker.thread.is_alive() and worker.error is None and worker.chunks == []
    assert scripted_server.engine.wait_generation_end().stopped_by_cancel
    _works_after(client, scripted_server.engine)


def test_cancel_before_start_sends_nothing(client, scripted_server):
    stream = client.chat_stream(MODEL, USER)
    stream.cancel()
    assert list(stream) == []
    assert scripted_server.engine.bodies("/api/chat") == []


def test_stall_between_chunks_raises_stream_stalled_and_the_client_recovers(scripted_server):
    client = OllamaClient(scripted_server.url, first_token_timeout=15, stall_timeout=0.3)
    scripted_server.engine.enqueue(["a", Stall(20), "b"])
    stream = client.chat_stream(MODEL, USER)
    started = time.monotonic()
    with pytest.raises(StreamStalled) as caught:
        list(stream)
    assert time.monotonic() - started < 5  # far below the 20 s stall and the 15 s first-token limit
    assert caught.value.phase == "between chunks" and caught.value.seconds == 0.3
    assert "0.3 s" in str(caught.value) and "raise the timeout (stall_timeout in" in str(caught.value)
    assert stream.text == "a"
    assert scripted_server.engine.wait_generation_end().stopped_by_cancel  # the connection was closed
    _works_after(client, scripted_server.engine)
    client.close()


def test_first_token_timeout_raises_stream_stalled(scripted_server):
    client = OllamaClient(scripted_server.url, first_token_timeout=0.4, stall_timeout=5)
    scripted_server.engine.enqueue([Stall(20), "never"])
    with pytest.raises(StreamStalled) as caught:
        list(client.chat_stream(MODEL, USER))
    assert caught.value.phase == "first token" and caught.value.seconds == 0.4
    assert "first_token_timeout in IA_HOME/config.toml" in str(caught.value)
    assert scripted_server.engine.wait_generation_end().stopped_by_cancel
    _works_after(client, scripted_server.engine)
    client.close()


def test_first_token_may_take_longer_than_the_stall_limit(scripted_server):
    """A model load (slow first token) is allowed first_token_timeout, not the shorter stall_timeout."""
    client = OllamaClient(scripted_server.url, first_token_timeout=10, stall_timeout=0.3)
    scripted_server.engine.enqueue(Script([Delay(0.9), "loaded", Delay(0.1), " and fast"]))
    stream = client.chat_stream(MODEL, USER)
    assert [c.text for c in stream if isinstance(c, ContentChunk)] == ["loaded", " and fast"]
    assert stream.stats.ttft_s >= 0.9
    client.close()


def test_pull_stream_cancel_before_start_is_quiet(client, scripted_server):
    stream = client.pull("smollm2:135m")
    stream.cancel()
    assert list(stream) == []
    assert scripted_server.engine.bodies("/api/pull") == []
