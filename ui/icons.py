"""Where the project's own icons live: assets/ in a source checkout, ui/assets/ in an installed wheel (both
drawn by tools/make_icons.py; core.locations.shipped picks the copy)."""

from __future__ import annotations

from pathlib import Path

from core.locations import shipped

__all__ = ["APP_ICON", "ASSETS", "icon_path"]

ASSETS = shipped("assets", Path(__file__).resolve().with_name("assets"))
APP_ICON = ASSETS / "icon.png"


def icon_path(name: str) -> str:
    """Path of an icon: "app" for the small app icon, else assets/icons/<name>.png ("" for no icon)."""
    if name == "app":
        return str(ASSETS / "icon-64.png")
    return str(ASSETS / "icons" / f"{name}.png") if name else ""
