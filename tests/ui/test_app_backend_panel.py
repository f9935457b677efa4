"""The backend panel switches server while the app runs: to an OpenAI-compatible server (llama-cpp-python's
own, on the bundled SmolLM2) and back to an Ollama-protocol one, chatting on each; the choice is remembered
after a restart; a wrong or silent address keeps the current server."""

from __future__ import annotations

import socket
import tomllib
from pathlib import Path

import pytest

from core.embedded.scripted import Script
from tests.ui.app_harness import AppDriver, keep_window_size, make_app, start, stop

pytestmark = pytest.mark.ui

OPTIONS = "[options]\nnum_predict = 24\ntemperature = 0.0\n"


def _choose_host(d: AppDriver, text: str) -> None:
    """Click the host box, replace what is there by ``text`` as typed on a keyboard, press Connect."""
    box = d.ids.info.ids.host_input
    d.press(box)
    d.wait(lambda: box.focus, "the host box to take the keyboard")
    box.select_all()
    d.h.key("backspace")
    d.h.type_text(text)
    assert box.text == text
    d.press(d.ids.info.ids.connect_btn)


def _in_panel(widget) -> bool:
    return widget.get_root_window() is not None


def _saved_ui(home: Path) -> dict:
    return tomllib.loads((home / "config.toml").read_text(encoding="utf-8")).get("ui", {})


@pytest.fixture
def panel_app(kivy_harness, scripted_server, ia_home, monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", scripted_server.url)
    keep_window_size(ia_home, kivy_harness, OPTIONS)
    app = make_app()
    start(app, kivy_harness)
    driver = AppDriver(app=app, h=kivy_harness, home=ia_home)
    driver.server = scripted_server  # type: ignore[attr-defined]
    try:
        yield driver
    finally:
        stop(app, kivy_harness)


@pytest.mark.model
def test_switch_to_an_openai_server_chat_switch_back_and_it_is_remembered(
    panel_app, llama_openai_server, kivy_harness, ia_home
):
    d = panel_app
    info = d.ids.info
    d.ready()
    d.press(info.ids.dev_switch)  # DEV mode: the panel shows the last reply's figures
    assert d.app.controller.backend.kind == "ollama" and _in_panel(info.ids.pull_input)
    assert info.host_text == "" and info.host_hint == f"default: {d.server.url}"
    d.shot("app_backend_panel_ollama")

    # -- to llama-cpp-python's OpenAI server ------------------------------------------------------------
    _choose_host(d, llama_openai_server.url)
    d.wait(lambda: d.app.controller.backend.kind == "openai" and info.backend_kind == "openai", "the switch")
    d.wait(lambda: d.app.model == llama_openai_server.model, "the server's model to be picked")
    assert info.note == f"Using the OpenAI-compatible server at {llama_openai_server.url}."
    assert info.model_names == [llama_openai_server.model] and not d.ids.banner.shown
    # the server gives no size, and its model is loaded already: no "0 B", no fit verdict for this machine
    assert (
        info.model_values == [llama_openai_server.model] and info.ids.picker.text == llama_openai_server.model
    )
    assert info.fit_text == "" and info.machine_text == ""
    no_details = "The OpenAI API does not describe its models: no details to show."
    d.wait(lambda: info.details == no_details, "the model details")
    assert d.app.status_text == f"OpenAI API  ·  {llama_openai_server.model}"
    assert not _in_panel(info.ids.pull_input) and not _in_panel(info.ids.running_box)  # no such calls
    assert "cannot pull, delete or unload" in info.models_note and not _in_panel(info.ids.delete_model_btn)
    assert info.ids.opt_num_ctx.disabled and info.ids.opt_num_ctx.hint_text == "server's"
    assert _saved_ui(ia_home)["host"] == llama_openai_server.url

    d.type_and_send("hi")
    d.wait_reply_end(60)
    reply = d.last_message()
    assert reply.status == "complete" and reply.content.strip() and reply.model == llama_openai_server.model
    assert d.app.conv.model == llama_openai_server.model
    assert "[b]First token[/b]" in info.dev_stats and "not reported" in info.dev_stats
    d.shot("app_backend_panel_openai")
    scroll = info.ids.server_models_label.parent
    while not hasattr(scroll, "scroll_to"):
        scroll = scroll.parent
    scroll.scroll_to(info.ids.server_models_label, padding=120, animate=False)
    d.shot("app_backend_panel_openai_models")  # the note instead of pull, delete and the loaded models

    # -- back to the Ollama-protocol server -------------------------------------------------------------
    _choose_host(d, d.server.url)
    d.wait(lambda: d.app.controller.backend.kind == "ollama", "the switch back")
    d.wait(lambda: "smollm2:135m" in info.model_names and d.app.model, "the Ollama model list")
    d.wait(
        lambda: _in_panel(info.ids.pull_input) and _in_panel(info.ids.running_box), "pull back in the panel"
    )
    assert (
        info.models_note == "" and info.ids.delete_model_btn.width > 0 and not info.ids.opt_num_ctx.disabled
    )
    d.app.new_chat()
    d.server.engine.enqueue(Script(["Back on Ollama."]))
    d.type_and_send("and now?")
    d.wait_reply_end()
    d.wait(lambda: d.last_message().content == "Back on Ollama.", "the reply from the Ollama server")
    assert _saved_ui(ia_home)["host"] == d.server.url

    # -- chosen again, then the app restarts: the choice holds over OLLAMA_HOST -------------------------
    _choose_host(d, llama_openai_server.url)
    d.wait(lambda: d.app.controller.backend.kind == "openai" and d.app.model, "the OpenAI server again")
    d.h.key("n", ["ctrl"])  # a new chat: the next start opens no conversation of the Ollama server's model
    d.wait(lambda: d.app.conv is None, "the new chat")
    stop(d.app, kivy_harness)
    again = make_app()
    start(again, kivy_harness)
    try:
        d2 = AppDriver(app=again, h=kivy_harness, home=ia_home)
        d2.wait(lambda: again.backend_status == "ready" and again.controller.backend is not None, "connected")
        assert again.controller.backend.kind == "openai"
        assert again.controller.backend.host == llama_openai_server.url
        d2.wait(lambda: again.model == llama_openai_server.model, "its model")
        assert d2.ids.info.host_text == llama_openai_server.url
        d2.shot("app_backend_panel_remembered")
    finally:
        stop(again, kivy_harness)
    d.app = make_app()  # the fixture stops the app it holds: give it one that is running
    start(d.app, kivy_harness)


def test_a_wrong_address_or_a_silent_server_keeps_the_current_one(panel_app, ia_home):
    d = panel_app
    info = d.ids.info
    d.ready()
    before = d.app.controller.backend
    _choose_host(d, "http://[bad")
    d.wait(lambda: info.host_error, "the address to be refused")
    assert "is not a server address" in info.host_error and d.app.controller.backend is before

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _choose_host(d, f"http://127.0.0.1:{port}/v1")
    d.wait(lambda: not info.switching and info.host_error, "the silent server to be reported", timeout=30)
    assert info.host_error == (
        f"Nothing answers at http://127.0.0.1:{port}/v1: start the server there, or check the address. "
        f"Still using {d.server.url}."
    )
    assert d.app.controller.backend is before and d.app.backend_status == "ready"
    assert "host" not in _saved_ui(ia_home)
    d.shot("app_backend_panel_unreachable")
    d.server.engine.enqueue(Script(["Still here."]))
    d.press(d.app.input_bar.ids.input)  # back to the message box
    d.type_and_send("still there?")
    d.wait_reply_end()
    assert d.last_message().content == "Still here."


def test_an_empty_box_goes_back_to_the_default_server(panel_app, openai_stand_in, ia_home):
    d = panel_app
    info = d.ids.info
    d.ready()
    _choose_host(d, openai_stand_in.url)
    d.wait(lambda: d.app.controller.backend.kind == "openai", "the stand-in")
    d.wait(lambda: d.app.model == "stand-in-model", "its model")
    assert _saved_ui(ia_home)["host"] == openai_stand_in.url
    _choose_host(d, "")
    d.wait(lambda: d.app.controller.backend.kind == "ollama", "the default server")
    assert d.app.controller.backend.host == d.server.url and info.host_text == ""
    assert "host" not in _saved_ui(ia_home)
