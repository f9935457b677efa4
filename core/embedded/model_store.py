"""Model stores in Ollama's layout: `manifests/{host}/{namespace}/{model}/{tag}` (JSON) plus `blobs/sha256-<hex>`.

Two stores use it: Ollama's own (`OLLAMA_MODELS`, else `~/.ollama/models`), which the embedded backend reads
and never changes, and IA_V3's (`IA_HOME/models`), where pulls from Hugging Face are written. A model is
named as Ollama shows it (types/model/name.go `DisplayShortest`): `llama3.2:latest` for the library,
`user/model:tag` for another namespace, `hf.co/user/repo:Q4_K_M` for another host.

Layers used (server/images.go `GetModel`): the GGUF weights (`…image.model`), the system prompt
(`…image.system`), default options (`…image.params`, JSON), the license, and messages (`…image.messages`,
put before a chat). A Go template (`…image.template`) is kept for /api/show, but chats are formatted with
the GGUF's own Jinja template (llama.cpp has no Go template engine). Vision projectors (`…image.projector`)
and LoRA adapters (`…image.adapter`) are recorded so the engine can refuse them with a clear message.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.fileio import atomic_write

__all__ = [
    "LAYER_MODEL",
    "ModelName",
    "ModelStore",
    "StoreModel",
    "ollama_models_dir",
    "parse_name",
]

log = logging.getLogger(__name__)

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"
MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
LAYER_MODEL = "application/vnd.ollama.image.model"
LAYER_CONFIG = "application/vnd.docker.container.image.v1+json"
_LAYER = "application/vnd.ollama.image."
_DIGEST = re.compile(r"sha256[:-]([0-9a-f]{64})")
_PART = {
    "host": re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.:-]{0,349}"),
    "namespace": re.compile(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,79}"),
    "model": re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}"),
    "tag": re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}"),
}


def ollama_models_dir() -> Path:
    """Where Ollama keeps its models: OLLAMA_MODELS, else ~/.ollama/models (envconfig.Models)."""
    configured = os.environ.get("OLLAMA_MODELS", "").strip().strip("\"'")
    return Path(configured).expanduser() if configured else Path.home() / ".ollama" / "models"


@dataclass(frozen=True)
class ModelName:
    """A fully qualified model name: host/namespace/model:tag (types/model/name.go)."""

    host: str
    namespace: str
    model: str
    tag: str

    @property
    def display(self) -> str:
        """As Ollama lists it (DisplayShortest): the default host and namespace left out."""
        if self.host.lower() != DEFAULT_HOST:
            return f"{self.host}/{self.namespace}/{self.model}:{self.tag}"
        if self.namespace.lower() != DEFAULT_NAMESPACE:
            return f"{self.namespace}/{self.model}:{self.tag}"
        return f"{self.model}:{self.tag}"

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Names compare case-insensitively (Name.EqualFold)."""
        return (self.host.lower(), self.namespace.lower(), self.model.lower(), self.tag.lower())

    def path_in(self, manifests: Path) -> Path:
        return manifests / self.host / self.namespace / self.model / self.tag

    def is_valid(self) -> bool:
        return all(
            _PART[kind].fullmatch(value)
            for kind, value in zip(_PART, (self.host, self.namespace, self.model, self.tag), strict=True)
        )


def parse_name(text: str) -> ModelName | None:
    """`[host/][namespace/]model[:tag]` with Ollama's defaults filled in; None when a part is invalid."""
    text = text.strip()
    tag = ""
    if text.rfind(":") > text.rfind("/"):
        text, tag = text.rsplit(":", 1)
    parts = text.split("/")
    if len(parts) > 3 or not all(parts):
        return None
    if "://" in text:
        return None
    host, namespace = DEFAULT_HOST, DEFAULT_NAMESPACE
    if len(parts) == 3:
        host, namespace, model = parts
    elif len(parts) == 2:
        namespace, model = parts
    else:
        (model,) = parts
    name = ModelName(host, namespace, model, tag or DEFAULT_TAG)
    return name if name.is_valid() else None


@dataclass(frozen=True)
class StoreModel:
    """One model of a store: its name, manifest facts (digest, size, date) and the files and texts it uses."""

    name: ModelName
    manifest: Path
    digest: str  # sha256 of the manifest's bytes, as Ollama lists it
    size: int  # the layers and the config together
    modified_at: datetime
    weights: Path  # the GGUF blob
    system: str = ""
    template: str = ""  # Ollama's Go template (shown, not executed)
    license: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    messages: list[dict[str, Any]] = field(default_factory=list)
    projectors: tuple[Path, ...] = ()
    adapters: tuple[Path, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)
    blobs: tuple[str, ...] = ()  # every digest ("sha256:<hex>") it references


class ModelStore:
    """A folder in Ollama's layout; `writable=False` for Ollama's own store, which is only ever read."""

    def __init__(self, root: Path, *, writable: bool, label: str) -> None:
        self.root = Path(root)
        self.writable = writable
        self.label = label  # how messages name it: "Ollama's model store", "IA_V3's model store"
        self._lock = threading.Lock()
        self._seen: dict[Path, tuple[tuple[int, int], StoreModel | None]] = {}

    @property
    def manifests(self) -> Path:
        return self.root / "manifests"

    @property
    def blobs(self) -> Path:
        return self.root / "blobs"

    def blob_path(self, digest: str) -> Path:
        match = _DIGEST.fullmatch(digest)
        if match is None:
            raise ValueError(f"invalid digest {digest!r}")
        return self.blobs / f"sha256-{match.group(1)}"

    # --- reading ---------------------------------------------------------------------------------------

    def models(self) -> list[StoreModel]:
        """Every readable model whose weights are a GGUF blob present on disk; others are skipped with a log."""
        found = []
        for path in self._manifest_files():
            model = self._read_cached(path)
            if model is not None:
                found.append(model)
        return found

    def find(self, name: ModelName) -> StoreModel | None:
        return next((m for m in self.models() if m.name.key == name.key), None)

    def _manifest_files(self) -> list[Path]:
        try:
            return sorted(p for p in self.manifests.glob("*/*/*/*") if p.is_file())
        except OSError:
            return []

    def _read_cached(self, path: Path) -> StoreModel | None:
        try:
            stat = path.stat()
        except OSError:
            return None
        stamp = (stat.st_size, stat.st_mtime_ns)
        with self._lock:
            known = self._seen.get(path)
        if known is not None and known[0] == stamp:
            return known[1]
        model = self._read(path, stat.st_mtime)
        with self._lock:
            self._seen[path] = (stamp, model)
        return model

    def _read(self, path: Path, mtime: float) -> StoreModel | None:
        rel = path.relative_to(self.manifests).parts
        name = ModelName(*rel)
        where = f"{self.label} ({path})"
        if not name.is_valid():
            log.warning("skipping %s: not a valid model name", where)
            return None
        try:
            raw = path.read_bytes()
            manifest = json.loads(raw)
            layers = list(manifest.get("layers") or [])
            config_layer = manifest.get("config") or {}
        except (OSError, ValueError, AttributeError) as exc:
            log.warning("skipping %s: unreadable manifest (%s)", where, exc)
            return None
        fields: dict[str, Any] = {"projectors": [], "adapters": []}
        weights: Path | None = None
        size = 0
        digests = []
        for layer in [*layers, config_layer] if config_layer else layers:
            if not isinstance(layer, dict):
                continue
            size += int(layer.get("size") or 0)
            digest = str(layer.get("digest") or "")
            if digest:
                digests.append(digest)
        try:
            for layer in layers:
                kind = str(layer.get("mediaType") or "")
                blob = self.blob_path(str(layer.get("digest") or ""))
                if kind == LAYER_MODEL:
                    weights = blob
                elif kind == _LAYER + "projector":
                    fields["projectors"].append(blob)
                elif kind == _LAYER + "adapter":
                    fields["adapters"].append(blob)
                elif kind in (_LAYER + "template", _LAYER + "prompt"):
                    fields["template"] = blob.read_text(encoding="utf-8")
                elif kind == _LAYER + "system":
                    fields["system"] = blob.read_text(encoding="utf-8")
                elif kind == _LAYER + "license":
                    fields["license"] = "\n".join(
                        filter(None, [fields.get("license"), blob.read_text("utf-8")])
                    )
                elif kind == _LAYER + "params":
                    params = json.loads(blob.read_text(encoding="utf-8"))
                    fields["params"] = params if isinstance(params, dict) else {}
                elif kind == _LAYER + "messages":
                    messages = json.loads(blob.read_text(encoding="utf-8"))
                    fields["messages"] = [m for m in messages if isinstance(m, dict)]
            if config_layer.get("digest"):
                config = json.loads(self.blob_path(str(config_layer["digest"])).read_text(encoding="utf-8"))
                fields["config"] = config if isinstance(config, dict) else {}
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            log.warning("skipping %s: a layer cannot be read (%s)", where, exc)
            return None
        if weights is None:
            log.info("skipping %s: it has no GGUF weights layer (a cloud or safetensors model)", where)
            return None
        if not _is_gguf(weights):
            log.info("skipping %s: its weights %s are missing or not a GGUF file", where, weights)
            return None
        return StoreModel(
            name=name,
            manifest=path,
            digest=hashlib.sha256(raw).hexdigest(),
            size=size,
            modified_at=datetime.fromtimestamp(mtime, UTC),
            weights=weights,
            projectors=tuple(fields.pop("projectors")),
            adapters=tuple(fields.pop("adapters")),
            blobs=tuple(digests),
            **fields,
        )

    # --- writing (IA_V3's store only) --------------------------------------------------------------------

    def write_manifest(
        self, name: ModelName, config: dict[str, Any], layers: Iterable[dict[str, Any]]
    ) -> Path:
        """Write the config blob and the manifest (atomically); returns the manifest's path."""
        self._check_writable()
        config_bytes = json.dumps(config, separators=(",", ":")).encode("utf-8")
        config_digest = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
        atomic_write(self.blob_path(config_digest), config_bytes)
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "config": {"mediaType": LAYER_CONFIG, "digest": config_digest, "size": len(config_bytes)},
            "layers": list(layers),
        }
        path = name.path_in(self.manifests)
        atomic_write(path, json.dumps(manifest, separators=(",", ":")).encode("utf-8") + b"\n")
        return path

    def remove(self, model: StoreModel) -> None:
        """Delete a model's manifest, then every blob no other manifest uses, then empty folders."""
        self._check_writable()
        model.manifest.unlink()
        self.prune(model.blobs)

    def prune(self, candidates: Iterable[str]) -> list[str]:
        """Remove the blobs among `candidates` that no manifest references; returns those removed."""
        self._check_writable()
        used = {d for m in self._all_manifest_digests() for d in m}
        removed = []
        for digest in set(candidates) - used:
            try:
                self.blob_path(digest).unlink()
                removed.append(digest)
            except (FileNotFoundError, ValueError):
                continue
            except OSError as exc:  # in use elsewhere (Windows keeps a mapped file): left for a later prune
                log.warning("cannot remove the unused blob %s: %s", digest, exc)
        _prune_dirs(self.manifests)
        return removed

    def _all_manifest_digests(self) -> list[set[str]]:
        out = []
        for path in self._manifest_files():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                layers = [*(data.get("layers") or []), data.get("config") or {}]
                out.append({str(layer.get("digest")) for layer in layers if layer.get("digest")})
            except (OSError, ValueError, AttributeError):
                continue  # an unreadable manifest keeps nothing alive
        return out

    def _check_writable(self) -> None:
        if not self.writable:
            raise PermissionError(f"{self.label} is read-only")


def _is_gguf(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == b"GGUF"
    except OSError:
        return False


def _prune_dirs(root: Path) -> None:
    """Remove empty folders below `root`, and `root` itself once empty (manifest.PruneDirectory)."""
    if not root.is_dir():
        return
    folders = [*(p for p in root.rglob("*") if p.is_dir()), root]
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        with contextlib.suppress(OSError):
            folder.rmdir()  # only succeeds when empty
