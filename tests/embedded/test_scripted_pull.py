"""Pull and delete on the scripted engine, through the real server, as the official `ollama` client sees them."""

from __future__ import annotations

import json
import re
import threading
import time

import httpx
import ollama
import pytest

from core.embedded.scripted import Delay, Drop, ErrorLine, Layer, PullScript, ScriptedEngine, scripted_model
from core.embedded.server import EmbeddedServer

HEX12 = re.compile(r"pulling [0-9a-f]{12}")
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def _names(client: ollama.Client) -> list[str]:
    return [m.model for m in client.list().models]


def _raw_lines(url: str, body: dict) -> tuple[httpx.Response, list[dict]]:
    with httpx.stream("POST", url + "/api/pull", json=body, timeout=10) as response:
        lines = [json.loads(line) for line in response.iter_lines() if line]
    return response, lines


def test_streaming_pull_follows_ollamas_sequence_and_installs_the_model(scripted_server):
    client = ollama.Client(host=scripted_server.url)
    assert "llama3.2:1b" not in _names(client)
    parts = list(client.pull("llama3.2:1b", stream=True))
    statuses = [p.status for p in parts]
    assert statuses[0] == "pulling manifest"
    assert statuses[-3:] == ["verifying sha256 digest", "writing manifest", "success"]
    layers = parts[1:-3]
    assert layers and all(HEX12.fullmatch(p.status) and DIGEST.fullmatch(p.digest) for p in layers)
    assert all(p.status == f"pulling {p.digest[7:19]}" for p in layers)  # 12 hex of the layer's digest
    first = [p for p in layers if p.digest == layers[0].digest]
    assert [p.completed for p in first] == sorted(p.completed for p in first)
    assert first[-1].completed == first[-1].total == 1_321_098_329 and len(first) == 4
    assert len({p.digest for p in layers}) == 3  # weights, template, parameters
    assert "llama3.2:1b" in _names(client)
    record = scripted_server.engine.wait_pull_end()
    assert record.finished and not record.stopped_by_cancel and record.lines == len(parts)
    assert scripted_server.engine.bodies("/api/pull") == [
        {"model": "llama3.2:1b", "insecure": False, "stream": True}
    ]


def test_wire_lines_omit_zero_values(scripted_server):
    scripted_server.engine.enqueue_pull(PullScript([Layer(1000, parts=2), "pulling extra"]))
    response, lines = _raw_lines(scripted_server.url, {"model": "mine"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/x-ndjson"
    assert lines[0] == {"status": "pulling manifest"}
    assert set(lines[1]) == {"status", "digest", "total", "completed"}
    assert lines[1]["completed"] == 500 and lines[2]["completed"] == 1000
    assert lines[3:] == [
        {"status": "pulling extra"},
        {"status": "verifying sha256 digest"},
        {"status": "writing manifest"},
        {"status": "success"},
    ]


def test_pulling_an_installed_model_reports_each_layer_once_complete(scripted_server):
    client = ollama.Client(host=scripted_server.url)
    parts = list(client.pull("smollm2:135m", stream=True))
    layers = [p for p in parts if p.digest]
    assert layers and all(p.completed == p.total for p in layers)
    assert len(layers) == len({p.digest for p in layers})


def test_replacing_pull_removes_unused_layers(scripted_server):
    card = scripted_model("gemma3:270m", size=42)
    scripted_server.engine.enqueue_pull(PullScript([Layer(42, parts=1)], card=card, prune=True))
    statuses = [p.status for p in ollama.Client(host=scripted_server.url).pull("gemma3:270m", stream=True)]
    assert statuses[-4:] == [
        "verifying sha256 digest",
        "writing manifest",
        "removing unused layers",
        "success",
    ]
    assert scripted_server.engine.find("gemma3:270m").size == 42


def test_stream_false_returns_one_success_object(scripted_server):
    client = ollama.Client(host=scripted_server.url)
    assert client.pull("tinyllama", stream=False).status == "success"
    assert "tinyllama:latest" in _names(client)
    response = httpx.post(scripted_server.url + "/api/pull", json={"model": "llama3.2:1b", "stream": False})
    assert response.status_code == 200 and response.json() == {"status": "success"}


def test_unknown_model_streaming_is_200_then_an_error_line(scripted_server):
    response, lines = _raw_lines(scripted_server.url, {"model": "nosuchmodel"})
    assert response.status_code == 200
    assert lines == [{"status": "pulling manifest"}, {"error": "pull model manifest: file does not exist"}]
    client = ollama.Client(host=scripted_server.url)
    seen = []
    with pytest.raises(ollama.ResponseError) as err:
        for part in client.pull("nosuchmodel", stream=True):
            seen.append(part.status)
    assert seen == ["pulling manifest"] and err.value.error == "pull model manifest: file does not exist"
    assert "nosuchmodel:latest" not in _names(client)


def test_unknown_model_without_streaming_is_a_500(scripted_server):
    with pytest.raises(ollama.ResponseError) as err:
        ollama.Client(host=scripted_server.url).pull("nosuchmodel", stream=False)
    assert err.value.status_code == 500 and err.value.error == "pull model manifest: file does not exist"


@pytest.mark.parametrize("name", ["bad name", "x!", ""])
def test_bad_name_is_a_400(scripted_server, name):
    response = httpx.post(scripted_server.url + "/api/pull", json={"model": name})
    assert response.status_code == 400 and response.json() == {"error": "invalid model name"}


def test_wrong_field_type_is_a_go_decoder_400(scripted_server):
    response = httpx.post(scripted_server.url + "/api/pull", json={"model": "x", "stream": "yes"})
    assert response.status_code == 400
    assert response.json()["error"] == (
        "json: cannot unmarshal string into Go struct field PullRequest.stream of type bool"
    )


def test_legacy_name_field_is_accepted(scripted_server):
    response = httpx.post(scripted_server.url + "/api/pull", json={"name": "tinyllama", "stream": False})
    assert response.json() == {"status": "success"}


def test_error_line_mid_pull_ends_the_stream_and_installs_nothing(scripted_server):
    scripted_server.engine.enqueue_pull(PullScript([Layer(100, parts=2), ErrorLine("digest mismatch")]))
    client = ollama.Client(host=scripted_server.url)
    seen = []
    with pytest.raises(ollama.ResponseError, match="digest mismatch"):
        for part in client.pull("mine", stream=True):
            seen.append(part.status)
    assert seen[0] == "pulling manifest" and len(seen) == 3
    assert "mine:latest" not in _names(client)
    record = scripted_server.engine.wait_pull_end()
    assert not record.finished and not record.stopped_by_cancel


def test_dropped_connection_mid_pull(scripted_server):
    scripted_server.engine.enqueue_pull(PullScript([Layer(100, parts=2), Drop()]))
    with pytest.raises(httpx.RemoteProtocolError):
        list(ollama.Client(host=scripted_server.url).pull("mine", stream=True))


def test_client_leaving_mid_pull_is_recorded(scripted_server):
    scripted_server.engine.enqueue_pull(PullScript([Layer(10_000, parts=200, pace=0.05)]))
    got_bytes = threading.Event()
    with httpx.stream(
        "POST", scripted_server.url + "/api/pull", json={"model": "slow"}, timeout=10
    ) as response:
        for line in response.iter_lines():
            if '"completed"' in line:
                got_bytes.set()
                break
    assert got_bytes.is_set()
    record = scripted_server.engine.wait_pull_end()
    assert record.stopped_by_cancel and not record.finished and record.lines < 50
    assert "slow:latest" not in [c.name for c in scripted_server.engine.list_models()]


def test_delays_pace_the_layers(scripted_server):
    scripted_server.engine.enqueue_pull(PullScript([Layer(10, parts=1), Delay(0.2), Layer(20, parts=1)]))
    stamps = []
    for part in ollama.Client(host=scripted_server.url).pull("paced", stream=True):
        stamps.append((part.status, time.monotonic()))
    layer_times = [t for s, t in stamps if HEX12.fullmatch(s)]
    assert len(layer_times) == 2 and layer_times[1] - layer_times[0] >= 0.15  # the Delay(0.2) between them


def test_delete_removes_the_model_with_an_empty_200(scripted_server):
    client = ollama.Client(host=scripted_server.url)
    response = httpx.request("DELETE", scripted_server.url + "/api/delete", json={"model": "gemma3:270m"})
    assert response.status_code == 200 and response.content == b""
    assert "gemma3:270m" not in _names(client)
    assert client.delete("smollm2:135m").status == "success"
    assert "smollm2:135m" not in _names(client)


def test_delete_unknown_model_is_a_404_with_ollamas_text(scripted_server):
    with pytest.raises(ollama.ResponseError) as err:
        ollama.Client(host=scripted_server.url).delete("x")
    assert err.value.status_code == 404 and err.value.error == "model 'x' not found"


def test_delete_bad_name_is_a_400(scripted_server):
    response = httpx.request("DELETE", scripted_server.url + "/api/delete", json={"model": "a b"})
    assert response.status_code == 400 and response.json() == {"error": 'name "a b" is invalid'}


def test_engine_that_cannot_pull_answers_501():
    server = EmbeddedServer(ScriptedEngine(can_pull=False))
    url = server.start()
    try:
        with pytest.raises(ollama.ResponseError) as err:
            ollama.Client(host=url).pull("llama3.2")
        assert err.value.status_code == 501 and "cannot pull models" in err.value.error
    finally:
        server.stop()
