"""POST /api/tokenize, IA_V3's own route on the embedded server (the app's context meter), and the client side
in core.context_meter: exact counts from the server, an estimate for Ollama, and errors said clearly."""

from __future__ import annotations

import httpx
import ollama
import pytest

from core.context_meter import ContextUse, chat_messages, count_exact, estimate_tokens, measure
from core.errors import IAError

CHAT = [
    {"role": "system", "content": "You answer in one short sentence."},
    {"role": "user", "content": "What is the capital of France?"},
    {"role": "assistant", "content": "Paris is the capital of France."},
    {"role": "user", "content": "And of Italy? Ünïcode, 日本語 and emoji 🙂 count too."},
]


@pytest.mark.model
def test_the_count_is_the_prompt_the_model_reads(embedded_server):
    """The count equals the prompt_eval_count of the same chat on a fresh context: the chat template and the
    model's tokenizer, not a guess."""
    count = count_exact(embedded_server.url, "smollm2:135m", CHAT)
    client = ollama.Client(host=embedded_server.url)
    reply = client.chat(
        "smollm2:135m", messages=CHAT, options={"num_predict": 1, "temperature": 0, "seed": 1}
    )
    assert reply.prompt_eval_count == count
    assert count != estimate_tokens(CHAT)  # the estimate is only an estimate
    more = count_exact(
        embedded_server.url, "smollm2:135m", [*CHAT, {"role": "user", "content": "word " * 50}]
    )
    assert more > count + 40
    use = measure("embedded", embedded_server.url, "smollm2:135m", CHAT, 8192)
    assert use == ContextUse(count, 8192, exact=True) and not use.label().startswith("≈")


def test_scripted_counts_and_protocol_errors(scripted_embedded_server):
    url = scripted_embedded_server.url
    assert count_exact(url, "smollm2:135m", [{"role": "user", "content": "one two three"}]) == 3
    r = httpx.post(f"{url}/api/tokenize", json={"model": "nope:1b", "messages": []})
    assert r.status_code == 404 and r.json() == {"error": "model 'nope:1b' not found"}
    r = httpx.post(f"{url}/api/tokenize", json={"messages": []})
    assert r.status_code == 400 and "model is required" in r.json()["error"]
    r = httpx.post(f"{url}/api/tokenize", json={"model": "smollm2:135m", "messages": "text"})
    assert r.status_code == 400 and "TokenizeRequest" in r.json()["error"]
    with pytest.raises(IAError, match=r"did not count the tokens \(404\): model 'nope:1b' not found"):
        count_exact(url, "nope:1b", CHAT)
    # A failing count falls back to the estimate, which the label marks.
    use = measure("embedded", url, "nope:1b", CHAT, 100)
    assert use == ContextUse(estimate_tokens(CHAT), 100, exact=False) and use.label().startswith("≈ ")


def test_ollama_gets_an_estimate_and_no_request(scripted_server):
    """Ollama has no tokenize call: nothing is asked of it."""
    before = len(scripted_server.engine.requests)
    use = measure("ollama", scripted_server.url, "smollm2:135m", CHAT, 4096)
    assert use.exact is False and use.used == estimate_tokens(CHAT)
    assert len(scripted_server.engine.requests) == before


def test_estimate_and_labels():
    messages = chat_messages("sys", [("user", "a" * 40), ("assistant", "b" * 3)], "draft")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert estimate_tokens(messages) == -(-(3 + 40 + 3 + 5) // 4) + 4 * 4
    assert chat_messages("", [], "") == []
    assert ContextUse(1234, 4096, True).label() == "1,234 / 4,096 tokens · 30 %"
    assert ContextUse(1234, None, False).label() == "≈ 1,234 tokens"
    over = ContextUse(5000, 4096, False)
    assert over.level == "over" and "over the context: the oldest messages" in over.label()
    assert ContextUse(3500, 4096, True).level == "high" and ContextUse(10, None, True).level == ""


def test_an_unreachable_server_is_said():
    with pytest.raises(IAError, match="did not count the tokens"):
        count_exact("http://127.0.0.1:9", "smollm2:135m", CHAT)
