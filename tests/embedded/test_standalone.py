"""`python -m core.embedded --port PORT` serves the bundled models to the official client, as any Ollama would."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import ollama
import pytest

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def standalone(tmp_path):
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "core.embedded", "--port", str(port), "--home", str(tmp_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert proc.poll() is None, proc.stderr.read()
        try:
            if httpx.get(url, timeout=1).text == "Ollama is running":
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the standalone server did not answer in time"
        time.sleep(0.05)
    try:
        yield url, proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def test_standalone_server_speaks_to_the_official_client(standalone):
    url, proc = standalone
    client = ollama.Client(host=url)
    assert {"smollm2:135m", "gemma3:270m"} <= {m.model for m in client.list().models}
    assert client.show("gemma3:270m").modelinfo["general.architecture"] == "gemma3"
    parts = list(client.chat("smollm2:135m", messages=[{"role": "user", "content": "Hi"}], stream=True,
                             options={"num_predict": 6}))  # fmt: skip
    final = parts[-1]
    assert final.done and final.eval_count and final.eval_duration > 0 and final.prompt_eval_duration > 0
    raw = client.generate(
        "gemma3:270m", "def add(a, b):", raw=True, options={"num_predict": 4, "temperature": 0}
    )
    assert raw.done and raw.eval_count == 4 and raw.response
    with pytest.raises(ollama.ResponseError) as err:
        client.chat("missing-model", messages=[{"role": "user", "content": "Hi"}])
    assert err.value.status_code == 404
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert url in out and "smollm2:135m" in out and "gemma3:270m" in out


def test_a_busy_port_is_refused_in_the_systems_language(tmp_path):
    """The standalone command speaks to a person on its terminal: in French under LANG=fr_FR.UTF-8 (its
    HTTP answers stay in English, as Ollama's API)."""
    import os

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        env = {**os.environ, "LANG": "fr_FR.UTF-8", "XDG_CACHE_HOME": str(tmp_path / "cache")}
        for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
            env.pop(name, None)
        done = subprocess.run(
            [sys.executable, "-m", "core.embedded", "--port", str(port), "--home", str(tmp_path)],
            cwd=REPO,
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    assert done.returncode == 3
    said = done.stderr.splitlines()[-1]  # after uvicorn's own log line
    assert said == (
        f"Impossible de démarrer le serveur intégré sur 127.0.0.1:{port}\u00a0: le serveur intégré n’a pas pu "
        f"démarrer sur 127.0.0.1:{port}\u00a0: le port est occupé ou interdit"
    ), done.stderr
