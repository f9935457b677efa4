"""GPU offload on the embedded backend: `num_gpu` is honoured and, by default, every layer that fits the free GPU
memory is offloaded; /api/ps says how much sits on the GPU; the fit verdict says whether the GPU is used.

This machine has no GPU and its llama.cpp is built for the CPU (llama_supports_gpu_offload() is False), so
what reaches a GPU cannot be seen here. What is checked: the layer count decided (a pure function), that
count reaching llama.cpp (`Llama.model_params.n_gpu_layers`) on an engine told that offload works
(LlamaEngine(gpu_offload=True); llama.cpp without a GPU backend then runs those layers on the CPU), free GPU
memory read from a stand-in `nvidia-smi` on PATH, and that with this build nothing is offloaded whatever is
asked."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import ollama
import pytest

from core.embedded.gpu import ALL_LAYERS, RESERVE_BYTES, gpu_layers, offloaded_share
from core.embedded.server import EmbeddedServer

MIB = 1024**2
FULL = 0x7FFFFFFF  # what llama-cpp-python puts in model_params for n_gpu_layers=-1


def test_the_layer_count_follows_num_gpu_or_the_free_memory():
    common = {"layers": 32, "model_bytes": 33 * 100 * MIB, "kv_bytes": 0, "measure": False}
    assert gpu_layers(7, offload=False, **common) == 0  # a CPU-only llama.cpp: nothing, whatever is asked
    assert gpu_layers(None, offload=False, free_bytes=80_000 * MIB, **common) == 0
    assert gpu_layers(7, offload=True, **common) == 7
    assert gpu_layers(0, offload=True, **common) == 0  # num_gpu 0: the CPU only, as in Ollama
    assert gpu_layers(999, offload=True, **common) == 33  # the blocks and the output layer
    assert gpu_layers(None, offload=True, **common) == ALL_LAYERS  # free memory unknown: all of them
    assert gpu_layers(None, offload=True, free_bytes=RESERVE_BYTES + 1000 * MIB, **common) == 10
    assert gpu_layers(None, offload=True, free_bytes=RESERVE_BYTES + 50 * MIB, **common) == 0
    assert gpu_layers(None, offload=True, free_bytes=80_000 * MIB, **common) == ALL_LAYERS
    assert offloaded_share(0, 32) == 0.0 and offloaded_share(-1, 32) == 1.0
    assert offloaded_share(11, 32) == pytest.approx(1 / 3)


def _nvidia_smi(folder: Path, total_mib: int, used_mib: int) -> None:
    tool = folder / "nvidia-smi"
    tool.write_text(f'#!/bin/sh\nprintf "Stand-in GPU, {total_mib}, {used_mib}\\n"\n')
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def offloading(tmp_path: Path) -> Iterator[tuple[str, object]]:
    from core.embedded.llama_engine import LlamaEngine

    engine = LlamaEngine(tmp_path / "home", ollama_models=False, gpu_offload=True)
    server = EmbeddedServer(engine)
    url = server.start()
    try:
        yield url, engine
    finally:
        server.stop()


def _loaded(url: str, engine, options: dict) -> tuple[int, int, int]:
    """Load smollm2 with `options`; returns (n_gpu_layers given to llama.cpp, size, size_vram of /api/ps)."""
    client = ollama.Client(host=url)
    client.generate("smollm2:135m", "Hi", raw=True, options={"num_predict": 1, **options})
    slot = engine._slots["smollm2:135m"]
    running = {m.model: m for m in client.ps().models}["smollm2:135m"]
    return slot.llama.model_params.n_gpu_layers, running.size, running.size_vram


@pytest.mark.model
def test_num_gpu_reaches_llama_cpp_and_ps_says_what_is_on_the_gpu(offloading, tmp_path, monkeypatch):
    url, engine = offloading
    layers, size, vram = _loaded(url, engine, {"num_gpu": 3})
    assert layers == 3 and vram == int(size * 3 / 31)  # SmolLM2-135M: 30 blocks and the output layer
    layers, size, vram = _loaded(url, engine, {"num_gpu": 0})
    assert layers == 0 and vram == 0
    layers, size, vram = _loaded(url, engine, {})  # no nvidia-smi here: free memory unknown, all layers
    assert layers == FULL and vram == size
    # A GPU with about 60 MiB free beyond llama.cpp's reserve: only part of the model fits there.
    _nvidia_smi(tmp_path, 1000, 1000 - 512 - 60)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    layers, size, vram = _loaded(url, engine, {"num_ctx": 2048})
    assert 0 < layers < 31 and vram == int(size * layers / 31)


@pytest.mark.model
def test_with_this_cpu_only_llama_cpp_nothing_is_offloaded(tmp_path):
    from core.embedded.llama_engine import LlamaEngine
    from core.machine import llama_gpu_offload

    assert llama_gpu_offload() is False  # this machine's build; a CUDA/Metal/Vulkan build says True
    engine = LlamaEngine(tmp_path / "home", ollama_models=False)
    server = EmbeddedServer(engine)
    url = server.start()
    try:
        layers, _size, vram = _loaded(url, engine, {"num_gpu": 5})
    finally:
        server.stop()
    assert engine.gpu_offload is False and layers == 0 and vram == 0
