"""Which SDL video driver the window got, and what the app says when nobody can see it."""

from __future__ import annotations

import pytest

from ui.graphics import no_display_message, video_driver

pytestmark = pytest.mark.ui


def test_the_test_window_is_on_the_x_server(kivy_harness) -> None:
    assert video_driver() == "x11"
    assert no_display_message() is None


@pytest.mark.parametrize(
    ("driver", "environ", "words"),
    [
        ("offscreen", {}, "neither DISPLAY nor WAYLAND_DISPLAY is set"),
        ("offscreen", {"DISPLAY": ":7"}, "nothing answers at DISPLAY=:7"),
        ("dummy", {"WAYLAND_DISPLAY": "wayland-0"}, "nothing answers at WAYLAND_DISPLAY=wayland-0"),
    ],
)
def test_an_invisible_driver_is_explained(driver: str, environ: dict[str, str], words: str) -> None:
    message = no_display_message(driver, environ)
    assert message is not None and words in message and "xvfb-run" in message


@pytest.mark.parametrize(
    ("driver", "environ"),
    [
        ("x11", {}),
        ("wayland", {"WAYLAND_DISPLAY": "wayland-0"}),
        ("offscreen", {"SDL_VIDEODRIVER": "offscreen"}),
    ],
)
def test_a_visible_or_chosen_driver_is_fine(driver: str, environ: dict[str, str]) -> None:
    assert no_display_message(driver, environ) is None
