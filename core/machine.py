"""This machine's resources (RAM, CPU, GPUs) and whether a model fits them: where it would run and why, in words."""

from __future__ import annotations

import functools
import os
import platform
import shutil
import subprocess
from dataclasses import dataclass, field

import psutil

from core.model_records import ModelInfo

__all__ = [
    "GIB",
    "FitVerdict",
    "GpuInfo",
    "MachineResources",
    "fits",
    "llama_gpu_offload",
    "machine_resources",
    "nvidia_gpus",
    "parse_nvidia_smi",
]

GIB = 1024**3
# Memory a loaded model needs beyond its file: KV cache for a default context, compute buffers, runtime.
_OVERHEAD_FACTOR = 1.2
_OVERHEAD_BYTES = 512 * 1024**2


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
    ``reason`` the sentence with the figures and what to do; ``gpu`` whether the GPU is used, and if not why
    ("on the GPU (RTX 4060)", "on the CPU: no GPU found", "on the CPU: this llama.cpp has no GPU support")."""

    fits: bool
    where: str  # "gpu" | "cpu" | "none"
    reason: str
    label: str = ""
    gpu: str = ""


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


def nvidia_gpus() -> list[GpuInfo]:
    """NVIDIA GPUs with their memory now (nvidia-smi), or [] when there is none or no nvidia-smi."""
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
        gpus=nvidia_gpus(),
    )


def _gib(n: float) -> str:
    return f"{n / GIB:.1f} GiB"


def _gib_short(n: float) -> str:
    """Memory as a list shows it: "24 GiB", "3.5 GiB", "0.5 GiB"."""
    value = n / GIB
    return f"{value:.0f} GiB" if value >= 10 else f"{value:.1f} GiB"


# A model that would leave less than this share of the free RAM to everything else is "tight".
_TIGHT_SHARE = 0.8


def fits(model: ModelInfo, res: MachineResources, *, gpu_usable: bool = True) -> FitVerdict:
    """Judge from the model's size whether it loads on a GPU, in RAM, or not at all on this machine.

    Needs only what /api/tags lists (the size), so judging every installed model costs no request.
    ``gpu_usable`` is False when the server cannot put layers on a GPU (the embedded backend with a llama.cpp
    built for the CPU only): the model is then judged against RAM alone, and ``gpu`` says why."""
    best_gpu = max(res.gpus, key=lambda g: g.memory_free, default=None)
    if best_gpu is None:
        on_cpu = "on the CPU: no GPU found"
    elif not gpu_usable:
        on_cpu = (
            f"on the CPU: the embedded backend's llama.cpp has no GPU support, so {best_gpu.name} is not used"
        )
    else:
        on_cpu = f"on the CPU: {best_gpu.name} has too little free memory ({_gib(best_gpu.memory_free)})"
    if model.size <= 0:
        return FitVerdict(
            True, "cpu", f"size of {model.name} unknown; assuming it fits in RAM", "size unknown", on_cpu
        )
    need = int(model.size * _OVERHEAD_FACTOR) + _OVERHEAD_BYTES
    if best_gpu is not None and gpu_usable and best_gpu.memory_free >= need:
        return FitVerdict(
            True,
            "gpu",
            f"needs about {_gib(need)}; {best_gpu.name} has {_gib(best_gpu.memory_free)} free",
            "fits on GPU",
            f"on the GPU ({best_gpu.name})",
        )
    if res.ram_available >= need:
        tight = need > _TIGHT_SHARE * res.ram_available
        label = "tight" if tight else "fits in RAM" if res.gpus else "fits"
        tail = "; little is left for other programs" if tight else ""
        return FitVerdict(
            True,
            "cpu",
            f"needs about {_gib(need)}; {_gib(res.ram_available)} of RAM available{tail}",
            label,
            on_cpu,
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


@functools.cache
def llama_gpu_offload() -> bool:
    """Whether this install's llama.cpp (the embedded backend) was built with a GPU backend (CUDA, Metal,
    Vulkan, ROCm…): llama_supports_gpu_offload. False when llama-cpp-python is missing or broken."""
    try:
        import llama_cpp

        return bool(llama_cpp.llama_supports_gpu_offload())
    except Exception:
        return False
