"""Fixtures for the whole-app tests: the real IAApp on the test Window, talking to a real server on loopback.

`running_app` builds IAApp exactly as `App.run()` does (build, add the root to the Window, on_start) but lets
the test drive the frames through the chat helper's KivyHarness; it is stopped like `App.stop()` afterwards.
Import the fixture into a test module with `from tests.ui.app_harness import app_driver_fixture  # noqa: F401`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.ui.kivy_harness import KivyHarness

__all__ = ["AppDriver", "app_driver_fixture", "keep_window_size", "make_app"]


@dataclass
class AppDriver:
    """The running app, the harness that drives its Window, and shortcuts tests use again and again."""

    app: Any
    h: KivyHarness
    home: Path

    @property
    def ids(self) -> Any:
        return self.app.root.ids

    def wait(self, condition: Callable[[], Any], message: str, timeout: float = 20.0) -> Any:
        return self.h.wait_until(condition, timeout=timeout, message=message)

    def ready(self) -> None:
        """Wait for the backend connection and the model list."""
        self.wait(lambda: self.app.backend_status == "ready", "the backend to connect")
        self.wait(lambda: self.app.model and self.ids.info.model_names, "the model list")
        self.wait(lambda: self.ids.info.details, "the model details")
        self.h.settle(6)

    def press(self, widget: Any) -> None:
        """Click a widget like a person: let layout settle, scroll it into view if needed, then touch it."""
        from kivy.uix.scrollview import ScrollView

        self.h.settle(4)
        parent = widget.parent
        while parent is not None and not isinstance(parent, ScrollView):
            parent = None if parent.parent is parent else parent.parent  # the Window is its own parent
        if parent is not None:
            parent.scroll_to(widget, padding=20, animate=False)
            self.h.settle(4)
        self.h.click(widget)

    def type_and_send(self, text: str) -> None:
        """Type into the focused input like a keyboard, then press Enter."""
        self.wait(lambda: self.app.input_bar.ids.input.focus, "the input to have focus")
        self.h.type_text(text)
        self.h.key("enter")

    def wait_reply_end(self, timeout: float = 30.0) -> None:
        self.wait(lambda: not self.app.streaming, "the reply to end", timeout)

    def last_message(self) -> Any:
        return self.app.chat_view.messages[-1]

    def shot(self, name: str) -> Path:
        self.h.settle(6)
        return self.h.screenshot(name)


def keep_window_size(ia_home: Path, h: KivyHarness, extra: str = "") -> None:
    """Settings that make the app keep the test Window's size: a live resize of an X window under Xvfb
    (no window manager) can leave the GL drawable at the old size, so later screenshots show black bands."""
    w, hh = h.window.size
    (ia_home / "config.toml").write_text(f"[ui]\nwidth = {w}\nheight = {hh}\n{extra}", encoding="utf-8")


def make_app(settings_flags: dict[str, Any] | None = None, engine: Any = None) -> Any:
    """An IAApp on the current IA_HOME/OLLAMA_HOST (set by the fixtures)."""
    from config import load_settings
    from ui.app import IAApp

    return IAApp(load_settings(settings_flags or {}), engine=engine)


def start(app: Any, h: KivyHarness) -> None:
    """What App.run() does before its loop: build, add the root to the Window, on_start."""
    from kivy.lang.parser import global_idmap

    h.clear()
    # kv's `app` caches the running app until that app's on_stop; a rule of a removed widget evaluated after
    # the previous test's stop would pin the old app, so point it at this one.
    object.__setattr__(global_idmap["app"], "_obj", None)
    app._run_prepare()
    h.frames(3)
    # Under Xvfb (no window manager) a resize may land a few frames later; screenshots need it done.
    h.wait_until(lambda: list(app.root.size) == list(h.window.size), 10, "the root to fill the window")


def stop(app: Any, h: KivyHarness) -> None:
    """What App.stop() does, minus ending the event loop. App._running_app is left set: kv rules of the
    removed widgets still reference `app` when a later test switches the theme."""
    app.dispatch("on_stop")
    for child in h.window.children[:]:
        h.window.remove_widget(child)
    h.frames(2)


@pytest.fixture(name="app_driver")
def app_driver_fixture(
    kivy_harness: KivyHarness, scripted_server: Any, ia_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[AppDriver]:
    """The app connected to the scripted server (Ollama protocol on loopback), in a temporary IA_HOME."""
    monkeypatch.setenv("OLLAMA_HOST", scripted_server.url)
    keep_window_size(ia_home, kivy_harness)
    app = make_app()
    start(app, kivy_harness)
    driver = AppDriver(app=app, h=kivy_harness, home=ia_home)
    driver.server = scripted_server  # type: ignore[attr-defined]
    try:
        yield driver
    finally:
        stop(app, kivy_harness)
