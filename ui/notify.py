"""Desktop notifications: a reply that finishes while the window is in the background is announced.

How, in this order (``notification_method``):
- "plyer": plyer's notification, on Windows and macOS, and on Linux when plyer talks D-Bus itself (the Python
  D-Bus binding, python3-dbus, is installed, or the desktop portal in a Flatpak); otherwise plyer would only
  run notify-send, with arguments some notify-send versions refuse;
- "notify-send": the notify-send program (libnotify-bin on Debian/Ubuntu), which any freedesktop
  notification daemon (GNOME Shell, KDE Plasma, dunst, xfce4-notifyd…) shows;
- "": neither, so nothing is sent; the app's welcome text says so.

``send_notification`` blocks (a D-Bus call or a process): the app runs it on a worker thread. It never raises:
a notification that cannot be shown is logged, never in the user's way.
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
import subprocess
import sys
import warnings
from typing import Any

from core.i18n import _
from ui.icons import APP_ICON

__all__ = ["describe_method", "notification_method", "reply_notice", "send_notification"]

log = logging.getLogger("ia.ui.notify")
APP_NAME = "IA_V3"
BODY_CHARS = 160  # a notification shows a few lines; the whole reply is in the window
TIMEOUT_S = 8


def notification_method(platform: str | None = None) -> str:
    """ "plyer", "notify-send" or "" (nothing available), for this machine."""
    platform = platform or sys.platform
    has_plyer = importlib.util.find_spec("plyer") is not None
    if platform.startswith("linux") or platform.startswith("freebsd"):
        if has_plyer and _plyer_speaks_dbus():
            return "plyer"
        return "notify-send" if shutil.which("notify-send") else ""
    return "plyer" if has_plyer else ""


def _plyer_speaks_dbus() -> bool:
    """Whether plyer's Linux notification would talk D-Bus itself (python-dbus installed, or the desktop portal
    in a Flatpak) rather than run notify-send: plyer's own choice, asked of plyer."""
    try:
        from plyer.platforms.linux import notification as linux

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # plyer warns when python-dbus or notify-send is missing
            return type(linux.instance()).__name__ in ("NotifyDbus", "NotifyDesktopPortals")
    except Exception:  # noqa: BLE001 — a plyer without this module: notify-send, or nothing
        return False


def describe_method(method: str) -> str:
    """One line for the app's welcome text: how a reply finished in the background is announced."""
    if method == "plyer":
        return _("A reply that ends while the window is in the background is announced (plyer).")
    if method == "notify-send":
        return _("A reply that ends while the window is in the background is announced (notify-send).")
    return _("No desktop notifications: install notify-send (libnotify-bin) to be told when a reply ends.")


def reply_notice(conversation_title: str, message: Any) -> tuple[str, str]:
    """Title and body of the notification for a finished reply (a Message: content, status, error)."""
    status = getattr(message, "status", "complete")
    if status == "error":
        title = _("Reply failed — {title}").format(title=conversation_title)
        body = str(getattr(message, "error", "") or _("The reply did not finish."))
    else:
        title = _("Reply ready — {title}").format(title=conversation_title)
        body = " ".join(str(getattr(message, "content", "")).split()) or _("(an empty reply)")
    if len(body) > BODY_CHARS:
        body = body[: BODY_CHARS - 1].rstrip() + "…"
    return title, body


def send_notification(title: str, body: str, method: str) -> bool:
    """Show one notification with `method`; True when it was handed to the system. Blocking; never raises."""
    try:
        if method == "plyer":
            from plyer import notification

            notification.notify(
                title=title, message=body, app_name=APP_NAME, app_icon=str(APP_ICON), timeout=8
            )
            return True
        if method == "notify-send":
            program = shutil.which("notify-send")
            if program is None:
                return False
            done = subprocess.run(  # i18n: a command and its flags
                [
                    program,
                    f"--app-name={APP_NAME}",
                    f"--icon={APP_ICON}",
                    f"--expire-time={TIMEOUT_S * 1000}",
                ]
                + ["--", title, body],
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
            )
            if done.returncode != 0:
                log.warning("notify-send failed (%s): %s", done.returncode, done.stderr.strip())
                return False
            return True
    except Exception as exc:  # noqa: BLE001 — a notification is a nicety: log it, never break the app
        log.warning("the desktop notification could not be shown: %s", exc)
    return False
