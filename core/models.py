"""Model management: records for what a server holds, this machine's resources, fit, and the fallback chain."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import psutil

from core.errors import ModelNotFound, ServerError, StreamBroken, StreamStalled

if TYPE_CHECKING:
    from core.ollama_client import ChatStream, OllamaClient

__all__ = [
    "FitVerdict",
    "GpuInfo",
    "MachineResources",
    "ModelDetails",
    "ModelInfo",
    "ModelManager",
    "PullProgress",
    "RunningModel",
    "fits",
    "is_out_of_memory",
    "machine_resources",
    "parse_nvidia_smi",
    "with_fallback",
]

GIB = 1024**3
# Memory a loaded model needs beyond its file: KV cache for a default context, compute buffers, runtime.
_OVERHEAD_FACTOR = 1.2
_OVERHEAD_BYTES = 512 * 1024**2
_OOM = re.compile(r"out of memory|more system memory|insufficient memory|not enough memory|cudaMalloc", re.I)


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


@dataclass
class GpuInfo:
    """One GPU with its memory in bytes."""

    name: str
    memory_total: int
    memory_used: int

    @property
    def memory_free(self) -> int:
        return max(0, self.memory_total - self.memory_used)


@dataclass
class MachineResources:
    """RAM in bytes, CPU and GPUs of this machine, to judge which models fit."""

    ram_total: int
    ram_available: int
    cpu_count: int
    cpu_name: str
    gpus: list[GpuInfo] = field(default_factory=list)

    def summary(self) -> str:
        """One line a person reads: "31 GiB RAM (20 GiB free) · 8 CPU cores · no GPU"."""
        ram = f"{_gib_short(self.ram_total)} RAM ({_gib_short(self.ram_available)} free)"
        cores = f"{self.cpu_count} CPU core{'s' if self.cpu_count != 1 else ''}"
        gpus = ", ".join(
            f"{g.name} {_gib_short(g.memory_total)} ({_gib_short(g.memory_free)} free)" for g in self.gpus
        )
        return f"{ram} · {cores} · {gpus or 'no GPU'}"


@dataclass(frozen=True)
class FitVerdict:
    """Whether a model fits this machine, where it would run, and why, in words.

    ``label`` is the few words a list shows ("fits", "fits on GPU", "tight", "too large for 16 GiB RAM");
    ``reason`` the sentence with the figures and what to do."""

    fits: bool
    where: str  # "gpu" | "cpu" | "none"
    reason: str
    label: str = ""


def parse_nvidia_smi(text: str) -> list[GpuInfo]:
    """Parse `nvidia-smi --query-gpu=name,memory.total,memory.used --format=csv,noheader,nounits` (MiB)."""
    gpus = []
    for line in text.splitlines():
        parts = [p.strip() for p in line.rsplit(",", 2)]
        if len(parts) != 3:
            continue
        try:
            total, used = int(float(parts[1])), int(float(parts[2]))
        except ValueError:
            continue
        gpus.append(GpuInfo(parts[0], total * 1024**2, used * 1024**2))
    return gpus


def _gpus() -> list[GpuInfo]:
    exe = shutil.which("nvidia-smi")
    if not exe:
        return []
    query = [exe, "--query-gpu=name,memory.total,memory.used", "--format=csv,noheader,nounits"]
    try:
        done = subprocess.run(query, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return []
    return parse_nvidia_smi(done.stdout) if done.returncode == 0 else []


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_resources() -> MachineResources:
    """RAM and CPU from psutil, GPUs from nvidia-smi when it is installed."""
    mem = psutil.virtual_memory()
    return MachineResources(
        ram_total=int(mem.total),
        ram_available=int(mem.available),
        cpu_count=psutil.cpu_count(logical=True) or os.cpu_count() or 1,
        cpu_name=_cpu_name(),
        gpus=_gpus(),
    )


def _gib(n: float) -> str:
    return f"{n / GIB:.1f} GiB"


def _gib_short(n: float) -> str:
    """Memory as a list shows it: "24 GiB", "3.5 GiB", "0.5 GiB"."""
    value = n / GIB
    return f"{value:.0f} GiB" if value >= 10 else f"{value:.1f} GiB"


# A model that would leave less than this share of the free RAM to everything else is "tight".
_TIGHT_SHARE = 0.8


def fits(model: ModelInfo, res: MachineResources) -> FitVerdict:
    """Judge from the model's size whether it loads on a GPU, in RAM, or not at all on this machine.

    Needs only what /api/tags lists (the size), so judging every installed model costs no request."""
    if model.size <= 0:
        return FitVerdict(
            True, "cpu", f"size of {model.name} unknown; assuming it fits in RAM", "size unknown"
        )
    need = int(model.size * _OVERHEAD_FACTOR) + _OVERHEAD_BYTES
    best_gpu = max(res.gpus, key=lambda g: g.memory_free, default=None)
    if best_gpu is not None and best_gpu.memory_free >= need:
        return FitVerdict(
            True,
            "gpu",
            f"needs about {_gib(need)}; {best_gpu.name} has {_gib(best_gpu.memory_free)} free",
            "fits on GPU",
        )
    if res.ram_available >= need:
        tight = need > _TIGHT_SHARE * res.ram_available
        label = "tight" if tight else "fits in RAM" if res.gpus else "fits"
        tail = "; little is left for other programs" if tight else ""
        return FitVerdict(
            True, "cpu", f"needs about {_gib(need)}; {_gib(res.ram_available)} of RAM available{tail}", label
        )
    if res.ram_total >= need:
        return FitVerdict(
            False,
            "none",
            f"needs about {_gib(need)} but only {_gib(res.ram_available)} of RAM is free "
            f"(of {_gib(res.ram_total)}): close other programs or pick a smaller model",
            f"too large for the {_gib_short(res.ram_available)} of RAM free",
        )
    return FitVerdict(
        False,
        "none",
        f"needs about {_gib(need)}, more than this machine's {_gib(res.ram_total)} of RAM",
        f"too large for {_gib_short(res.ram_total)} RAM",
    )


def is_out_of_memory(exc: BaseException) -> bool:
    """True when a server error says the model could not be loaded for lack of memory."""
    return isinstance(exc, ServerError) and bool(_OOM.search(exc.detail or ""))


def with_fallback(
    client: OllamaClient, models: list[str], start: Callable[[str], ChatStream]
) -> tuple[str, ChatStream, list[str]]:
    """Start a stream with the first model that loads; missing or out-of-memory ones fall to the next.

    Blocks until the server accepted the request (first chunk or error), so call it from a worker thread.
    Returns (model used, stream, notes for the user); raises the first model's error when none loads.
    """
    if not models:
        raise ValueError("with_fallback needs at least one model")
    notes: list[str] = []
    first_error: Exception | None = None
    for i, name in enumerate(models):
        stream = start(name)
        try:
            stream.start()
        except (ModelNotFound, ServerError) as exc:
            if not isinstance(exc, ModelNotFound) and not is_out_of_memory(exc):
                raise
            first_error = first_error or exc
            why = "is not installed" if isinstance(exc, ModelNotFound) else "does not fit in memory"
            nxt = models[i + 1] if i + 1 < len(models) else None
            tail = f"trying '{nxt}' instead." if nxt else "no fallback model left."
            notes.append(f"Model '{name}' {why} on {client.host}; {tail}")
            continue
        if i:
            notes.append(f"Answered with fallback model '{name}'.")
        return name, stream, notes
    assert first_error is not None
    raise first_error


class ModelManager:
    """List, inspect, pull, delete and unload models on the connected server."""

    def __init__(self, client: OllamaClient) -> None:
        self.client = client

    def list(self) -> list[ModelInfo]:
        return self.client.list_models()

    def show(self, name: str) -> ModelDetails:
        return self.client.show(name)

    def running(self) -> list[RunningModel]:
        return self.client.ps()

    def version(self) -> str:
        return self.client.version()

    def fit(self, resources: MachineResources | None = None) -> list[tuple[ModelInfo, FitVerdict]]:
        """Every installed model with whether it fits this machine (its RAM, CPU and GPUs, measured now unless
        ``resources`` is given), in the order the server lists them. One /api/tags request, none per model."""
        res = resources if resources is not None else machine_resources()
        return [(model, fits(model, res)) for model in self.list()]

    def delete(self, name: str) -> None:
        self.client.delete(name)

    def unload(self, name: str) -> None:
        self.client.unload(name)

    def pull(
        self, name: str, on_progress: Callable[[PullProgress], None], cancel: threading.Event | None = None
    ) -> None:
        """Pull a model, reporting each progress line; setting ``cancel`` stops it promptly and quietly."""
        stream = self.client.pull(name)
        done = threading.Event()
        watcher = None
        if cancel is not None:

            def watch() -> None:
                while not done.is_set():
                    if cancel.wait(0.05):
                        stream.cancel()
                        return

            watcher = threading.Thread(target=watch, name="ia-pull-cancel", daemon=True)
            watcher.start()
        try:
            for progress in stream:
                on_progress(progress)
        except (ModelNotFound, StreamBroken, StreamStalled) as exc:
            raise _pull_error(name, exc) from exc
        finally:
            done.set()
            stream.close()
            if watcher is not None:
                watcher.join()


def _pull_error(
    name: str, exc: ModelNotFound | StreamBroken | StreamStalled
) -> ModelNotFound | StreamBroken | StreamStalled:
    """The same error type, worded for a pull (the generic texts speak of installed models and replies)."""
    if isinstance(exc, StreamStalled):
        return StreamStalled(
            exc.seconds,
            exc.phase,
            message=f"The pull of '{name}' stopped: the server sent nothing for {exc.seconds:g} s. "
            "Check the server's network and try the pull again (what was downloaded is kept by Ollama).",
        )
    if isinstance(exc, ModelNotFound):
        return ModelNotFound(
            name,
            exc.detail,
            message=f"There is no model called '{name}' to pull: check the name "
            "(see https://ollama.com/library) and try again.",
        )
    # The server's own words when it sent an {"error"} line, else how the transfer broke.
    said = getattr(exc.__cause__, "error", None)
    detail = f"the server said: {said}" if isinstance(said, str) and said else exc.detail
    return StreamBroken(
        detail, message=f"The pull of '{name}' failed: {detail}. Nothing was installed; try the pull again."
    )
