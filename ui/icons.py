"""Where the project's own icons live (drawn by tools/make_icons.py into assets/)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["APP_ICON", "ASSETS", "icon_path"]

ASSETS = Path(__file__).resolve().parent.parent / "assets"
APP_ICON = ASSETS / "icon.png"


def icon_path(name: str) -> str:
    """Path of an icon: "app" for the small app icon, else assets/icons/<name>.png ("" for no icon)."""
    if name == "app":
        return str(ASSETS / "icon-64.png")
    return str(ASSETS / "icons" / f"{name}.png") if name else ""
