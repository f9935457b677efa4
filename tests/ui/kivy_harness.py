"""A small harness for Kivy tests under Xvfb: one real Window per process, widgets mounted on it in turn.

Kivy's Window is a process singleton, so the session fixture `kivy_harness` (tests/ui/conftest.py) creates it
once on the Xvfb display and each test mounts its own widget. The harness advances real frames
(EventLoop.idle: Clock, input, layout, drawing), polls conditions instead of sleeping, types keys through the
Window like a keyboard, clicks with real touch events, and saves screenshots into test-artifacts/ui/.

Usage from a test:
    def test_x(kivy_harness):
        from ui.chat_view import ChatView           # import Kivy widgets only inside tests/fixtures
        view = kivy_harness.mount(ChatView())
        kivy_harness.wait_until(lambda: view.ids.rv.data, message="items shown")
        kivy_harness.screenshot("chat_basic")
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["ARTIFACTS", "KivyHarness", "prepare_kivy_environment"]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"


def prepare_kivy_environment(width: int = 1000, height: int = 760) -> None:
    """Environment Kivy reads at import: no argv parsing, a private KIVY_HOME, quiet logs, a fixed size."""
    os.environ["KIVY_NO_ARGS"] = "1"
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="ia_kivy_home_"))
    os.environ["KIVY_NO_CONSOLELOG"] = "1"
    os.environ["KIVY_NO_FILELOG"] = "1"
    os.environ["KIVY_USE_DEFAULTCONFIG"] = "1"
    os.environ.setdefault("KIVY_WINDOW", "sdl2")
    from kivy.config import Config

    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "multisamples", "0")
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")


class KivyHarness:
    """Drives the one Kivy Window of this process: mount, frames, waits, keys, clicks, screenshots."""

    def __init__(self) -> None:
        from kivy.base import EventLoop
        from kivy.core.window import Window

        self.window = Window
        self.event_loop = EventLoop
        EventLoop.ensure_window()
        Window.close = lambda *_: None  # a test must never end the process' only window
        ARTIFACTS.mkdir(parents=True, exist_ok=True)

    # ----- widgets and frames -------------------------------------------------------------------------

    def mount(self, widget: Any, size: tuple[int, int] | None = None) -> Any:
        """Make `widget` the only child of the Window (optionally resizing the Window) and lay it out."""
        self.clear()
        if size is not None:
            self.window.size = size
        self.window.add_widget(widget)
        self.frames(3)
        return widget

    def clear(self) -> None:
        """Remove every widget, popup and pending touch from the Window."""
        for child in self.window.children[:]:
            self.window.remove_widget(child)
        self.event_loop.touches.clear()
        self.frames(1)

    def frames(self, count: int = 1) -> None:
        """Advance `count` real frames: window events (X input, clipboard requests), Clock, layout, drawing."""
        for _ in range(count):  # what EventLoop.mainloop does each turn
            self.event_loop.idle()
            self.window.mainloop()

    def wait_until(self, condition: Callable[[], Any], timeout: float = 15.0, message: str = "") -> Any:
        """Advance frames until `condition()` is truthy; fail with `message` after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for: {message or condition}")
            self.frames(1)

    def settle(self, frames: int = 5) -> None:
        """Let layout and textures settle (several frames; layout triggers cascade over frames)."""
        self.frames(frames)

    # ----- input ----------------------------------------------------------------------------------------

    def key(self, key: str, modifiers: list[str] | None = None, text: str | None = None) -> None:
        """Press and release a key as the keyboard would (e.g. "enter", "v" with ["ctrl"])."""
        from kivy.core.window import Keyboard

        code = Keyboard.keycodes.get(key, ord(key[0]) if len(key) == 1 else 0)
        mods = modifiers or []
        self.window.dispatch("on_key_down", code, 0, text, mods)
        if text and not any(m in ("ctrl", "meta", "alt") for m in mods):
            self.window.dispatch("on_textinput", text)
        self.window.dispatch("on_key_up", code, 0)
        self.frames(1)

    def type_text(self, text: str) -> None:
        """Type printable text into the focused widget, as the platform's text input does."""
        for ch in text:
            self.window.dispatch("on_textinput", ch)
        self.frames(1)

    def real_input(self) -> None:
        """Take input from the X server too, as App.run() does (the configured input providers, started once):
        for tests that drive the real pointer and keyboard with xdotool. Other tests dispatch events."""
        from kivy.config import Config
        from kivy.input import MotionEventFactory

        if getattr(self, "_real_input", False):
            return
        self._real_input = True
        for key, value in Config.items("input"):
            provider_id, _, args = str(value).partition(",")
            provider = MotionEventFactory.get(provider_id)
            made = provider(key, args) if provider is not None else None
            if made:  # a probe (probesysfs) makes nothing itself
                self.event_loop.add_input_provider(made, True)
        self.event_loop.start()

    def screen_point(self, x: float, y: float) -> tuple[int, int]:
        """X screen coordinates (from the top left) of a window point (Kivy counts y from the bottom)."""
        window = self.window
        return int(window.left + x), int(window.top + window.height - y)

    def xdotool(self, *args: str) -> None:
        """Run xdotool (real X input to the window), then let the window handle what it sent."""
        subprocess.run(["xdotool", *args], check=True, timeout=10)
        self.frames(3)

    def click(self, widget: Any) -> None:
        """A real touch down/up at the centre of `widget` (window coordinates)."""
        from kivy.tests.common import UnitTestTouch

        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        self.frames(1)
        touch.touch_up()
        self.frames(2)

    # ----- artifacts and system -----------------------------------------------------------------------

    def screenshot(self, name: str) -> Path:
        """Save what the Window shows now as test-artifacts/ui/<name>.png and return the path."""
        self.frames(2)
        target = ARTIFACTS / f"{name}.png"
        with tempfile.TemporaryDirectory() as tmp:
            cwd = os.getcwd()
            os.chdir(tmp)
            try:
                made = self.window.screenshot(name="shot.png")
            finally:
                os.chdir(cwd)
            shutil.move(made, target)
        return target

    def read_clipboard(self, timeout: float = 10.0) -> str:
        """The X clipboard as another program sees it (xclip), serving the Window's events meanwhile."""
        proc = subprocess.Popen(
            ["xclip", "-selection", "clipboard", "-o"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        self.wait_until(lambda: proc.poll() is not None, timeout, "xclip to read the clipboard")
        out, err = proc.communicate()
        if proc.returncode != 0:
            raise AssertionError(f"xclip failed: {err.decode(errors='replace')}")
        return out.decode("utf-8")

    def write_clipboard(self, text: str) -> None:
        """Put `text` on the X clipboard from another program (xclip keeps serving it in the background)."""
        proc = subprocess.Popen(["xclip", "-selection", "clipboard", "-i"], stdin=subprocess.PIPE)
        assert proc.stdin is not None
        proc.stdin.write(text.encode("utf-8"))
        proc.stdin.close()
        self.wait_until(lambda: proc.poll() is not None, 20, "xclip to take the clipboard")

    def max_texture_size(self) -> int:
        """The GPU's largest texture side (a Label past it shows nothing)."""
        from kivy.graphics.opengl import GL_MAX_TEXTURE_SIZE, glGetIntegerv

        return int(glGetIntegerv(GL_MAX_TEXTURE_SIZE)[0])
