"""Wire records: what an Ollama-API server says about its models (/api/tags, /api/show, /api/ps) and a pull's
progress lines, as typed dataclasses read alike from dicts and from the `ollama` package's pydantic records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["ModelDetails", "ModelInfo", "PullProgress", "RunningModel"]


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _get(obj: Any, key: str, default: Any = None) -> Any:
    """Read a key from a dict or an attribute from an ollama pydantic record alike."""
    if isinstance(obj, Mapping):
        value = obj.get(key, default)
    else:
        value = getattr(obj, key, default)
    return default if value is None else value


@dataclass
class ModelInfo:
    """One installed model as /api/tags lists it."""

    name: str
    size: int
    digest: str
    modified_at: datetime | None
    family: str
    parameter_size: str
    quantization: str
    context_length: int | None = None
    capabilities: list[str] = field(default_factory=list)

    @classmethod
    def from_tags(cls, entry: Mapping[str, Any]) -> ModelInfo:
        details = entry.get("details") or {}
        return cls(
            name=entry.get("model") or entry.get("name") or "",
            size=int(entry.get("size") or 0),
            digest=entry.get("digest") or "",
            modified_at=_when(entry.get("modified_at")),
            family=details.get("family") or "",
            parameter_size=details.get("parameter_size") or "",
            quantization=details.get("quantization_level") or "",
            context_length=details.get("context_length"),
            capabilities=list(entry.get("capabilities") or []),
        )


@dataclass
class ModelDetails:
    """What /api/show says about one model: capabilities, context length, template, parameters."""

    name: str
    family: str
    parameter_size: str
    quantization: str
    context_length: int | None
    capabilities: list[str]
    template: str
    system: str
    parameters: str
    license: str
    modelfile: str
    model_info: dict[str, Any]

    @classmethod
    def from_show(cls, name: str, data: Mapping[str, Any]) -> ModelDetails:
        details = data.get("details") or {}
        info = dict(data.get("model_info") or {})
        arch = info.get("general.architecture", "")
        context = info.get(f"{arch}.context_length") if arch else None
        if context is None:
            context = next((v for k, v in info.items() if k.endswith(".context_length")), None)
        return cls(
            name=name,
            family=details.get("family") or "",
            parameter_size=details.get("parameter_size") or "",
            quantization=details.get("quantization_level") or "",
            context_length=int(context) if isinstance(context, int | float) else None,
            capabilities=list(data.get("capabilities") or []),
            template=data.get("template") or "",
            system=data.get("system") or "",
            parameters=data.get("parameters") or "",
            license=data.get("license") or "",
            modelfile=data.get("modelfile") or "",
            model_info=info,
        )


@dataclass
class RunningModel:
    """A model loaded in memory (/api/ps); size_vram == size means fully on the GPU."""

    name: str
    size: int
    size_vram: int
    expires_at: datetime | None
    context_length: int | None

    @classmethod
    def from_ps(cls, entry: Any) -> RunningModel:
        return cls(
            name=_get(entry, "model") or _get(entry, "name", ""),
            size=int(_get(entry, "size", 0)),
            size_vram=int(_get(entry, "size_vram", 0)),
            expires_at=_when(_get(entry, "expires_at")),
            context_length=_get(entry, "context_length"),
        )


@dataclass(frozen=True)
class PullProgress:
    """One progress line of a pull or create: a status and, while downloading, bytes done of total."""

    status: str
    digest: str | None = None
    completed: int | None = None
    total: int | None = None

    @property
    def fraction(self) -> float | None:
        """Share done in [0, 1], or None when the line carries no byte counts."""
        if not self.total:
            return None
        return min(1.0, (self.completed or 0) / self.total)
