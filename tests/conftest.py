"""Shared fixtures: every test runs with a temporary IA_HOME and no real server reachable by accident."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import i18n

# Fixture modules contributed by each area; loaded only once they exist so areas can land independently.
pytest_plugins = [
    name
    for name in (
        "tests.fixtures.servers",
        "tests.fixtures.openai_servers",
        "tests.fixtures.display",
        "tests.fixtures.hf_hub",
    )
    if importlib.util.find_spec(name) is not None
]

# A port where nothing listens (discard): a test that forgets to point at its own server fails fast.
DEAD_HOST = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def ia_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh IA_HOME per test; the repository's sav/, logs/ and data/ are never touched."""
    home = tmp_path / "ia_home"
    home.mkdir()
    monkeypatch.setenv("IA_HOME", str(home))
    monkeypatch.setenv("OLLAMA_HOST", DEAD_HOST)
    monkeypatch.setenv("IA_EMBEDDED", "off")
    # The embedded backend also serves Ollama's downloaded models and pulls from Hugging Face: a test sees
    # neither the machine's Ollama store nor the real Hub unless it builds its own (tests/fixtures).
    monkeypatch.setenv("OLLAMA_MODELS", str(tmp_path / "no_ollama_models"))
    monkeypatch.setenv("HF_ENDPOINT", DEAD_HOST)
    for var in ("IA_MODEL", "IA_DEV", "OLLAMA_API_KEY", "OPENAI_API_KEY", "HF_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    # English unless a test asks for French, whatever the machine's locale (tests compare English text).
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LC_TIME", "LC_NUMERIC", "IA_LANG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    i18n.set_language("en")
    yield home
    i18n.set_language("en")


def _display_works(display: str) -> bool:
    if not shutil.which("xdpyinfo"):
        return True
    env = dict(os.environ, DISPLAY=display)
    return subprocess.run(["xdpyinfo"], env=env, capture_output=True).returncode == 0


_xvfb: subprocess.Popen | None = None


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the test process ends, however it ends. Stopping Xvfb
    earlier (at session end) would pull the display from under the Kivy window still open on it."""
    import ctypes
    import signal

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def ensure_display() -> str:
    """A real X display in DISPLAY: the one there if it works, else an Xvfb started once for this test
    session, which ends with the test process. Called before anything imports Kivy's Window: SDL opens the
    window on the display it finds then, and with none it falls back to its invisible offscreen driver."""
    global _xvfb
    current = os.environ.get("DISPLAY")
    if current and (_xvfb is not None or _display_works(current)):
        return current
    xvfb = shutil.which("Xvfb")
    if not xvfb:
        pytest.fail(
            "Xvfb is not installed: run the README's test command, which installs it (apt-get install xvfb)"
        )
    for number in range(99, 140):
        if Path(f"/tmp/.X{number}-lock").exists():
            continue
        display = f":{number}"
        proc = subprocess.Popen(
            [xvfb, display, "-screen", "0", "1400x900x24", "-nolisten", "tcp"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            if Path(f"/tmp/.X11-unix/X{number}").exists() and _display_works(display):
                break
            time.sleep(0.05)
        if proc.poll() is None:
            _xvfb = proc
            os.environ["DISPLAY"] = display
            return display
    pytest.fail("could not start Xvfb on any display :99-:139")


@pytest.fixture(scope="session")
def x_display() -> str:
    """A real X display: the one in DISPLAY if it works, else an Xvfb started for the test session."""
    return ensure_display()
