"""Fit of each installed model on this machine, and GPUs read from a real `nvidia-smi` process when one is on
PATH (a stand-in executable here: these machines have no NVIDIA GPU)."""

from __future__ import annotations

import os
import stat

import pytest

from core.embedded.scripted import scripted_model
from core.machine import GIB, GpuInfo, MachineResources, machine_resources
from core.models import ModelManager
from core.ollama_client import OllamaClient

QUERY = "--query-gpu=name,memory.total,memory.used --format=csv,noheader,nounits"


def _tool(folder, name: str, script: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_gpus_come_from_nvidia_smi_when_it_is_installed(monkeypatch, tmp_path):
    _tool(
        tmp_path,
        "nvidia-smi",
        f'[ "$*" = "{QUERY}" ] || {{ echo "unexpected arguments: $*" >&2; exit 2; }}\n'
        'printf "NVIDIA GeForce RTX 4090, 24564, 1023\\nTesla T4, 15360, 0\\n"\n',
    )
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    res = machine_resources()
    assert res.gpus == [
        GpuInfo("NVIDIA GeForce RTX 4090", 24564 * 1024**2, 1023 * 1024**2),
        GpuInfo("Tesla T4", 15360 * 1024**2, 0),
    ]
    assert res.gpus[0].memory_free == (24564 - 1023) * 1024**2
    assert res.ram_total > 0 and res.cpu_count >= 1


def test_a_broken_nvidia_smi_means_no_gpu(monkeypatch, tmp_path):
    _tool(
        tmp_path,
        "nvidia-smi",
        'echo "NVIDIA-SMI has failed because it couldn\'t communicate with the NVIDIA driver." >&2\nexit 9\n',
    )
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    assert machine_resources().gpus == []


@pytest.fixture
def manager(scripted_server):
    scripted_server.engine.set_models(
        scripted_model("big:70b", size=40 * GIB),
        scripted_model("mid:8b", size=5 * GIB),
        scripted_model("tiny:1m", size=1_000_000),
    )
    with OllamaClient(scripted_server.url, connect_timeout=2) as client:
        yield ModelManager(client)


def test_each_installed_model_is_judged_against_the_machine(manager):
    res = MachineResources(16 * GIB, 12 * GIB, 8, "cpu", [GpuInfo("GPU", 8 * GIB, 1 * GIB)])
    verdicts = {model.name: verdict for model, verdict in manager.fit(res)}
    assert list(verdicts) == ["big:70b", "mid:8b", "tiny:1m"]
    assert (verdicts["big:70b"].fits, verdicts["big:70b"].where) == (False, "none")
    assert "more than this machine's 16.0 GiB of RAM" in verdicts["big:70b"].reason
    assert (verdicts["mid:8b"].fits, verdicts["mid:8b"].where) == (True, "gpu")  # 7 GiB free on the GPU
    assert (verdicts["tiny:1m"].fits, verdicts["tiny:1m"].where) == (True, "gpu")
    without_gpu = {m.name: v.where for m, v in manager.fit(MachineResources(16 * GIB, 12 * GIB, 8, "cpu"))}
    assert without_gpu == {"big:70b": "none", "mid:8b": "cpu", "tiny:1m": "cpu"}


def test_fit_measures_this_machine_when_not_told(manager):
    verdicts = {model.name: verdict for model, verdict in manager.fit()}
    assert verdicts["tiny:1m"].fits  # 1 MB fits any machine that runs the tests
    assert all(v.reason for v in verdicts.values())


def test_fit_judges_from_the_listing_without_a_request_per_model(manager, scripted_server):
    """fit() judges from the sizes /api/tags lists: three models judged, no /api/show asked."""
    assert [v.label for _m, v in manager.fit(MachineResources(16 * GIB, 12 * GIB, 8, "cpu"))] == [
        "too large for 16 GiB RAM",
        "fits",
        "fits",
    ]
    assert scripted_server.engine.bodies("/api/show") == []


GPU8 = GpuInfo("GeForce RTX 4060", 8 * GIB, 1 * GIB)


def _machine(*gpus: GpuInfo) -> MachineResources:
    return MachineResources(32 * GIB, 24 * GIB, 8, "cpu", list(gpus))


def test_the_verdict_says_whether_the_gpu_is_used_and_why_not():
    from core.machine import fits
    from core.model_records import ModelInfo

    model = ModelInfo("qwen3:4b", 2_500_000_000, "d" * 64, None, "qwen3", "4B", "Q4_K_M")
    on_gpu = fits(model, _machine(GPU8))
    assert (on_gpu.where, on_gpu.label, on_gpu.gpu) == ("gpu", "fits on GPU", "on the GPU (GeForce RTX 4060)")
    no_offload = fits(model, _machine(GPU8), gpu_usable=False)
    assert (no_offload.where, no_offload.label) == ("cpu", "fits in RAM")
    assert no_offload.gpu == (
        "on the CPU: the embedded backend's llama.cpp has no GPU support, so GeForce RTX 4060 is not used"
    )
    assert fits(model, _machine()).gpu == "on the CPU: no GPU found"
    small = GpuInfo("GT 1030", 2 * GIB, 1 * GIB)
    assert fits(model, _machine(small)).gpu == "on the CPU: GT 1030 has too little free memory (1.0 GiB)"


def test_fit_on_the_embedded_backend_uses_the_gpu_only_when_its_llama_cpp_can(
    monkeypatch, tmp_path, scripted_server, scripted_embedded_server
):
    from core.machine import llama_gpu_offload

    _tool(tmp_path, "nvidia-smi", 'printf "GeForce RTX 4060, 8188, 512\\n"\n')
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    res = machine_resources()
    ollama_side = ModelManager(OllamaClient(scripted_server.url))
    ollama_side.client.identify()
    assert {v.where for _m, v in ollama_side.fit(res)} == {"gpu"}  # Ollama uses the GPU
    embedded = ModelManager(OllamaClient(scripted_embedded_server.url))
    embedded.client.identify()
    judged = embedded.fit(res)
    assert embedded.gpu_usable() is llama_gpu_offload() is False  # this machine's CPU-only build
    assert {v.where for _m, v in judged} == {"cpu"}
    assert all("has no GPU support" in v.gpu for _m, v in judged)
