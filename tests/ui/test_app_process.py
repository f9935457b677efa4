"""`python main_ui.py` as a person starts it: a real process and window, typed into with xdotool (X test
extension keystrokes), checked through the files it writes under IA_HOME."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.embedded.scripted import Script

pytestmark = pytest.mark.ui

ROOT = Path(__file__).resolve().parents[2]


def _wait(condition, timeout: float, message: str, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the app exited ({proc.returncode}) while waiting for: {message}")
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for: {message}")


def _xdotool(*args: str) -> str:
    return subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=20).stdout.strip()


def _window(pid: int) -> str:
    """The app's X window, found by the process id SDL sets on it (_NET_WM_PID)."""
    return _xdotool("search", "--pid", str(pid)).split("\n")[0]


def _saved_conversations(home: Path) -> list[Path]:
    return sorted((home / "sav").glob("*/conversation.md"))


def _start(home: Path, env_extra: dict[str, str]) -> subprocess.Popen:
    if not shutil.which("xdotool"):
        pytest.fail("xdotool is not installed (apt-get install xdotool)")
    env = dict(os.environ, IA_HOME=str(home), KIVY_NO_FILELOG="1", **env_extra)
    env.pop("KIVY_NO_ARGS", None)  # main_ui.py sets it itself
    log = (home / "app-stdout.txt").open("wb")
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main_ui.py")], cwd=ROOT, env=env, stdout=log, stderr=log
    )


def _type_message(text: str, proc: subprocess.Popen) -> str:
    wid = _wait(lambda: _window(proc.pid), 60, "the window to open", proc)
    # The window is mapped while Kivy starts; its title becomes "IA_V3 — …" once the app is built, as a person
    # would wait for the window's content before typing.
    _wait(lambda: "IA_V3" in _xdotool("getwindowname", wid), 60, "the app to be built", proc)
    time.sleep(1.0)  # its first frames, which give the message box the keyboard
    _xdotool("windowfocus", "--sync", wid)
    _xdotool("type", "--delay", "20", text)
    _xdotool("key", "Return")
    return wid


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def test_started_like_a_user_typing_with_the_keyboard_then_ctrl_q(x_display, scripted_server, ia_home):
    scripted_server.engine.enqueue(Script(["Hello", " from", " the", " window", "."]))
    proc = _start(ia_home, {"OLLAMA_HOST": scripted_server.url, "IA_EMBEDDED": "off"})
    try:
        wid = _type_message("typed by xdotool", proc)
        conv = _wait(lambda: _saved_conversations(ia_home), 30, "the conversation to be saved", proc)[0]
        _wait(
            lambda: "Hello from the window." in conv.read_text(encoding="utf-8"), 30, "the reply saved", proc
        )
        assert "typed by xdotool" in conv.read_text(encoding="utf-8")
        assert "IA_V3" in _xdotool("getwindowname", wid) and "typed by xdotool" in _xdotool(
            "getwindowname", wid
        )
        _xdotool("windowfocus", "--sync", wid)
        _xdotool("key", "ctrl+q")
        assert proc.wait(30) == 0
    finally:
        _stop(proc)
    config = (ia_home / "config.toml").read_text(encoding="utf-8")
    assert f'last_conversation = "{conv.parent.name}"' in config and "width = " in config


@pytest.mark.model
def test_new_user_path_on_the_embedded_backend_with_smollm2(x_display, ia_home):
    """No Ollama anywhere: the window opens, says it is connecting, starts the embedded llama.cpp backend with
    smollm2:135m, and a typed message gets a streamed reply saved in IA_HOME/sav/."""
    pytest.importorskip("llama_cpp", reason="the embedded backend needs llama-cpp-python")
    proc = _start(ia_home, {"OLLAMA_HOST": "http://127.0.0.1:9", "IA_EMBEDDED": "auto"})
    try:
        _type_message("Say hello in three words.", proc)
        conv = _wait(lambda: _saved_conversations(ia_home), 120, "the conversation to be saved", proc)[0]

        def replied() -> bool:
            return re.search(
                r"role=assistant [^>]*status=complete model=smollm2:135m", conv.read_text("utf-8")
            )

        _wait(replied, 240, "smollm2's reply to be complete", proc)
        assert "Say hello in three words." in conv.read_text(encoding="utf-8")
    finally:
        _stop(proc)
    log = (ia_home / "app-stdout.txt").read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log, log[-3000:]


def _error_lines_of_a_failed_start(env: dict[str, str]) -> list[str]:
    """Start main_ui.py with `env`; it must exit 1: its stderr lines that start with "error:"."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "main_ui.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    return [line for line in done.stderr.splitlines() if line.startswith("error:")]


@pytest.mark.parametrize("display", [None, ":999"])
def test_without_a_display_the_app_says_so_instead_of_running_invisibly(ia_home, display):
    """SDL falls back to its invisible "offscreen" driver when no X server answers: the app must not go on
    running where nobody can see it."""
    env = dict(os.environ, IA_HOME=str(ia_home), KIVY_NO_FILELOG="1")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER", "KIVY_NO_ARGS"):
        env.pop(name, None)
    if display is not None:
        env["DISPLAY"] = display  # no X server there
    lines = _error_lines_of_a_failed_start(env)
    assert len(lines) == 1, lines
    assert "No display to open the window on" in lines[0]
    assert (f"nothing answers at DISPLAY={display}" if display else "neither DISPLAY nor") in lines[0]
    assert "xvfb-run -a python main_ui.py" in lines[0] and "python main.py" in lines[0]
    assert not (ia_home / "sav").exists() or not any((ia_home / "sav").iterdir())


def test_without_a_window_provider_the_app_says_where_kivy_wrote_why(ia_home):
    """Kivy logs its reason and gives up when no window provider works (e.g. no libGL): the user gets one
    line on the terminal, not a silent exit."""
    env = dict(os.environ, IA_HOME=str(ia_home), KIVY_NO_FILELOG="1", KIVY_WINDOW="no_such_provider")
    env.pop("KIVY_NO_ARGS", None)
    lines = _error_lines_of_a_failed_start(env)
    assert len(lines) == 1 and "Kivy could not open a window" in lines[0], lines
    log = ia_home / "logs" / "technical.log"
    assert str(log) in lines[0]
    assert "Unable to find any valuable Window provider" in log.read_text(encoding="utf-8")
