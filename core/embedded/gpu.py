"""GPU offload for the embedded backend: whether llama.cpp can use a GPU, and how many layers to put there.

As Ollama: `num_gpu` is the number of layers to offload (0: none, the CPU only); without it, every layer
that fits the free GPU memory goes there. llama.cpp counts one more "layer" than the model's blocks (the
output layer), so a model of N blocks is fully offloaded with N + 1. Free memory is read from nvidia-smi;
where that says nothing (Metal's unified memory, Vulkan or ROCm without nvidia-smi) every layer is
offloaded and llama.cpp keeps what does not fit on the CPU.
"""

from __future__ import annotations

from core.machine import llama_gpu_offload as offload_supported
from core.machine import nvidia_gpus

__all__ = [
    "ALL_LAYERS",
    "RESERVE_BYTES",
    "free_gpu_memory",
    "gpu_layers",
    "offload_supported",
    "offloaded_share",
]

ALL_LAYERS = -1  # llama.cpp's n_gpu_layers for "all of them"
RESERVE_BYTES = 512 * 1024**2  # GPU memory left for llama.cpp's compute buffers and the display


def free_gpu_memory() -> int | None:
    """Free memory of the GPU with the most of it (nvidia-smi), or None when it cannot be measured."""
    gpus = nvidia_gpus()
    return max((g.memory_free for g in gpus), default=None) if gpus else None


def gpu_layers(
    requested: int | None,
    *,
    offload: bool,
    layers: int,
    model_bytes: int,
    kv_bytes: int,
    free_bytes: int | None = None,
    measure: bool = True,
) -> int:
    """The n_gpu_layers to load a model with.

    `requested` is the request's num_gpu (None: decide here); `layers` the model's blocks; `model_bytes` and
    `kv_bytes` what its weights and KV cache take; `free_bytes` the free GPU memory (measured when None and
    `measure`)."""
    if not offload:
        return 0
    if requested is not None:
        return max(0, min(requested, layers + 1)) if layers else max(0, requested)
    if free_bytes is None and measure:
        free_bytes = free_gpu_memory()
    if free_bytes is None or layers <= 0:
        return ALL_LAYERS
    per_layer = max(1, (model_bytes + kv_bytes) // (layers + 1))
    fitting = max(0, free_bytes - RESERVE_BYTES) // per_layer
    return ALL_LAYERS if fitting >= layers + 1 else int(fitting)


def offloaded_share(n_gpu_layers: int, layers: int) -> float:
    """The share of a model on the GPU for /api/ps `size_vram` (1.0 when every layer is there)."""
    if n_gpu_layers == 0:
        return 0.0
    if n_gpu_layers < 0 or layers <= 0:
        return 1.0
    return min(1.0, n_gpu_layers / (layers + 1))
