"""ModelManager.pull and delete over our client against the real embedded server with a scripted engine."""

from __future__ import annotations

import threading

import pytest

from core.embedded.scripted import Delay, Drop, ErrorLine, Layer, PullScript, ScriptedEngine, Stall
from core.embedded.server import EmbeddedServer
from core.errors import ModelNotFound, ServerError, StreamBroken, StreamStalled
from core.model_records import PullProgress
from core.models import ModelManager
from core.ollama_client import OllamaClient


@pytest.fixture
def client(scripted_server):
    with OllamaClient(scripted_server.url, connect_timeout=2, first_token_timeout=10, stall_timeout=10) as c:
        yield c


def _installed(client: OllamaClient) -> list[str]:
    return [m.name for m in ModelManager(client).list()]


def test_progress_rises_to_success_and_the_model_is_installed(client, scripted_server):
    seen: list[PullProgress] = []
    ModelManager(client).pull("llama3.2:1b", seen.append)
    assert seen[0] == PullProgress("pulling manifest")
    assert seen[-1].status == "success"
    weights = [p for p in seen if p.total == 1_321_098_329]
    assert [p.completed for p in weights] == sorted(p.completed for p in weights) and len(weights) == 4
    fractions = [p.fraction for p in weights]
    assert fractions == sorted(fractions) and fractions[0] > 0 and fractions[-1] == 1.0
    assert all(p.digest and p.digest.startswith("sha256:") for p in weights)
    assert "llama3.2:1b" in _installed(client)
    assert scripted_server.engine.wait_pull_end().finished


def test_cancel_from_another_thread_stops_the_transfer_and_closes_the_connection(client, scripted_server):
    scripted_server.engine.enqueue_pull(PullScript([Layer(1_000_000, parts=400, pace=0.05)]))
    cancel = threading.Event()
    seen: list[PullProgress] = []
    first_bytes = threading.Event()

    def on_progress(progress: PullProgress) -> None:
        seen.append(progress)
        if progress.completed:
            first_bytes.set()

    worker = threading.Thread(target=lambda: ModelManager(client).pull("big", on_progress, cancel))
    worker.start()
    assert first_bytes.wait(10), "no byte progress arrived"
    cancel.set()
    worker.join(5)
    assert not worker.is_alive(), "pull did not stop after cancel"
    record = scripted_server.engine.wait_pull_end()
    assert record.stopped_by_cancel and not record.finished  # the server saw the connection close
    assert record.lines < 100 and seen[-1].status != "success"
    assert "big:latest" not in _installed(client)


def test_unknown_model_is_model_not_found_worded_for_a_pull(client):
    seen: list[PullProgress] = []
    with pytest.raises(ModelNotFound) as caught:
        ModelManager(client).pull("nosuchmodel", seen.append)
    assert [p.status for p in seen] == ["pulling manifest"]
    assert caught.value.detail == "pull model manifest: file does not exist"
    assert str(caught.value).startswith("There is no model called 'nosuchmodel' to pull")


def test_error_line_mid_pull_is_stream_broken_with_the_servers_words(client, scripted_server):
    scripted_server.engine.enqueue_pull(PullScript([Layer(100, parts=2), ErrorLine("digest mismatch")]))
    seen: list[PullProgress] = []
    with pytest.raises(StreamBroken) as caught:
        ModelManager(client).pull("mine", seen.append)
    assert len(seen) == 3 and seen[-1].completed == 100
    assert str(caught.value) == (
        "The pull of 'mine' failed: the server said: digest mismatch. Nothing was installed; try the pull again."
    )
    assert "mine:latest" not in _installed(client)


def test_dropped_connection_mid_pull_is_stream_broken(client, scripted_server):
    scripted_server.engine.enqueue_pull(PullScript([Layer(100, parts=2), Drop()]))
    with pytest.raises(StreamBroken, match="The pull of 'mine' failed"):
        ModelManager(client).pull("mine", lambda p: None)


def test_bad_name_is_a_server_error_400(client):
    with pytest.raises(ServerError) as caught:
        ModelManager(client).pull("bad name", lambda p: None)
    assert caught.value.status == 400 and caught.value.detail == "invalid model name"


def test_server_that_cannot_pull_says_why():
    server = EmbeddedServer(ScriptedEngine(can_pull=False))
    url = server.start()
    try:
        with OllamaClient(url, connect_timeout=2) as c, pytest.raises(ServerError) as caught:
            ModelManager(c).pull("llama3.2", lambda p: None)
        assert caught.value.status == 501 and "cannot pull models" in caught.value.detail
    finally:
        server.stop()


def test_delete_removes_the_model(client):
    manager = ModelManager(client)
    assert "gemma3:270m" in _installed(client)
    manager.delete("gemma3:270m")
    assert "gemma3:270m" not in _installed(client)


def test_delete_unknown_model_is_model_not_found(client):
    with pytest.raises(ModelNotFound) as caught:
        ModelManager(client).delete("ghost:1b")
    assert caught.value.model == "ghost:1b" and caught.value.detail == "model 'ghost:1b' not found"


def test_pulled_model_can_be_deleted_and_pulled_again(client, scripted_server):
    manager = ModelManager(client)
    manager.pull("tinyllama", lambda p: None)
    manager.delete("tinyllama")
    assert "tinyllama:latest" not in _installed(client)
    manager.pull("tinyllama", lambda p: None)
    assert "tinyllama:latest" in _installed(client)
    assert [r.finished for r in scripted_server.engine.pulls] == [True, True]


def test_a_silent_verification_longer_than_the_stall_limit_does_not_stop_the_pull(scripted_server):
    """Ollama says 'verifying sha256 digest' and then nothing until the check is done (minutes for a large
    model): a pull waits up to the first-token limit between lines, not the chat stall limit."""
    scripted_server.engine.enqueue_pull(PullScript([Layer(1000, parts=2), Delay(1.0)]))
    with OllamaClient(scripted_server.url, first_token_timeout=10, stall_timeout=0.3) as client:
        seen: list[PullProgress] = []
        ModelManager(client).pull("llama3.2:1b", seen.append)
    assert seen[-1].status == "success" and scripted_server.engine.wait_pull_end().finished


def test_a_pull_silent_past_the_first_token_limit_is_stalled(scripted_server):
    scripted_server.engine.enqueue_pull(PullScript([Layer(1000, parts=2), Stall(20)]))
    with (
        OllamaClient(scripted_server.url, first_token_timeout=0.5, stall_timeout=0.2) as client,
        pytest.raises(StreamStalled) as caught,
    ):
        ModelManager(client).pull("llama3.2:1b", lambda p: None)
    assert caught.value.phase == "between chunks" and caught.value.seconds == 0.5
    assert str(caught.value).startswith(
        "The pull of 'llama3.2:1b' stopped: the server sent nothing for 0.5 s."
    )
    assert "too large" not in str(caught.value)  # the chat wording does not fit a download
    assert scripted_server.engine.wait_pull_end().stopped_by_cancel  # the connection was closed
