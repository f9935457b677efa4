"""The model panel offers models sized for this machine, each with its fit verdict (and whether the GPU is used),
named for the backend, and pulls one in a click: on the embedded backend from Hugging Face (the stand-in),
with the progress bar, after which the model is in the picker and its row says Installed. A real window."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.hf_hub import HubFile, HubRepo
from tests.ui.app_harness import AppDriver, app_driver_fixture, keep_window_size, make_app, start, stop  # noqa: F401

pytestmark = pytest.mark.ui


def _rows(info):
    from ui.info_panel import RecommendedRow

    return [w for w in reversed(info.ids.recommended_box.children) if isinstance(w, RecommendedRow)]


def _show_list(d) -> None:
    """Scroll the panel so the suggestions (and the pull bar above them) are in view."""
    box = d.ids.info.ids.recommended_box
    scroller = box.parent
    while not hasattr(scroller, "scroll_to"):
        scroller = scroller.parent
    scroller.scroll_to(box, padding=10, animate=False)
    d.h.settle(4)


def _button(row):
    return next(w for w in row.walk() if getattr(w, "text", "") in ("Pull", "Installed"))


def test_the_panel_offers_ollama_models_for_an_8_gb_gpu_with_their_fit(app_driver, tmp_path, monkeypatch):
    d = app_driver
    d.ready()
    tools = tmp_path / "bin"
    tools.mkdir()
    smi = tools / "nvidia-smi"  # a stand-in: these machines have no NVIDIA GPU
    smi.write_text('#!/bin/sh\nprintf "NVIDIA GeForce RTX 4060, 8188, 300\\n"\n')
    smi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}{os.environ['PATH']}")
    info = d.ids.info
    d.press(info.ids.refresh_btn)
    d.wait(lambda: "a GPU with 8 GB" in info.recommended_note, "the suggestions for an 8 GB GPU")
    rows = d.wait(lambda: _rows(info) if len(_rows(info)) == 5 else None, "five suggestions")
    assert [r.name for r in rows] == [
        "qwen3:8b",
        "llama3.1:8b",
        "qwen2.5-coder:7b",
        "gemma3:4b",
        "mistral:7b",
    ]
    assert info.recommended_note == "For a GPU with 8 GB, from Ollama's library: pull one in a click."
    assert rows[0].detail == "5.2 GB  ·  8B  ·  fits on GPU" and rows[0].fit_state == "fits"
    assert all(_button(r).text == "Pull" and _button(r).primary for r in rows)
    _show_list(d)
    d.shot("app_recommended_gpu")
    # A click pulls it from Ollama's library (the scripted server's registry), then the row says Installed.
    from core.embedded.scripted import scripted_model

    d.server.engine.registry.append(scripted_model("qwen3:8b", size=5_200_000_000))
    d.press(_button(rows[0]))
    d.wait(lambda: "qwen3:8b" in info.model_names, "the pulled model in the picker")
    assert d.server.engine.bodies("/api/pull")[-1]["model"] == "qwen3:8b"
    d.wait(lambda: _rows(info) and _rows(info)[0].installed, "the row to say Installed")


@pytest.fixture
def embedded_app(kivy_harness, ia_home: Path, tmp_path: Path, monkeypatch) -> Iterator[AppDriver]:
    """The app on IA_V3's real embedded server (llama.cpp), started here at OLLAMA_HOST."""
    pytest.importorskip("llama_cpp")
    from core.embedded.llama_engine import LlamaEngine
    from core.embedded.server import EmbeddedServer

    server = EmbeddedServer(LlamaEngine(tmp_path / "server_home", ollama_models=False))
    monkeypatch.setenv("OLLAMA_HOST", server.start())
    keep_window_size(ia_home, kivy_harness)
    app = make_app()
    start(app, kivy_harness)
    try:
        yield AppDriver(app=app, h=kivy_harness, home=ia_home)
    finally:
        stop(app, kivy_harness)
        server.stop()


@pytest.mark.model
def test_a_suggested_hugging_face_model_is_pulled_in_a_click(embedded_app, hf_hub):
    from core.embedded.catalog import smollm2_path
    from core.embedded.hf_pull import parse_hf_name
    from core.machine import machine_resources
    from core.recommended import recommend

    d = embedded_app
    d.ready()
    _tier, expected = recommend(machine_resources(), backend="embedded", gpu_usable=False)
    first = parse_hf_name(expected[0].name)
    # The stand-in hosts that repository; its Q4_K_M file is a real (tiny) GGUF so the model can be listed.
    hf_hub.add(
        HubRepo(
            first.repo_id, [HubFile(f"{first.repo}-Q4_K_M.gguf".replace("-GGUF", ""), source=smollm2_path())]
        )
    )
    hf_hub.pace = 0.004  # slow enough to watch the bar
    info = d.ids.info
    rows = d.wait(lambda: _rows(info) if len(_rows(info)) == 5 else None, "five suggestions")
    assert [r.name for r in rows] == [e.name for e in expected]
    assert (
        all(r.name.startswith("hf.co/") for r in rows) and "from Hugging Face GGUFs" in info.recommended_note
    )
    assert rows[0].detail.endswith("on the CPU")  # this llama.cpp has no GPU support: said in the verdict
    d.press(_button(rows[0]))
    d.wait(lambda: info.pulling and 0.1 < info.pull_fraction < 0.9, "the bar part-way", timeout=60)
    assert all(r.busy and not _button(r).primary for r in _rows(info))  # one pull at a time
    d.press(_button(_rows(info)[1]))  # a click meanwhile starts nothing
    assert info.pull_status.startswith(f"{first.display}: ")
    assert info.pull_status.startswith(f"{first.display}: pulling ") and " of 98.4 MB (" in info.pull_status
    _show_list(d)
    d.shot("app_recommended_pull")
    d.wait(lambda: not info.pulling, "the pull to end", timeout=120)
    assert info.pull_status == f"{first.display} is ready."
    d.wait(lambda: first.display in info.model_names, "the pulled model in the picker", timeout=60)
    row = d.wait(
        lambda: next((r for r in _rows(info) if r.name == first.display and r.installed), None), "Installed"
    )
    assert _button(row).text == "Installed" and not _button(row).primary
    d.press(_button(row))  # an installed model is not pulled again
    assert len(hf_hub.seen("hub", "GET", "/revision/main")) == 1
    assert hf_hub.seen("hub", "GET", f"/api/models/{first.repo_id}/revision/main")
