"""Desktop notifications on the real window under Xvfb: a real notification daemon (dunst, printing what it
receives) on a private D-Bus session bus, a real second X client (zenity) that takes the keyboard, and the
app's notify-send call going through D-Bus to the daemon."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.embedded.scripted import Delay, Script
from tests.ui.app_harness import app_driver_fixture  # noqa: F401
from ui.notify import describe_method, notification_method, reply_notice, send_notification

pytestmark = pytest.mark.ui

NEEDED = ("dbus-daemon", "dunst", "dunstctl", "notify-send", "zenity", "xdotool", "stdbuf")


class Daemon:
    def __init__(self, out: Path) -> None:
        self.out = out

    def received(self) -> str:
        return self.out.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def notification_daemon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Daemon]:
    """dunst on its own session bus; DBUS_SESSION_BUS_ADDRESS points the app's notify-send at it."""
    missing = [name for name in NEEDED if not shutil.which(name)]
    if missing:
        pytest.fail(
            f"{', '.join(missing)} needed: apt-get install dbus-daemon dunst libnotify-bin zenity xdotool"
            " (see the README's test command)"
        )
    bus = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address=1"], stdout=subprocess.PIPE, text=True
    )
    dunst = None
    try:
        assert bus.stdout is not None
        address = bus.stdout.readline().strip()
        assert address.startswith("unix:"), address
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        out = tmp_path / "dunst.txt"
        config = tmp_path / "dunstrc"
        config.write_text("[global]\n    follow = none\n", encoding="utf-8")
        with out.open("w", encoding="utf-8") as sink:
            # stdbuf: dunst's stdout is a file here, which C's stdio would buffer until dunst ends
            dunst = subprocess.Popen(
                ["stdbuf", "-oL", "dunst", "-config", str(config), "-print"], stdout=sink, stderr=sink
            )
        deadline = time.monotonic() + 15
        while subprocess.run(["dunstctl", "is-paused"], capture_output=True).returncode != 0:
            assert dunst.poll() is None, out.read_text()
            assert time.monotonic() < deadline, "dunst did not take the notification bus name"
            time.sleep(0.1)
        yield Daemon(out)
    finally:
        for proc in (dunst, bus):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                proc.wait(10)


def _focus(d, pid: int) -> None:
    deadline = time.monotonic() + 15
    while True:
        found = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--pid", str(pid)],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.split()
        if found:
            break
        assert time.monotonic() < deadline, f"no X window for pid {pid}"
        d.h.frames(2)
    d.h.xdotool("windowfocus", "--sync", found[-1])


def test_a_reply_ending_in_the_background_is_announced(app_driver, notification_daemon):
    d = app_driver
    d.ready()
    assert d.app.notify_method == "notify-send"  # no Python D-Bus binding here: notify-send it is
    assert "notify-send" in d.ids.notify_label.text
    d.shot("app_notify_welcome")
    _focus(d, os.getpid())
    d.wait(lambda: d.h.window.focus, "the app's window to have the keyboard")
    # With the window in front, a finished reply is not announced.
    d.server.engine.enqueue(Script(["In front."]))
    d.type_and_send("first question")
    d.wait_reply_end()
    d.wait(lambda: d.last_message().content == "In front.", "the first reply")
    d.h.settle(30)
    time.sleep(1.0)
    assert "summary:" not in notification_daemon.received()
    # Another X client takes the keyboard while a slow reply streams: its end is announced.
    d.server.engine.enqueue(Script(["The answer ", Delay(2.0), "is forty-two."]))
    d.type_and_send("second question")
    d.wait(lambda: d.app.streaming, "the reply to start")
    other = subprocess.Popen(["zenity", "--info", "--text=another program"], stderr=subprocess.DEVNULL)
    try:
        _focus(d, other.pid)
        d.wait(lambda: not d.h.window.focus, "the app's window to lose the keyboard")
        assert d.app.streaming, "the reply ended before the window lost the keyboard: make the Delay longer"
        d.wait_reply_end()
        title = d.app.conversation_title
        d.wait(lambda: "summary:" in notification_daemon.received(), "dunst to receive the notification")
        received = notification_daemon.received()
        assert "appname: 'IA_V3'" in received
        assert f"summary: 'Reply ready — {title}'" in received
        assert "body: 'The answer is forty-two.'" in received
    finally:
        other.terminate()
        other.wait(10)


def test_the_notification_text_and_method_choice(notification_daemon, monkeypatch):
    """reply_notice's title and body (long replies cut, errors said); the method for each platform; and a
    notify-send call that reaches the daemon, or reports False when notify-send is missing."""
    from core.conversation import Message

    long = Message(role="assistant", content="word " * 100, created=None)  # type: ignore[arg-type]
    title, body = reply_notice("Chat", long)
    assert title == "Reply ready — Chat" and len(body) == 160 and body.endswith("…")
    failed = Message(role="assistant", content="", created=None, status="error", error="server gone")  # type: ignore[arg-type]
    assert reply_notice("Chat", failed) == ("Reply failed — Chat", "server gone")
    assert notification_method("linux") == "notify-send"
    assert notification_method("win32") == "plyer"  # plyer is installed (the file dialog uses it)
    assert "plyer" in describe_method("plyer") and "No desktop notifications" in describe_method("")
    assert send_notification("Direct — ünï", "a body with 'quotes' and -dashes", "notify-send")
    deadline = time.monotonic() + 10
    while "summary: 'Direct — ünï'" not in notification_daemon.received():
        assert time.monotonic() < deadline, notification_daemon.received()
        time.sleep(0.1)
    assert "body: 'a body with 'quotes' and -dashes'" in notification_daemon.received()
    monkeypatch.setenv("PATH", "/nonexistent")
    assert notification_method("linux") == ""
    assert send_notification("t", "b", "notify-send") is False
    assert send_notification("t", "b", "") is False
