"""Model management over the real embedded server (scripted engine), machine resources, fit and fallback."""

from __future__ import annotations

import threading

import pytest

from core.embedded.scripted import ErrorBefore, scripted_model
from core.errors import CapabilityMissing, ModelNotFound, ServerError
from core.machine import GIB, FitVerdict, GpuInfo, MachineResources, fits, machine_resources, parse_nvidia_smi
from core.model_records import ModelInfo, PullProgress
from core.models import ModelManager, with_fallback
from core.ollama_client import ContentChunk, OllamaClient

USER = [{"role": "user", "content": "hi"}]
OOM = "model requires more system memory (9.1 GiB) than is available (2.0 GiB)"


@pytest.fixture
def client(scripted_server):
    with OllamaClient(scripted_server.url, connect_timeout=2, first_token_timeout=10, stall_timeout=10) as c:
        yield c


def test_list_gives_size_family_parameters_quantization_and_capabilities(client, scripted_server):
    scripted_server.engine.set_models(
        scripted_model(
            "llama3.2:3b",
            family="llama",
            parameter_size="3.2B",
            size=2_019_393_189,
            capabilities=("completion", "tools"),
            context_length=131072,
        ),
        scripted_model("tiny", size=10),
    )
    models = ModelManager(client).list()
    assert [m.name for m in models] == ["llama3.2:3b", "tiny:latest"]
    first = models[0]
    assert first.size == 2_019_393_189 and first.family == "llama" and first.parameter_size == "3.2B"
    assert first.quantization == "Q4_0" and first.capabilities == ["completion", "tools"]
    assert len(first.digest) == 64 and first.modified_at is not None and first.modified_at.year == 2026


def test_show_gives_capabilities_context_length_and_template(client):
    details = ModelManager(client).show("thinker")
    assert details.name == "thinker"
    assert details.capabilities == ["completion", "thinking"]
    assert details.context_length == 4096 and details.template == "{{ .Prompt }}"
    assert details.modelfile.startswith("# Modelfile generated") and "stop" in details.parameters
    assert details.model_info["general.architecture"] == "scripted"
    with pytest.raises(ModelNotFound) as caught:
        ModelManager(client).show("nope")
    assert caught.value.model == "nope"


def test_running_models_and_unload(client, scripted_server):
    manager = ModelManager(client)
    assert manager.running() == []
    client.chat("smollm2:135m", USER)
    running = manager.running()
    assert [r.name for r in running] == ["smollm2:135m"]
    assert running[0].size == 1_000_000 and running[0].context_length == 4096
    assert running[0].expires_at is not None
    manager.unload("smollm2:135m")
    assert manager.running() == []
    assert scripted_server.engine.bodies("/api/chat")[-1]["keep_alive"] == 0
    with pytest.raises(ModelNotFound):
        manager.unload("nope")


def test_version(client):
    assert ModelManager(client).version().split(".")[0].isdigit()


def test_pull_on_a_server_that_cannot_say_what_to_do(client, scripted_server):
    """An embedded server that cannot pull (llama.cpp): its 501 arrives as a ServerError with its explanation."""
    scripted_server.engine.can_pull = False
    seen: list[PullProgress] = []
    with pytest.raises(ServerError) as caught:
        ModelManager(client).pull("llama3.2", seen.append)
    assert caught.value.status == 501 and "cannot pull models" in caught.value.detail and seen == []
    assert scripted_server.engine.bodies("/api/pull") == [
        {"model": "llama3.2", "insecure": False, "stream": True}
    ]
    _ = client.chat("smollm2:135m", USER)  # the client still works afterwards


def test_pull_with_cancel_already_set_stops_quietly(client):
    cancel = threading.Event()
    cancel.set()
    seen: list[PullProgress] = []
    ModelManager(client).pull("llama3.2", seen.append, cancel)
    assert seen == []


def test_pull_progress_fraction():
    assert PullProgress("pulling 6a0746a1ec1a", "sha256:x", 50, 200).fraction == 0.25
    assert PullProgress("pulling manifest").fraction is None
    assert PullProgress("pulling x", "d", 300, 200).fraction == 1.0


def test_machine_resources_reads_this_machine(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no nvidia-smi on PATH
    res = machine_resources()
    assert res.ram_total > res.ram_available > 0
    assert res.cpu_count >= 1 and res.cpu_name
    assert res.gpus == []


def test_parse_nvidia_smi_csv_in_mib():
    text = "NVIDIA GeForce RTX 4090, 24564, 1023\nTesla T4, 15360, 0\n\nbad line\n"
    assert parse_nvidia_smi(text) == [
        GpuInfo("NVIDIA GeForce RTX 4090", 24564 * 1024**2, 1023 * 1024**2),
        GpuInfo("Tesla T4", 15360 * 1024**2, 0),
    ]


def _model(size: int) -> ModelInfo:
    return ModelInfo("m", size, "d", None, "llama", "3B", "Q4_K_M")


@pytest.mark.parametrize(
    ("size", "ram_free", "ram_total", "gpu_free", "expected"),
    [
        (2 * GIB, 16 * GIB, 32 * GIB, 8 * GIB, (True, "gpu")),
        (2 * GIB, 16 * GIB, 32 * GIB, 1 * GIB, (True, "cpu")),
        (2 * GIB, 16 * GIB, 32 * GIB, None, (True, "cpu")),
        (20 * GIB, 8 * GIB, 32 * GIB, None, (False, "none")),
        (40 * GIB, 8 * GIB, 32 * GIB, 24 * GIB, (False, "none")),
        (0, 1 * GIB, 2 * GIB, None, (True, "cpu")),
    ],
    ids=["gpu", "gpu-too-small", "cpu", "ram-busy", "too-big", "size-unknown"],
)
def test_fits_judges_gpu_ram_or_none(size, ram_free, ram_total, gpu_free, expected):
    gpus = [] if gpu_free is None else [GpuInfo("GPU", 24 * GIB, 24 * GIB - gpu_free)]
    res = MachineResources(ram_total, ram_free, 8, "cpu", gpus)
    verdict = fits(_model(size), res)
    assert isinstance(verdict, FitVerdict) and (verdict.fits, verdict.where) == expected
    assert verdict.reason


@pytest.mark.parametrize(
    ("size", "ram_free", "ram_total", "gpu_free", "label"),
    [
        (2 * GIB, 16 * GIB, 32 * GIB, 8 * GIB, "fits on GPU"),
        (2 * GIB, 16 * GIB, 32 * GIB, 1 * GIB, "fits in RAM"),  # a GPU, but too small: say it runs on CPU
        (2 * GIB, 16 * GIB, 32 * GIB, None, "fits"),
        (6 * GIB, 8 * GIB, 32 * GIB, None, "tight"),  # about 7.7 GiB of the 8 free
        (20 * GIB, 8 * GIB, 32 * GIB, None, "too large for the 8.0 GiB of RAM free"),
        (40 * GIB, 8 * GIB, 24 * GIB, 24 * GIB, "too large for 24 GiB RAM"),
        (0, 1 * GIB, 2 * GIB, None, "size unknown"),
    ],
)
def test_fits_labels_each_case_in_a_few_words(size, ram_free, ram_total, gpu_free, label):
    gpus = [] if gpu_free is None else [GpuInfo("GPU", 24 * GIB, 24 * GIB - gpu_free)]
    assert fits(_model(size), MachineResources(ram_total, ram_free, 8, "cpu", gpus)).label == label


def test_machine_summary_names_ram_cores_and_gpu_memory():
    bare = MachineResources(int(31.3 * GIB), int(20.4 * GIB), 8, "cpu")
    assert bare.summary() == "31 GiB RAM (20 GiB free) · 8 CPU cores · no GPU"
    gpu = MachineResources(16 * GIB, int(3.5 * GIB), 1, "cpu", [GpuInfo("RTX 4090", 24 * GIB, 1 * GIB)])
    assert gpu.summary() == "16 GiB RAM (3.5 GiB free) · 1 CPU core · RTX 4090 24 GiB (23 GiB free)"


def test_fits_reason_says_what_to_do_when_ram_is_busy():
    verdict = fits(_model(20 * GIB), MachineResources(32 * GIB, 8 * GIB, 8, "cpu", []))
    assert "close other programs" in verdict.reason and "GiB" in verdict.reason


def _starter(client: OllamaClient):
    return lambda name: client.chat_stream(name, USER)


def test_fallback_skips_a_missing_model_and_tells_the_user(client):
    model, stream, notes = with_fallback(client, ["nope", "smollm2:135m"], _starter(client))
    assert model == "smollm2:135m"
    assert "".join(c.text for c in stream if isinstance(c, ContentChunk)) == "Hello from the scripted engine."
    assert any("'nope' is not installed" in n and "'smollm2:135m'" in n for n in notes)
    assert any("fallback model 'smollm2:135m'" in n for n in notes)


def test_fallback_on_out_of_memory(client, scripted_server):
    scripted_server.engine.enqueue([ErrorBefore(500, OOM)], ["small enough"])
    model, stream, notes = with_fallback(client, ["gemma3:270m", "smollm2:135m"], _starter(client))
    assert model == "smollm2:135m" and list(stream)[0] == ContentChunk("small enough")
    assert "'gemma3:270m' does not fit in memory" in notes[0]


def test_no_fallback_needed_gives_no_notes(client):
    model, stream, notes = with_fallback(client, ["smollm2:135m", "gemma3:270m"], _starter(client))
    assert model == "smollm2:135m" and notes == []
    stream.close()


def test_fallback_does_not_hide_other_errors(client, scripted_server):
    scripted_server.engine.enqueue([ErrorBefore(500, "the runner crashed")])
    with pytest.raises(ServerError, match="the runner crashed"):
        with_fallback(client, ["smollm2:135m", "gemma3:270m"], _starter(client))
    with pytest.raises(CapabilityMissing):
        with_fallback(client, ["smollm2:135m"], lambda n: client.chat_stream(n, USER, think=True))


def test_when_no_model_loads_the_first_error_is_raised(client):
    with pytest.raises(ModelNotFound) as caught:
        with_fallback(client, ["nope", "neither"], _starter(client))
    assert caught.value.model == "nope"
