"""This machine's resources (RAM, CPU, GPUs) and whether a model fits them: where it would run and why, in words."""

from __future__ import annotations

import functools
import os
import platform
import shutil
import subprocess
from dataclasses import dataclass, field

import psutil

from core.i18n import _, format_decimal, format_number, ngettext
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
        """One line a person reads: "31 GiB RAM (20 GiB free) · 8 CPU cores · no GPU" (in the interface's
        language)."""
        ram = _("{total} RAM ({free} free)").format(
            total=_gib_short(self.ram_total), free=_gib_short(self.ram_available)
        )
        cores = ngettext("{count} CPU core", "{count} CPU cores", self.cpu_count).format(
            count=format_number(self.cpu_count)
        )
        gpus = ", ".join(
            _("{name} {total} ({free} free)").format(
                name=g.name, total=_gib_short(g.memory_total), free=_gib_short(g.memory_free)
            )
            for g in self.gpus
        )
        return f"{ram} · {cores} · {gpus or _('no GPU')}"


@dataclass(frozen=True)
class FitVerdict:
    """Whether a model fits this machine, where it would run, and why, in words.

    ``label`` is the few words a list shows ("fits", "fits on GPU", "tight", "too large for 16 GiB RAM");
    ``reason`` the sentence with the figures and what to do; ``gpu`` whether the GPU is used, and if not why
    ("on the GPU (RTX 4060)", "on the CPU: no GPU found", "on the CPU: this llama.cpp has no GPU support").
    These three are in the interface's language: code tells a tight fit by ``tight``, not by the label."""

    fits: bool
    where: str  # "gpu" | "cpu" | "none"
    reason: str
    label: str = ""
    gpu: str = ""
    tight: bool = False  # it fits, but leaves little memory to other programs


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
    """Memory with one decimal: "3.5 GiB" ("3,5 Gio" in French)."""
    return _("{size} GiB").format(size=format_decimal(n / GIB, 1))


def _gib_short(n: float) -> str:
    """Memory as a list shows it: "24 GiB", "3.5 GiB", "0.5 GiB"."""
    value = n / GIB
    return _("{size} GiB").format(size=format_decimal(value, 0 if value >= 10 else 1))


# A model that would leave less than this share of the free RAM to everything else is "tight".
_TIGHT_SHARE = 0.8


def fits(model: ModelInfo, res: MachineResources, *, gpu_usable: bool = True) -> FitVerdict:
    """Judge from the model's size whether it loads on a GPU, in RAM, or not at all on this machine.

    Needs only what /api/tags lists (the size), so judging every installed model costs no request.
    ``gpu_usable`` is False when the server cannot put layers on a GPU (the embedded backend with a llama.cpp
    built for the CPU only): the model is then judged against RAM alone, and ``gpu`` says why."""
    best_gpu = max(res.gpus, key=lambda g: g.memory_free, default=None)
    if best_gpu is None:
        on_cpu = _("on the CPU: no GPU found")
    elif not gpu_usable:
        on_cpu = _(
            "on the CPU: the embedded backend's llama.cpp has no GPU support, so {gpu} is not used"
        ).format(gpu=best_gpu.name)
    else:
        on_cpu = _("on the CPU: {gpu} has too little free memory ({free})").format(
            gpu=best_gpu.name, free=_gib(best_gpu.memory_free)
        )
    if model.size <= 0:
        reason = _("size of {model} unknown; assuming it fits in RAM").format(model=model.name)
        return FitVerdict(True, "cpu", reason, _("size unknown"), on_cpu)
    need = int(model.size * _OVERHEAD_FACTOR) + _OVERHEAD_BYTES
    if best_gpu is not None and gpu_usable and best_gpu.memory_free >= need:
        return FitVerdict(
            True,
            "gpu",
            _("needs about {need}; {gpu} has {free} free").format(
                need=_gib(need), gpu=best_gpu.name, free=_gib(best_gpu.memory_free)
            ),
            _("fits on GPU"),
            _("on the GPU ({gpu})").format(gpu=best_gpu.name),
        )
    if res.ram_available >= need:
        tight = need > _TIGHT_SHARE * res.ram_available
        label = _("tight") if tight else _("fits in RAM") if res.gpus else _("fits")
        if tight:
            reason = _("needs about {need}; {free} of RAM available; little is left for other programs")
        else:
            reason = _("needs about {need}; {free} of RAM available")
        return FitVerdict(
            True,
            "cpu",
            reason.format(need=_gib(need), free=_gib(res.ram_available)),
            label,
            on_cpu,
            tight=tight,
        )
    if res.ram_total >= need:
        return FitVerdict(
            False,
            "none",
            _(
                "needs about {need} but only {free} of RAM is free (of {total}): close other programs or pick "
                "a smaller model"
            ).format(need=_gib(need), free=_gib(res.ram_available), total=_gib(res.ram_total)),
            _("too large for the {free} of RAM free").format(free=_gib_short(res.ram_available)),
        )
    return FitVerdict(
        False,
        "none",
        _("needs about {need}, more than this machine's {total} of RAM").format(
            need=_gib(need), total=_gib(res.ram_total)
        ),
        _("too large for {total} RAM").format(total=_gib_short(res.ram_total)),
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
