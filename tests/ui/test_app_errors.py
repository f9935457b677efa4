"""Errors appear as a banner that says what to do; the app keeps working and nothing typed is lost."""

from __future__ import annotations

import pytest

from core.embedded.engine import ErrorLine
from core.embedded.scripted import Delay, Script
from core.embedded.server import EmbeddedServer
from tests.ui.app_harness import app_driver_fixture, keep_window_size, make_app, start, stop  # noqa: F401

pytestmark = pytest.mark.ui


def test_server_going_away_shows_banner_and_recovers_when_it_returns(app_driver):
    d = app_driver
    d.ready()
    port = int(d.server.url.rsplit(":", 1)[1])
    d.server.server.stop()
    d.wait(lambda: d.ids.banner.shown and d.app.backend_status == "offline", "the offline banner")
    assert "Cannot reach" in d.ids.banner.message and d.ids.banner.action_id == "reconnect"
    assert "Cannot reach Ollama" in d.ids.banner.message
    # Typing and sending while the server is away: the banner explains, the text stays in the box.
    d.type_and_send("are you there?")
    d.wait(lambda: not d.app.streaming, "the failed turn to end")
    d.wait(lambda: d.ids.banner.shown, "the banner")
    d.shot("app_error_banner")
    typed_kept = d.app.input_bar.ids.input.text == "are you there?"
    saved = d.app.conv is not None and any(m.content == "are you there?" for m in d.app.conv.messages)
    assert typed_kept or saved, "the message is either still in the box or saved in the conversation"
    # The server comes back on the same port: the health check notices, the banner goes.
    again = EmbeddedServer(d.server.engine, port=port)
    again.start()
    try:
        d.wait(lambda: d.app.backend_status == "ready" and not d.ids.banner.shown, "recovery", timeout=20)
        d.app.input_bar.ids.input.text = ""
        d.server.engine.enqueue(Script(["Back again."]))
        d.type_and_send("hello again")
        d.wait_reply_end()
        d.wait(lambda: d.last_message().content == "Back again.", "a reply after recovery")
    finally:
        again.stop()


def test_reconnect_button_reconnects(app_driver):
    d = app_driver
    d.ready()
    before = d.app.controller.backend
    d.press(d.ids.info.ids.reconnect_btn)
    d.wait(lambda: d.app.controller.backend not in (None, before), "a new connection")
    d.wait(lambda: d.app.backend_status == "ready", "ready again")
    assert d.ids.info.status == "ready" and "Using Ollama" in d.ids.info.note


def test_broken_stream_keeps_partial_text_and_offers_regenerate(app_driver):
    d = app_driver
    d.ready()
    d.server.engine.enqueue(Script(["Half of", " the answer", Delay(0.05), ErrorLine("model crashed")]))
    d.type_and_send("explain")
    d.wait_reply_end()
    d.wait(lambda: d.ids.banner.shown, "the banner")
    assert "cut off" in d.ids.banner.message and "model crashed" in d.ids.banner.message
    assert d.ids.banner.action_id == "regenerate"
    assert d.last_message().content.startswith("Half of the answer")
    assert d.last_message().status in ("interrupted", "error")
    d.server.engine.enqueue(Script(["Whole answer."]))
    d.h.click(d.ids.banner.ids.action_btn)
    d.wait(
        lambda: d.last_message().content == "Whole answer." and not d.app.streaming, "the regenerated reply"
    )
    assert not d.ids.banner.shown


def test_missing_model_banner_offers_pull(kivy_harness, scripted_server, ia_home, monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", scripted_server.url)
    monkeypatch.setenv("IA_MODEL", "nope:1b")
    keep_window_size(ia_home, kivy_harness)
    app = make_app()
    start(app, kivy_harness)
    try:
        banner = app.root.ids.banner
        kivy_harness.wait_until(lambda: banner.shown and "nope:1b" in banner.message, message="the banner")
        assert "not installed" in banner.message and banner.action_id == "pull"
        kivy_harness.click(banner.ids.action_btn)
        info = app.root.ids.info
        kivy_harness.wait_until(
            lambda: not info.pulling and "pull" in info.pull_status.lower(), message="pull"
        )
        assert info.ids.pull_input.text == "nope:1b"
    finally:
        stop(app, kivy_harness)


def test_disk_problem_is_reported_and_typed_text_kept(app_driver):
    d = app_driver
    d.ready()
    (d.home / "sav").rmdir() if (d.home / "sav").is_dir() else None
    (d.home / "sav").write_text("not a folder", encoding="utf-8")  # every write under sav/ now fails
    d.type_and_send("this must not be lost")
    d.wait(lambda: d.ids.banner.shown, "the banner")
    assert "Cannot write" in d.ids.banner.message
    assert d.app.input_bar.ids.input.text == "this must not be lost"
    assert not d.app.streaming
