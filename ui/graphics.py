"""Window settings Kivy fixes when it creates the window, decided before that happens.

Multisampling (antialiased edges of rounded shapes) is nearly free on a GPU but costs about 2.5x the drawing
time of every frame when OpenGL is rendered in software (Mesa's llvmpipe, e.g. a machine without a GPU or a
virtual X server): measured here, a full redraw of a chat window took 29.6 ms with 2 samples and 11.9 ms
without. ``GRAPHICS["multisamples"]`` (re-exported by ui/config_ui.py) is "auto" (2 samples on a GPU, none in
software) or a number. It lives here, not in config_ui, because importing config_ui creates the window (its
dp()/sp() sizes ask Kivy's Metrics, which opens the window): the setting must be read before that.

    configure_window()          # before the first `from kivy.core.window import Window`
    software_rendering() -> bool;  multisamples(setting) -> int;  renderer() -> str (after the window exists)
    video_driver() -> str;  no_display_message() -> str | None   (after the window exists)
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from core.i18n import _

__all__ = [
    "DEFAULT_SIZE",
    "GRAPHICS",
    "MIN_SIZE",
    "configure_window",
    "multisamples",
    "no_display_message",
    "renderer",
    "software_rendering",
    "video_driver",
    "window_size",
]

# Window settings fixed when the window is created.
GRAPHICS: dict[str, str | int] = {
    "multisamples": "auto",  # "auto": 2 on a GPU, 0 when OpenGL renders in software (2.5x cheaper frames)
}

DEFAULT_SIZE = (1280, 800)
MIN_SIZE = (820, 520)

_SOFTWARE_DRIVERS = ("llvmpipe", "softpipe", "swr", "swrast")


def software_rendering(environ: Mapping[str, str] | None = None, dri: Path = Path("/dev/dri")) -> bool:
    """Will OpenGL most likely be rendered by the CPU? Mesa told so by the environment, or on Linux no
    GPU device node at all (the case of our machines and of most CI runners)."""
    env = os.environ if environ is None else environ
    if env.get("LIBGL_ALWAYS_SOFTWARE", "").lower() in ("1", "true", "yes"):
        return True
    if env.get("GALLIUM_DRIVER", "").lower() in _SOFTWARE_DRIVERS:
        return True
    if sys.platform.startswith("linux"):
        try:
            return not any(entry.name.startswith(("renderD", "card")) for entry in dri.iterdir())
        except OSError:
            return True
    return False


def multisamples(setting: str | int, software: bool | None = None) -> int:
    """Samples per pixel for a GRAPHICS["multisamples"] setting: a number as given, "auto" by the renderer."""
    if str(setting).strip().lower() != "auto":
        try:
            return max(0, int(setting))
        except ValueError:
            pass  # a bad value in config_ui falls back to "auto"
    if software is None:
        software = software_rendering()
    return 0 if software else 2


def window_size(ui: Mapping[str, object]) -> tuple[int, int]:
    """The remembered window size from settings.ui, at least MIN_SIZE; DEFAULT_SIZE when absent or bad."""
    try:
        width = int(ui.get("width", DEFAULT_SIZE[0]))  # type: ignore[call-overload]
        height = int(ui.get("height", DEFAULT_SIZE[1]))  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return DEFAULT_SIZE
    return max(MIN_SIZE[0], width), max(MIN_SIZE[1], height)


def configure_window(ui: Mapping[str, object] | None = None) -> int:
    """Apply GRAPHICS (and, given settings.ui, the remembered window size, so the window opens at it instead
    of being resized once open) to Kivy's Config before the window exists; returns the multisample count.
    Call it before anything imports kivy.core.window, kivy.metrics' dp()/sp() users or ui.config_ui."""
    from kivy.config import Config

    samples = multisamples(GRAPHICS["multisamples"])
    Config.set("graphics", "multisamples", str(samples))
    if ui is not None:
        width, height = window_size(ui)
        Config.set("graphics", "width", str(width))
        Config.set("graphics", "height", str(height))
    return samples


def renderer() -> str:
    """The OpenGL renderer's name (call once the window exists), "" when it cannot be read."""
    try:
        from kivy.graphics import opengl

        name = opengl.glGetString(opengl.GL_RENDERER)
    except Exception:  # noqa: BLE001 - a missing or odd GL binding only loses a log line
        return ""
    return name.decode(errors="replace") if isinstance(name, bytes) else str(name or "")


# SDL's video drivers that show nothing on screen. SDL falls back to "offscreen" by itself when no display
# answers (DISPLAY unset or its X server gone): the app would then run invisibly, forever.
_INVISIBLE_DRIVERS = ("offscreen", "dummy", "evdev")


def video_driver() -> str:
    """SDL's current video driver ("x11", "wayland", "cocoa", "windows", "offscreen"...) once Kivy's SDL2
    window exists; "" when it cannot be told (another window provider, or SDL not found)."""
    import ctypes

    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            paths = {line.split()[-1] for line in maps if "libSDL2-2" in line or "libSDL2.so" in line}
    except OSError:
        return ""  # not Linux: the window opened on the desktop's own driver
    for path in sorted(paths):
        try:
            sdl = ctypes.CDLL(path)
            sdl.SDL_GetCurrentVideoDriver.restype = ctypes.c_char_p
            name = sdl.SDL_GetCurrentVideoDriver()
        except (OSError, AttributeError):
            continue
        if name:
            return name.decode(errors="replace")
    return ""


def no_display_message(driver: str | None = None, environ: Mapping[str, str] | None = None) -> str | None:
    """What to tell the user when the window cannot be seen (SDL fell back to an invisible driver); None
    when it can, or when an invisible driver was asked for on purpose (SDL_VIDEODRIVER)."""
    env = os.environ if environ is None else environ
    driver = video_driver() if driver is None else driver
    if driver not in _INVISIBLE_DRIVERS or env.get("SDL_VIDEODRIVER", "").lower() == driver:
        return None
    name = next((name for name in ("DISPLAY", "WAYLAND_DISPLAY") if env.get(name)), None)
    why = (
        _("nothing answers at {name}={value}").format(name=name, value=env[name])
        if name
        else _("neither DISPLAY nor WAYLAND_DISPLAY is set")
    )
    return _(
        "No display to open the window on ({why}). Start the app from a desktop session, or on a server "
        "under a virtual display (`xvfb-run -a python main_ui.py`), or use the terminal chat: `python main.py`."
    ).format(why=why)
