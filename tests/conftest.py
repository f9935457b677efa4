"""Shared fixtures: every test runs with a temporary IA_HOME and no real server reachable by accident."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

# Fixture modules contributed by each area; loaded only once they exist so areas can land independently.
pytest_plugins = [
    name
    for name in ("tests.fixtures.servers", "tests.fixtures.display")
    if importlib.util.find_spec(name) is not None
]

# A port where nothing listens (discard): a test that forgets to point at its own server fails fast.
DEAD_HOST = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def ia_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh IA_HOME per test; the repository's sav/, logs/ and data/ are never touched."""
    home = tmp_path / "ia_home"
    home.mkdir()
    monkeypatch.setenv("IA_HOME", str(home))
    monkeypatch.setenv("OLLAMA_HOST", DEAD_HOST)
    monkeypatch.setenv("IA_EMBEDDED", "off")
    for var in ("IA_MODEL", "IA_DEV", "OLLAMA_API_KEY"):
        monkeypatch.delenv(var, raising=False)
    return home


def _display_works(display: str) -> bool:
    if not shutil.which("xdpyinfo"):
        return True
    env = dict(os.environ, DISPLAY=display)
    return subprocess.run(["xdpyinfo"], env=env, capture_output=True).returncode == 0


@pytest.fixture(scope="session")
def x_display() -> str:
    """A real X display: the one in DISPLAY if it works, else an Xvfb started for the test session."""
    current = os.environ.get("DISPLAY")
    if current and _display_works(current):
        yield current
        return
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
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            if Path(f"/tmp/.X11-unix/X{number}").exists() and _display_works(display):
                break
            time.sleep(0.05)
        if proc.poll() is None:
            os.environ["DISPLAY"] = display
            try:
                yield display
            finally:
                proc.terminate()
                proc.wait(timeout=10)
            return
    pytest.fail("could not start Xvfb on any display :99-:139")
