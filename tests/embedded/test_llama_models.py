"""The real embedded backend (llama.cpp, bundled models) through the official `ollama` client. Few and short."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import ollama
import pytest

pytestmark = pytest.mark.model

USER = [{"role": "user", "content": "Say hello."}]
CODE = "def fibonacci(n):"


def _wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_bundled_models_are_listed_and_shown(embedded_server):
    client = ollama.Client(host=embedded_server.url)
    listed = {m.model: m for m in client.list().models}
    assert {"smollm2:135m", "gemma3:270m"} <= set(listed)
    smol = listed["smollm2:135m"]
    path = Path(client.show("smollm2:135m").modelfile.split("\nFROM ", 1)[1].splitlines()[0])
    assert smol.digest == hashlib.sha256(path.read_bytes()).hexdigest() and smol.size == path.stat().st_size
    assert smol.details.family == "llama" and smol.details.quantization_level == "Q4_1"
    shown = client.show("smollm2:135m")
    assert "<|im_start|>" in shown.template and shown.capabilities == ["completion"]
    assert (
        shown.modelinfo["general.architecture"] == "llama" and shown.modelinfo["llama.context_length"] == 8192
    )
    gemma = client.show("gemma3:270m")
    assert gemma.template.startswith("{{- range") and '"<end_of_turn>"' in gemma.parameters
    assert gemma.details.family == "gemma3" and gemma.details.parameter_size == "270M"


def test_streaming_chat_reports_real_counts_and_durations(embedded_server):
    client = ollama.Client(host=embedded_server.url)
    parts = list(
        client.chat("smollm2:135m", messages=USER, stream=True, options={"num_predict": 8, "seed": 1})
    )
    final = parts[-1]
    assert final.done and final.done_reason in ("stop", "length") and not any(p.done for p in parts[:-1])
    assert 1 <= final.eval_count <= 8 and final.prompt_eval_count > len(USER[0]["content"].split())
    for value in (final.total_duration, final.prompt_eval_duration, final.eval_duration):
        assert isinstance(value, int) and value > 0
    assert final.total_duration >= final.eval_duration + final.prompt_eval_duration
    assert "".join(p.message.content for p in parts).strip()


def test_num_predict_seed_and_stop_are_honoured(embedded_server):
    client = ollama.Client(host=embedded_server.url)
    options = {"temperature": 0, "seed": 42, "num_predict": 12}
    first = client.generate("gemma3:270m", CODE, raw=True, options=options)
    second = client.generate("gemma3:270m", CODE, raw=True, options=options)
    assert first.eval_count == 12 and first.done_reason == "length"
    assert first.response == second.response and first.response.strip()
    text = first.response
    stop = next(
        text[i : i + 2]
        for i in range(3, len(text) - 2)
        if text[i : i + 2].strip() and text.find(text[i : i + 2]) == i
    )
    stopped = client.generate("gemma3:270m", CODE, raw=True, options={**options, "stop": [stop]})
    assert stopped.response == text[: text.index(stop)] and stopped.done_reason == "stop"


def test_load_unload_and_ps_follow_num_ctx(embedded_server):
    client = ollama.Client(host=embedded_server.url)
    loaded = client.generate("gemma3:270m", options={"num_ctx": 1024})
    assert loaded.done_reason == "load"
    running = {m.model: m for m in client.ps().models}
    assert running["gemma3:270m"].context_length == 1024 and running["gemma3:270m"].size > 0
    assert client.generate("gemma3:270m", keep_alive=0).done_reason == "unload"
    assert "gemma3:270m" not in {m.model for m in client.ps().models}


def test_prompt_longer_than_context_is_a_400_before_any_chunk(embedded_server):
    with pytest.raises(ollama.ResponseError) as err:
        list(
            ollama.Client(host=embedded_server.url).generate(
                "gemma3:270m", "word " * 200, raw=True, stream=True, options={"num_ctx": 64}
            )
        )
    assert err.value.status_code == 400 and err.value.error == "the input length exceeds the context length"


def test_refusals_with_the_real_engine(embedded_server, tmp_path):
    client = ollama.Client(host=embedded_server.url)
    with pytest.raises(ollama.ResponseError) as missing:
        client.chat("llama3.2", messages=USER)
    assert missing.value.status_code == 404 and missing.value.error == "model 'llama3.2' not found"
    picture = tmp_path / "p.png"
    picture.write_bytes(b"\x89PNG\r\n\x1a\n0000")
    with pytest.raises(ollama.ResponseError) as images:
        client.chat("smollm2:135m", messages=[{"role": "user", "content": "see", "images": [picture]}])
    assert images.value.status_code == 400 and "does not support images" in images.value.error
    with pytest.raises(ollama.ResponseError) as thinking:
        client.chat("smollm2:135m", messages=USER, think=True)
    assert thinking.value.error == '"smollm2:135m" does not support thinking'


def test_closing_the_stream_stops_llama_generation(embedded_server):
    engine = embedded_server.engine
    before = len(engine.runs)
    stream = ollama.Client(host=embedded_server.url).generate(
        "gemma3:270m", CODE, raw=True, stream=True, options={"num_predict": 2000, "temperature": 0.7}
    )
    for _ in range(3):
        next(stream)
    stream.close()
    _wait_until(lambda: len(engine.runs) > before and engine.runs[-1].ended)
    run = engine.runs[-1]
    assert run.cancelled and run.tokens < 200  # stopped within a few tokens of the close, not at 2000
    # The engine is free again: a short request is served.
    reply = ollama.Client(host=embedded_server.url).generate(
        "gemma3:270m", CODE, raw=True, options={"num_predict": 2}
    )
    assert reply.eval_count == 2


def test_models_in_home_are_served(tmp_path):
    from core.embedded.catalog import BUNDLED
    from core.embedded.llama_engine import LlamaEngine

    bundled = {name: locate() for name, locate in BUNDLED.items()}
    models = tmp_path / "models"
    models.mkdir()
    (models / "My Tiny.gguf").symlink_to(bundled["smollm2:135m"])
    (models / "broken.gguf").write_bytes(b"GGUF not really")
    engine = LlamaEngine(tmp_path)
    names = [card.name for card in engine.list_models()]
    assert "my-tiny:latest" in names and "broken:latest" not in names
    assert engine.find("My-Tiny") is not None
    cancel = threading.Event()
    events = list(engine.chat("my-tiny:latest", USER, {"num_predict": 3, "temperature": 0}, cancel))
    assert events[-1].eval_count <= 3 and events[-1].prompt_eval_count > 0


def test_a_model_whose_keep_alive_runs_out_is_not_released_mid_generation(embedded_server):
    client = ollama.Client(host=embedded_server.url)
    stream = client.generate(
        "smollm2:135m",
        CODE,
        raw=True,
        stream=True,
        keep_alive=0.001,
        options={"num_predict": 30, "temperature": 0},
    )
    next(stream)
    assert "smollm2:135m" in {m.model for m in client.ps().models}  # expired, but busy: kept
    final = [part for part in stream if part.done][0]
    assert final.eval_count == 30
    _wait_until(lambda: "smollm2:135m" not in {m.model for m in client.ps().models})


def test_format_schema_constrains_the_reply_to_json(embedded_server):
    import json

    schema = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
        "required": ["name", "age"],
    }
    reply = ollama.Client(host=embedded_server.url).chat(
        "smollm2:135m",
        messages=[{"role": "user", "content": "Describe a person as JSON."}],
        format=schema,
        options={"num_predict": 60, "temperature": 0},
    )
    data = json.loads(reply.message.content)
    assert isinstance(data["name"], str) and isinstance(data["age"], int) and reply.done_reason == "stop"


def test_chat_prompts_use_the_chat_template_or_the_gemma_turn_format(embedded_server):
    import llama_cpp

    from core.embedded.catalog import BUNDLED
    from core.embedded.prompts import base_prompt, template_prompt

    paths = {name: locate() for name, locate in BUNDLED.items()}
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Name a colour."}]
    client = ollama.Client(host=embedded_server.url)
    meta = embedded_server.engine.catalog.read_metadata(paths["smollm2:135m"])
    expected = {
        "gemma3:270m": base_prompt(messages).text,
        "smollm2:135m": template_prompt(
            meta["tokenizer.chat_template"], messages, meta["_bos"], meta["_eos"]
        ).text,
    }
    assert expected["gemma3:270m"].startswith(
        "<start_of_turn>user\nBe brief.\n\nName a colour.<end_of_turn>\n"
    )
    assert "<|im_start|>system\nBe brief.<|im_end|>" in expected["smollm2:135m"]
    for name, prompt in expected.items():
        vocab = llama_cpp.Llama(str(paths[name]), vocab_only=True, verbose=False)
        count = len(vocab.tokenize(prompt.encode("utf-8"), add_bos=True, special=True))
        reply = client.chat(name, messages=messages, options={"num_predict": 1})
        assert reply.prompt_eval_count == count, name


def test_loading_a_model_never_swallows_what_other_threads_print(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys, threading, time\n"
        "from pathlib import Path\n"
        "from core.embedded.llama_engine import LlamaEngine\n"
        "engine = LlamaEngine(Path(sys.argv[1]))\n"
        "engine.list_models()\n"
        "done = threading.Event()\n"
        "threading.Thread(target=lambda: (engine.load('gemma3:270m', {}, None), done.set())).start()\n"
        "n = 0\n"
        "while not done.is_set():\n"
        "    print(f'line {n}', flush=True); print(f'err {n}', file=sys.stderr, flush=True); n += 1\n"
        "    time.sleep(0.002)\n"
        "print(f'total {n}', flush=True)\n"
    )
    repo = Path(__file__).resolve().parents[2]
    run = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], cwd=repo, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    total = int(lines[-1].split()[1])
    assert total > 0 and lines[:-1] == [f"line {i}" for i in range(total)]
    assert run.stderr.splitlines() == [f"err {i}" for i in range(total)]  # and no llama.cpp chatter


def test_leaving_while_a_long_prompt_is_read_stops_between_batches(embedded_server):
    """A client that leaves while llama.cpp reads a long prompt (Stop in the app, Ctrl-C in a benchmark) is
    let go after the batch in progress, not after the whole prompt: the run ends with part of it read."""
    import json
    import socket
    from urllib.parse import urlsplit

    engine = embedded_server.engine
    before = len(engine.runs)
    prompt = "".join(f"def f{i}(x):\n    return x * {i} + {i % 7}\n\n" for i in range(300))  # ~6,000 tokens
    body = json.dumps({"model": "gemma3:270m", "prompt": prompt, "raw": True, "options": {"num_ctx": 8192}})
    url = urlsplit(embedded_server.url)
    # A raw socket: no answer comes before the first token (the server holds its headers to be able to
    # answer an error), and the client leaves before that, as a closed window or a Ctrl-C would.
    with socket.create_connection((url.hostname, url.port), timeout=60) as sock:
        request = (
            f"POST /api/generate HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body.encode())}\r\nConnection: close\r\n\r\n{body}"
        )
        sock.sendall(request.encode())
        _wait_until(lambda: len(engine.runs) > before and engine.runs[-1].prompt_read > 0)
    _wait_until(lambda: engine.runs[-1].ended)
    run = engine.runs[-1]
    assert run.cancelled and run.tokens == 0
    assert 0 < run.prompt_read < run.prompt_tokens, (run.prompt_read, run.prompt_tokens)
    reply = ollama.Client(host=embedded_server.url).generate(
        "gemma3:270m", CODE, raw=True, options={"num_predict": 2}
    )
    assert reply.eval_count == 2  # the engine is free again


def test_a_long_prompt_read_in_batches_answers_the_same_whatever_ran_before(embedded_server):
    """Long prompts are read batch by batch: at temperature 0 the same prompt gives the same reply whether it
    comes first or after another sharing its beginning (such a request reads its prompt afresh; a seedless
    sampled one reuses the cached prefix, see test_llama_options)."""
    client = ollama.Client(host=embedded_server.url)
    shared = "".join(f"def f{i}(x):\n    return x * {i}\n\n" for i in range(120))  # ~2,000 tokens
    first = shared + "def fibonacci(n):"
    other = shared + "def is_prime(n):"
    options = {"num_predict": 24, "temperature": 0, "seed": 1, "num_ctx": 4096}
    a1 = client.generate("gemma3:270m", first, raw=True, options=options)
    b = client.generate("gemma3:270m", other, raw=True, options=options)
    a2 = client.generate("gemma3:270m", first, raw=True, options=options)
    assert a1.prompt_eval_count == a2.prompt_eval_count > 1500
    assert a1.response == a2.response and a1.response.strip()
    assert b.response != a1.response
    run = embedded_server.engine.runs[-1]
    assert run.prompt_read == run.prompt_tokens == a2.prompt_eval_count and run.prompt_cached == 0
