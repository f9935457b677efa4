"""Ollama's options through the real embedded backend (llama.cpp) and the official client: each one changes
what the model does, so none can be silently ignored. Short replies on the bundled models."""

from __future__ import annotations

import httpx
import ollama
import pytest

pytestmark = pytest.mark.model

STORY = "Once upon a time"
COUNT = "1, 2, 3, 4,"
ASK = [{"role": "user", "content": "Count from 1 to 10 separated by commas."}]


def _raw(client: ollama.Client, prompt: str, **options) -> str:
    return client.generate("gemma3:270m", prompt, raw=True, options={"num_predict": 16, **options}).response


def test_temperature_zero_or_a_seed_gives_the_same_reply_whatever_ran_before(embedded_server):
    """A request with temperature 0 or a fixed seed reads its prompt afresh, so another request in between
    (which leaves its own tokens in the KV cache) cannot change its answer; a non-deterministic one reuses."""
    client = ollama.Client(host=embedded_server.url)
    engine = embedded_server.engine
    greedy = _raw(client, STORY, temperature=0)
    seeded = _raw(client, STORY, temperature=1.5, seed=7)
    _raw(client, COUNT, num_predict=30)  # sampled, seedless: leaves other tokens in the cache
    assert _raw(client, STORY, temperature=0) == greedy and engine.runs[-1].prompt_cached == 0
    _raw(client, COUNT, num_predict=30)
    assert _raw(client, STORY, temperature=1.5, seed=7) == seeded and engine.runs[-1].prompt_cached == 0
    assert _raw(client, STORY, temperature=1.5, seed=8) != seeded  # the seed is what fixed the draw
    assert greedy.strip() and seeded != greedy


def test_a_seedless_request_reuses_the_prompt_already_in_the_cache(embedded_server):
    client = ollama.Client(host=embedded_server.url)
    shared = "".join(f"def f{i}(x):\n    return x * {i}\n\n" for i in range(60))  # ~1,000 tokens
    options = {"num_predict": 2, "temperature": 0.8, "num_ctx": 4096}
    client.generate("gemma3:270m", shared + "def a(n):", raw=True, options=options)
    reply = client.generate("gemma3:270m", shared + "def b(n):", raw=True, options=options)
    run = embedded_server.engine.runs[-1]
    assert run.prompt_cached > 900 and run.prompt_tokens == reply.prompt_eval_count


def test_temperature_top_k_and_top_p_change_the_sampling(embedded_server):
    client = ollama.Client(host=embedded_server.url)
    greedy = _raw(client, STORY, temperature=0)
    hot = [_raw(client, STORY, temperature=1.5, seed=seed) for seed in (1, 2, 3)]
    assert any(text != greedy for text in hot), "temperature 1.5 samples other tokens than greedy"
    for seed in (1, 2, 3):  # one candidate left: whatever the temperature and seed, the greedy reply
        assert _raw(client, STORY, temperature=1.5, seed=seed, top_k=1) == greedy
        assert _raw(client, STORY, temperature=1.5, seed=seed, top_p=0.01) == greedy


def test_stop_ends_chat_and_generate_streaming_and_not(embedded_server):
    client = ollama.Client(host=embedded_server.url)
    options = {"temperature": 0, "num_predict": 60}
    full = client.chat("smollm2:135m", messages=ASK, options=options).message.content
    assert "5" in full, full
    expected = full[: full.index("5")]
    for stream in (False, True):
        reply = client.chat("smollm2:135m", messages=ASK, stream=stream, options={**options, "stop": ["5"]})
        parts = list(reply) if stream else [reply]
        assert "".join(p.message.content for p in parts) == expected
        assert parts[-1].done_reason == "stop" and parts[-1].eval_count < 60
    raw = client.generate("gemma3:270m", COUNT, raw=True, options={"temperature": 0, "num_predict": 30})
    cut = raw.response.index(" 8")
    for stream in (False, True):
        reply = client.generate(
            "gemma3:270m",
            COUNT,
            raw=True,
            stream=stream,
            options={"temperature": 0, "num_predict": 30, "stop": [" 8"]},
        )
        parts = list(reply) if stream else [reply]
        assert "".join(p.response for p in parts) == raw.response[:cut]
        assert parts[-1].done_reason == "stop"


def test_num_ctx_sets_the_context_and_never_exceeds_what_the_model_was_trained_for(embedded_server):
    client = ollama.Client(host=embedded_server.url)
    client.generate("smollm2:135m", options={"num_ctx": 2048})
    assert {m.model: m.context_length for m in client.ps().models}["smollm2:135m"] == 2048
    client.generate("smollm2:135m", options={"num_ctx": 100_000})  # SmolLM2 was trained for 8,192
    assert {m.model: m.context_length for m in client.ps().models}["smollm2:135m"] == 8192
    with pytest.raises(ollama.ResponseError) as err:  # the context really is 2,048 tokens: 3,000 do not fit
        client.generate("smollm2:135m", "word " * 3000, raw=True, options={"num_ctx": 2048})
    assert err.value.status_code == 400 and err.value.error == "the input length exceeds the context length"


def test_generate_returns_its_context_and_takes_it_back(embedded_server):
    client = ollama.Client(host=embedded_server.url)
    options = {"temperature": 0, "num_predict": 8}
    first = client.generate("smollm2:135m", "My name is Ada.", options=options)
    assert first.context and all(isinstance(t, int) for t in first.context)
    assert len(first.context) == first.prompt_eval_count + first.eval_count
    follow = client.generate("smollm2:135m", "What is my name?", context=first.context, options=options)
    assert follow.prompt_eval_count > len(first.context)  # the earlier exchange was read again
    assert follow.context[: len(first.context)] == first.context
    raw = httpx.post(
        f"{embedded_server.url}/api/generate",
        json={"model": "gemma3:270m", "prompt": COUNT, "raw": True, "stream": False, "options": options},
        timeout=60,
    ).json()
    assert raw["done"] and "context" not in raw  # raw replies carry no context, as in Ollama
    with pytest.raises(ollama.ResponseError) as err:
        client.generate("smollm2:135m", "hi", context=[10**9], options=options)
    assert err.value.status_code == 400 and "10" in err.value.error and "not a token" in err.value.error


def test_show_model_info_keeps_gguf_types_in_go_key_order(embedded_server):
    info = httpx.post(f"{embedded_server.url}/api/show", json={"model": "smollm2:135m"}, timeout=60).json()[
        "model_info"
    ]
    assert list(info) == sorted(info)  # Go writes map keys sorted
    assert info["tokenizer.ggml.add_bos_token"] is False and info["llama.context_length"] == 8192
    assert info["general.architecture"] == "llama" and isinstance(info["llama.rope.freq_base"], float)


def test_num_predict_zero_does_not_limit_the_reply(embedded_server):
    client = ollama.Client(host=embedded_server.url)
    unlimited = client.chat("smollm2:135m", messages=ASK, options={"temperature": 0, "num_predict": 0})
    assert unlimited.eval_count > 10 and unlimited.done_reason == "stop"  # ended by the model, not a limit
    assert unlimited.message.content.strip()
