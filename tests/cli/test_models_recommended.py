"""/models offers a short list of models sized for this machine, each with its fit verdict and where it would run,
named for the backend (Ollama's library on Ollama, hf.co/… on the embedded backend); /pull of an hf.co name on
the embedded backend downloads it from Hugging Face (the stand-in) with progress, /models lists it, /rm deletes
it. The CLI runs in a pseudo-terminal, as a person uses it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.embedded.scripted import scripted_model
from core.embedded.server import EmbeddedServer
from tests.cli.conftest import Terminal, cli_env
from tests.fixtures.hf_hub import HubFile, HubRepo

MODEL = "smollm2:135m"


def _nvidia_smi(folder: Path, line: str) -> str:
    folder.mkdir(exist_ok=True)
    tool = folder / "nvidia-smi"  # a stand-in: these machines have no NVIDIA GPU
    tool.write_text(f'#!/bin/sh\nprintf "{line}\\n"\n')
    tool.chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


def _rows(shown: str) -> dict[str, str]:
    """The table's body rows by their first cell (rich draws `│ cell │ cell │`)."""
    rows = {}
    for line in shown.splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if line.strip().startswith("│") and len(cells) > 2 and cells[0]:
            rows[cells[0]] = line
    return rows


def test_on_ollama_with_an_8_gb_gpu_the_list_names_ollama_models_that_run_on_the_gpu(
    terminal_factory, scripted_server, tmp_path: Path
) -> None:
    scripted_server.engine.set_models(
        scripted_model(MODEL), scripted_model("llama3.1:8b", size=4_900_000_000)
    )
    path = _nvidia_smi(tmp_path / "bin", "NVIDIA GeForce RTX 4060, 8188, 300")
    term = terminal_factory("-m", MODEL, "--plain", PATH=path)
    term.prompt()
    term.say("/models")
    term.expect("Recommended for a GPU with 8 GB, from Ollama's library: /pull NAME")
    shown = term.expect("ia>")
    rows = _rows(shown)
    assert list(rows) == ["qwen3:8b", "llama3.1:8b", "qwen2.5-coder:7b", "gemma3:4b", "mistral:7b"]
    assert "fits on GPU" in rows["qwen3:8b"] and "on the GPU (NVIDIA GeForce RTX 4060)" in rows["qwen3:8b"]
    assert "installed" in rows["llama3.1:8b"]
    assert term.leave() == 0


def test_on_the_embedded_backend_the_list_names_hugging_face_ggufs_judged_for_this_machine(
    terminal_factory, scripted_embedded_server, ia_home: Path
) -> None:
    term = Terminal(["-m", MODEL, "--plain"], cli_env(scripted_embedded_server.url, ia_home))
    try:
        term.prompt()
        term.say("/models")
        term.expect("This machine: ")
        shown = term.expect("ia>")
    finally:
        term.close()
    from core.machine import GIB, machine_resources

    tier = "a CPU with enough RAM" if machine_resources().ram_total >= 12 * GIB else "a small machine"
    assert f"Recommended for {tier}, from Hugging Face (GGUF, Q4_K_M): /pull NAME" in shown
    names = [name for name in _rows(shown) if name.startswith("hf.co/")]
    assert len(names) == 5 and all(n.startswith("hf.co/") and n.endswith(":Q4_K_M") for n in names), names
    assert "on the CPU" in shown  # this machine's llama.cpp has no GPU support: the CPU is named


@pytest.fixture
def real_server(tmp_path: Path) -> Iterator[str]:
    from core.embedded.llama_engine import LlamaEngine

    server = EmbeddedServer(LlamaEngine(tmp_path / "server_home", ollama_models=False))
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.mark.model
def test_pull_of_an_hf_name_downloads_it_then_models_lists_it_and_rm_deletes_it(
    real_server, hf_hub, ia_home: Path
) -> None:
    pytest.importorskip("llama_cpp")
    from core.embedded.catalog import smollm2_path

    hf_hub.add(HubRepo("someone/Smol-GGUF", [HubFile("Smol-Q4_K_M.gguf", source=smollm2_path())]))
    hf_hub.pace = 0.002  # a few seconds: the bar is drawn
    term = Terminal(["-m", MODEL], cli_env(real_server, ia_home))
    try:
        term.prompt()
        term.say("/pull hf.co/someone/Smol-GGUF")
        shown = term.expect("Pulled hf.co/someone/Smol-GGUF.", timeout=120)
        assert "pulling manifest" in shown and "98.4 MB  done" in shown and "verifying sha256 digest" in shown
        term.prompt()
        term.say("/models")
        rows = term.expect("Recommended for")
        assert "hf.co/someone/Smol-GGUF:latest" in rows
        term.prompt()
        term.say("/rm hf.co/someone/Smol-GGUF")
        term.expect("[y/N]")
        term.say("y")
        term.expect("Deleted hf.co/someone/Smol-GGUF.")
        term.prompt()
        term.say("/models")
        assert "hf.co/someone/Smol-GGUF" not in term.expect("Recommended for")
        assert term.leave() == 0
    finally:
        term.close()
