"""Every color, font and size of the desktop app, for the light and dark themes, in one place.

Widgets read colors through the `theme` dispatcher (`theme.colors["chat_bg"]` in kv binds, so a theme switch
repaints live) and sizes through `SIZES` (dp/sp already applied). UI modules add their own keys here.
"""

from __future__ import annotations

from typing import Any

from kivy.event import EventDispatcher
from kivy.metrics import dp, sp
from kivy.properties import DictProperty, OptionProperty
from kivy.utils import get_color_from_hex

from core.attachments import MAX_FILE_BYTES

# Window settings (multisampling) are defined in ui/graphics.py, which must read them before this module's
# dp()/sp() calls open the window; they are re-exported here with the rest of the look.
from ui.fonts import FONTS
from ui.graphics import GRAPHICS

__all__ = [  # i18n: names of this module
    "FONTS",
    "GRAPHICS",
    "LIMITS",
    "PALETTES",
    "SIZES",
    "Theme",
    "hex_color",
    "rgba",
    "theme",
]

# Colors as hex strings (markup needs hex; canvas instructions get rgba() tuples).
PALETTES: dict[str, dict[str, str]] = {
    "light": {
        "window_bg": "#f4f5f7",
        "chat_bg": "#f4f5f7",
        "text": "#1f2328",
        "text_muted": "#656d76",
        "accent": "#2f6feb",
        "accent_text": "#ffffff",
        "danger": "#cf222e",
        "warning": "#9a6700",
        "bubble_user_bg": "#dbe7ff",
        "bubble_user_border": "#b6cdf7",
        "bubble_assistant_bg": "#ffffff",
        "bubble_assistant_border": "#d0d7de",
        "bubble_system_bg": "#fff8c5",
        "quote_bar": "#d0d7de",
        "quote_text": "#57606a",
        "link": "#0969da",
        "inline_code": "#b3261e",
        "rule": "#d0d7de",
        "table_text": "#1f2328",
        "code_bg": "#f6f8fa",
        "code_header_bg": "#eaeef2",
        "code_header_text": "#57606a",
        "code_border": "#d0d7de",
        "thinking_bg": "#f6f8fa",
        "thinking_text": "#656d76",
        "button_bg": "#e7ebef",
        "button_bg_down": "#cfd6dd",
        "button_text": "#1f2328",
        "input_bg": "#ffffff",
        "input_border": "#d0d7de",
        "input_border_focus": "#2f6feb",
        "chip_bg": "#e7ebef",
        "jump_bg": "#2f6feb",
        "text_selection": "#2f6feb4d",
        # app shell (ui/app.py, conversation_list, info_panel, banner, dialogs, benchmark_screen)
        "surface": "#ffffff",
        "surface_alt": "#eef1f4",
        "sidebar_bg": "#eceef1",
        "topbar_bg": "#ffffff",
        "border": "#d8dee4",
        "selection": "#dce6fa",
        "hover": "#e2e6eb",
        "scrollbar": "#afb8c1",
        "accent_down": "#1f5fd6",
        "success": "#1a7f37",
        "error_bg": "#ffebe9",
        "error_fg": "#cf222e",
        "warning_bg": "#fff8c5",
        "warning_fg": "#9a6700",
    },
    "dark": {
        "window_bg": "#16181d",
        "chat_bg": "#16181d",
        "text": "#e6edf3",
        "text_muted": "#8d96a0",
        "accent": "#4c8dff",
        "accent_text": "#ffffff",
        "danger": "#ff7b72",
        "warning": "#d29922",
        "bubble_user_bg": "#1f3a66",
        "bubble_user_border": "#2c4f86",
        "bubble_assistant_bg": "#22262e",
        "bubble_assistant_border": "#30363d",
        "bubble_system_bg": "#3b3420",
        "quote_bar": "#3d444d",
        "quote_text": "#9198a1",
        "link": "#58a6ff",
        "inline_code": "#ffa198",
        "rule": "#3d444d",
        "table_text": "#e6edf3",
        "code_bg": "#0d1117",
        "code_header_bg": "#1b1f26",
        "code_header_text": "#9198a1",
        "code_border": "#30363d",
        "thinking_bg": "#1b1f26",
        "thinking_text": "#9198a1",
        "button_bg": "#2d333b",
        "button_bg_down": "#3d444d",
        "button_text": "#e6edf3",
        "input_bg": "#0d1117",
        "input_border": "#30363d",
        "input_border_focus": "#4c8dff",
        "chip_bg": "#2d333b",
        "jump_bg": "#4c8dff",
        "text_selection": "#4c8dff66",
        # app shell (ui/app.py, conversation_list, info_panel, banner, dialogs, benchmark_screen)
        "surface": "#1c1f26",
        "surface_alt": "#262b33",
        "sidebar_bg": "#111318",
        "topbar_bg": "#1c1f26",
        "border": "#2a3038",
        "selection": "#22324d",
        "hover": "#232830",
        "scrollbar": "#4b535d",
        "accent_down": "#3a78e8",
        "success": "#3fb950",
        "error_bg": "#3a1d1f",
        "error_fg": "#ff7b72",
        "warning_bg": "#3b3420",
        "warning_fg": "#d29922",
    },
}

# Pygments style used for code blocks in each theme (colors come from the style; background from code_bg).
CODE_STYLES: dict[str, str] = {"light": "friendly", "dark": "monokai"}

# Font names (Roboto, RobotoMono, DejaVuSans) live in ui/fonts.py with the fallback to the system's fonts
# for the scripts they lack; re-exported here with the rest of the look.


def _register_fonts() -> None:
    """Register the fonts Kivy ships under short names: a registered name skips a file search per Label."""
    from kivy.core.text import LabelBase
    from kivy.resources import resource_find

    for name, filename in (("RobotoMono", "RobotoMono-Regular.ttf"), ("DejaVuSans", "DejaVuSans.ttf")):
        path = resource_find(f"data/fonts/{filename}")
        if path:
            LabelBase.register(name=name, fn_regular=path)


_register_fonts()

SIZES: dict[str, float] = {
    "font": sp(15),
    "font_small": sp(12),
    "font_code": sp(13.5),
    "font_h1": sp(24),
    "font_h2": sp(21),
    "font_h3": sp(18),
    "font_h4": sp(16),
    "font_h5": sp(15),
    "font_h6": sp(14),
    "chat_padding": dp(12),
    "message_gap": dp(14),
    "bubble_padding": dp(12),
    "bubble_radius": dp(10),
    "bubble_user_max_frac": 0.78,  # fraction of the chat width
    "bubble_assistant_max_frac": 0.96,
    "block_gap": dp(6),
    "header_height": dp(26),
    "code_header_height": dp(28),
    "code_padding": dp(10),
    "code_radius": dp(6),
    "quote_bar_width": dp(3),
    "quote_indent": dp(14),
    "button_height": dp(26),
    "small_button_width": dp(64),
    "input_min_height": dp(44),
    "input_max_height": dp(180),
    "input_button_width": dp(84),
    "thumb_size": dp(56),
    "chip_height": dp(30),
    "bar_padding": dp(8),
    # app shell
    "font_tiny": sp(11),
    "font_title": sp(17),
    "sidebar_width": dp(280),
    "panel_width": dp(330),
    "topbar_height": dp(52),
}

# Content limits that keep every Label under the GPU's texture size and every frame short.
LIMITS: dict[str, int | float] = {
    "chunk_chars": 1500,  # characters of one text item before it is split
    "chunk_lines": 30,  # lines of one text/code item before it is split
    "stream_code_lines": 6,  # lines of one item of a code block while it streams
    "paste_inline_max": 20_000,  # larger pastes become a "pasted text" chip instead of TextInput text
    "file_max_bytes": MAX_FILE_BYTES,  # an attached text file larger than this is refused (core.attachments)
    # A streaming reply is shown again at most this often (seconds): every update re-renders only the block
    # being written, so the cost of an update does not grow with the reply (bench/ui_stream.py).
    "stream_interval": 0.09,
    "pump_interval": 1 / 20,  # StreamPump hands new text to the main thread at most this often (seconds)
    "follow_epsilon": 0.002,  # scroll_y at or below this counts as "at the end"
}


def hex_color(name: str, theme_name: str | None = None) -> str:
    """Hex color `name` of the given (default: current) theme, for Kivy markup."""
    return PALETTES[theme_name or theme.name][name]


def rgba(name: str, theme_name: str | None = None) -> list[float]:
    """RGBA color `name` of the given (default: current) theme, for canvas instructions."""
    return get_color_from_hex(hex_color(name, theme_name))


class Theme(EventDispatcher):
    """The current theme: `colors` maps each palette key to rgba, `hex` to hex; both change on `name`."""

    name = OptionProperty("light", options=list(PALETTES))
    colors = DictProperty()
    hex = DictProperty()

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._apply()

    def on_name(self, *_: Any) -> None:
        self._apply()

    @property
    def code_style(self) -> str:
        return CODE_STYLES[self.name]

    def _apply(self) -> None:
        palette = PALETTES[self.name]
        self.hex = dict(palette)
        self.colors = {key: get_color_from_hex(value) for key, value in palette.items()}


theme = Theme()
