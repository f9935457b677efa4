"""Byte-level shapes of the embedded server's answers (Ollama's API reference): Go's time format, generate's `context`,
and a clear 501 for the Ollama endpoints it does not offer. Real server, scripted engine, raw HTTP. (The /v1
OpenAI-compatible API is tested in test_openai_*.py.)"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import httpx
import ollama
import pytest

from core.embedded.protocol import go_time

# RFC3339Nano as Go writes it: no trailing zero in the fraction, Z or +hh:mm.
GO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?(Z|[+-]\d\d:\d\d)")


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2025, 10, 26, 17, 21, 21, 196249, tzinfo=UTC), "2025-10-26T17:21:21.196249Z"),
        (datetime(2025, 10, 26, 17, 21, 21, 196200, tzinfo=UTC), "2025-10-26T17:21:21.1962Z"),
        (datetime(2025, 10, 26, 17, 21, 21, tzinfo=UTC), "2025-10-26T17:21:21Z"),
        (
            datetime(2025, 5, 4, 17, 37, 44, 706015, tzinfo=timezone(timedelta(hours=-7))),
            "2025-05-04T17:37:44.706015-07:00",
        ),
        (
            datetime(2025, 5, 4, 1, 2, 3, 500000, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            "2025-05-04T01:02:03.5+05:30",
        ),
    ],
)
def test_times_are_written_as_go_writes_a_time(moment, text):
    assert go_time(moment) == text


def test_every_time_field_has_go_format(scripted_server):
    url = scripted_server.url
    ollama.Client(host=url).generate("smollm2:135m")  # loaded: /api/ps lists it
    tags = httpx.get(f"{url}/api/tags").json()["models"]
    shown = httpx.post(f"{url}/api/show", json={"model": "smollm2:135m"}).json()
    running = httpx.get(f"{url}/api/ps").json()["models"]
    lines = httpx.post(
        f"{url}/api/chat", json={"model": "smollm2:135m", "messages": [{"role": "user", "content": "hi"}]}
    ).text.splitlines()
    times = [m["modified_at"] for m in tags] + [shown["modified_at"]] + [m["expires_at"] for m in running]
    times += [json.loads(line)["created_at"] for line in lines]
    assert len(times) >= 6 and all(GO_TIME.fullmatch(t) for t in times), times
    assert all(json.loads(line)["created_at"].endswith("Z") for line in lines)  # created_at is UTC


def test_generate_carries_context_unless_raw_and_chat_never(scripted_server):
    url = scripted_server.url
    body = {"model": "smollm2:135m", "prompt": "two words", "stream": False}
    plain = httpx.post(f"{url}/api/generate", json=body).json()
    keys = list(plain)
    assert (
        keys.index("done_reason") < keys.index("context") < keys.index("total_duration")
    )  # Go's field order
    assert plain["context"] == list(range(1, 2 + plain["eval_count"] + 1))  # 2 prompt words, then the pieces
    again = httpx.post(f"{url}/api/generate", json={**body, "context": plain["context"]}).json()
    assert again["context"][: len(plain["context"])] == plain["context"]
    raw = httpx.post(f"{url}/api/generate", json={**body, "raw": True}).json()
    assert "context" not in raw and raw["done"]
    streamed = httpx.post(f"{url}/api/generate", json={**body, "stream": True}).text.splitlines()
    assert "context" in json.loads(streamed[-1]) and all("context" not in line for line in streamed[:-1])
    chat = httpx.post(
        f"{url}/api/chat",
        json={"model": "smollm2:135m", "messages": [{"role": "user", "content": "x"}], "stream": False},
    ).json()
    assert "context" not in chat
    bad = httpx.post(f"{url}/api/generate", json={**body, "context": [1, "two"]})
    assert bad.status_code == 400
    assert bad.json() == {
        "error": "json: cannot unmarshal string into Go struct field GenerateRequest.context of type int"
    }


@pytest.mark.parametrize(
    ("method", "path", "words"),
    [
        ("POST", "/api/embed", "cannot compute embeddings"),
        ("POST", "/api/blobs/sha256:" + "0" * 64, "cannot create models"),
    ],
)
def test_ollama_endpoints_it_does_not_offer_are_a_clear_501(scripted_server, method, path, words):
    answer = httpx.request(method, scripted_server.url + path, json={"model": "smollm2:135m"})
    assert answer.status_code == 501 and answer.headers["content-type"] == "application/json; charset=utf-8"
    error = answer.json()["error"]
    assert words in error and "embedded backend" in error and "https://ollama.com" in error


def test_a_path_ollama_does_not_have_stays_ollamas_plain_404(scripted_server):
    answer = httpx.post(scripted_server.url + "/api/nothing", json={})
    assert (answer.status_code, answer.text) == (404, "404 page not found")


@pytest.mark.parametrize(("num_predict", "pieces"), [(0, 6), (-1, 6), (-2, 6), (2, 2)])
def test_only_a_positive_num_predict_limits_the_reply(scripted_server, num_predict, pieces):
    """Ollama's runner stops at num_predict only when it is > 0: 0, -1 and -2 leave the reply unlimited."""
    reply = ollama.Client(host=scripted_server.url).generate(
        "smollm2:135m", "hi", options={"num_predict": num_predict}
    )
    assert reply.eval_count == pieces and reply.done_reason == ("length" if pieces == 2 else "stop")
