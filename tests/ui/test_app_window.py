"""Window-level conveniences on the real window under Xvfb: F11 fullscreen (real keys through xdotool) and the
collapsible conversation list, remembered in settings.ui."""

from __future__ import annotations

import os
import subprocess
import tomllib

import pytest

from tests.ui.app_harness import app_driver_fixture, keep_window_size, make_app, start, stop  # noqa: F401

pytestmark = pytest.mark.ui


def _focus_window(d) -> None:
    """Give the app's X window the keyboard, as a click on it would: xdotool key sends to the focused window."""
    wid = subprocess.run(
        ["xdotool", "search", "--pid", str(os.getpid())], capture_output=True, text=True, timeout=10
    ).stdout.split()
    assert wid, "the app's X window was not found by its process id"
    d.h.xdotool("windowfocus", "--sync", wid[-1])


def _scroll_to(widget) -> None:
    """Scroll the panel so that `widget` is in view (for the screenshot)."""
    from kivy.uix.scrollview import ScrollView

    parent = widget.parent
    while not isinstance(parent, ScrollView):
        parent = parent.parent
    parent.scroll_to(widget, padding=120, animate=False)


def _screen_size() -> tuple[int, int]:
    out = subprocess.run(["xdotool", "getdisplaygeometry"], capture_output=True, text=True, timeout=10).stdout
    w, h = out.split()
    return int(w), int(h)


def test_f11_toggles_fullscreen_and_the_input_keeps_working(app_driver, request):
    d = app_driver
    d.h.real_input()
    d.ready()
    windowed = tuple(d.h.window.size)

    def windowed_again() -> None:  # the window is shared by the session's tests: never leave it fullscreen
        if d.app.fullscreen:
            d.app.toggle_fullscreen()
        d.h.window.fullscreen = False
        d.h.window.size = windowed
        d.h.settle(10)

    request.addfinalizer(windowed_again)
    _focus_window(d)
    box = d.app.input_bar.ids.input
    d.wait(lambda: box.focus, "the message box to have the keyboard")
    d.h.xdotool("type", "--delay", "30", "abc")
    d.wait(lambda: box.text == "abc", "typed text in the message box")
    d.h.xdotool("key", "F11")
    screen = _screen_size()
    d.wait(lambda: d.app.fullscreen, "F11 to turn fullscreen on")
    d.wait(lambda: tuple(d.h.window.size) == screen, f"the window to fill the {screen} screen")
    d.wait(lambda: list(d.app.root.size) == list(screen), "the root to fill the screen")
    # SDL asks the window manager to make the X window fill the screen; the test's Xvfb has none, so the X
    # window keeps its size and the screenshot shows the layout at the screen's size clipped to it.
    shot = d.shot("app_fullscreen")
    from PIL import Image

    assert Image.open(shot).size == screen
    # Still typing into the chat: the message box kept the keyboard through the switch.
    d.wait(lambda: box.focus, "the message box to keep the keyboard")
    d.h.xdotool("type", "--delay", "30", "de")
    d.wait(lambda: box.text == "abcde", "typing to keep going into the message box")
    # Leaving fullscreen, the remembered size is the window's, not the screen's.
    d.app.remember()
    saved = tomllib.loads((d.home / "config.toml").read_text(encoding="utf-8"))["ui"]
    assert (saved["width"], saved["height"]) == windowed
    # Esc leaves fullscreen; the message box keeps the keyboard and its text (Esc never reaches it).
    d.h.xdotool("key", "Escape")
    d.wait(lambda: not d.app.fullscreen, "Esc to leave fullscreen")
    d.wait(lambda: tuple(d.h.window.size) == windowed, "the window to get its size back")
    d.h.xdotool("type", "--delay", "30", "f")
    d.wait(lambda: box.text == "abcdef" and box.focus, "typing to keep going after Esc")
    # F11 twice: on and off again.
    d.h.xdotool("key", "F11")
    d.wait(lambda: d.app.fullscreen, "F11 on again")
    d.h.xdotool("key", "F11")
    d.wait(lambda: not d.app.fullscreen and tuple(d.h.window.size) == windowed, "F11 off again")
    d.wait(lambda: list(d.app.root.size) == list(windowed), "the layout back at the window's size")
    d.h.xdotool("type", "--delay", "30", "g")
    d.wait(lambda: box.text == "abcdefg", "typing to keep going after F11 twice")
    d.shot("app_fullscreen_left")


def test_the_conversation_list_collapses_and_is_remembered(
    kivy_harness, scripted_server, ia_home, monkeypatch
):
    monkeypatch.setenv("OLLAMA_HOST", scripted_server.url)
    keep_window_size(ia_home, kivy_harness)
    app = make_app()
    start(app, kivy_harness)
    try:
        ids = app.root.ids
        center = ids.center
        open_width = center.width
        assert app.list_open and ids.conv_list.width > 100
        kivy_harness.settle(4)
        kivy_harness.click(ids.list_btn)
        kivy_harness.wait_until(lambda: not app.list_open, 5, "the button to collapse the list")
        kivy_harness.wait_until(
            lambda: center.x == 0 and center.width > open_width + 100, 5, "the chat zone to take the space"
        )
        assert ids.conv_list.parent.width == 0 and ids.conv_list.parent.disabled
        kivy_harness.screenshot("app_list_collapsed")
        saved = tomllib.loads((ia_home / "config.toml").read_text(encoding="utf-8"))["ui"]
        assert saved["list_open"] is False
    finally:
        stop(app, kivy_harness)
    # The next start keeps it collapsed; Ctrl+K (search) opens it again.
    app = make_app()
    start(app, kivy_harness)
    try:
        assert not app.list_open
        kivy_harness.wait_until(lambda: app.root.ids.center.x == 0, 5, "the list to start collapsed")
        kivy_harness.key("k", ["ctrl"])
        kivy_harness.wait_until(lambda: app.list_open, 5, "Ctrl+K to open the list")
        kivy_harness.wait_until(lambda: app.root.ids.center.x > 100, 5, "the list to take its width back")
    finally:
        stop(app, kivy_harness)
    saved = tomllib.loads((ia_home / "config.toml").read_text(encoding="utf-8"))["ui"]
    assert saved["list_open"] is True


def test_the_panel_shows_when_the_chat_was_created(app_driver, monkeypatch):
    """The "this chat" section's first line: the creation moment in local time, written so no locale can
    misread it; a new chat says it is saved with its first message, and gets its date when it is."""
    import time
    from datetime import UTC, datetime

    from config import Settings
    from core.embedded.scripted import Script
    from core.session_manager import SessionManager

    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    try:
        d = app_driver
        d.ready()
        label = d.ids.info.ids.created_label
        assert label.text == "New chat: saved with its first message."
        sm = SessionManager(Settings(home=d.home))
        try:
            conv = sm.create("Dated chat", model="smollm2:135m")
            conv.created = datetime(2026, 12, 4, 19, 31, 5, tzinfo=UTC)  # 20:31 in Paris (UTC+1 in December)
            sm.add_user_message(conv, "hello")
        finally:
            sm.close()
        d.app.reload_sessions()
        d.wait(lambda: any(r.get("slug") == conv.slug for r in d.ids.conv_list.rows()), "the list to show it")
        d.app.open_conversation(conv.slug)
        d.wait(lambda: label.text == "Created Dec 4, 2026, 8:31\u00a0PM", "the creation date in the panel")
        d.h.settle(4)
        _scroll_to(label)
        d.shot("app_panel_created")
        # A new chat gets its date on its first message.
        d.app.new_chat()
        d.wait(lambda: label.text.startswith("New chat"), "a new chat without a date")
        d.server.engine.enqueue(Script(["Hi."]))
        d.type_and_send("first message")
        d.wait_reply_end()
        now = datetime.now(UTC).astimezone()
        d.wait(
            lambda: label.text.startswith(f"Created {now:%b} {now.day}, "), "the new chat's date once saved"
        )
        created = d.app.conv.created.astimezone()
        assert label.text.endswith(f"{now.year}, {created.hour % 12 or 12}:{created:%M}\u00a0{created:%p}")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
