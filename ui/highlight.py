"""Syntax highlighting for code blocks: Pygments tokens turned into Kivy markup colors.

Colors come from the Pygments style that config_ui names for the theme; every piece of code is escaped
(`&`, `[`, `]`) so code can never inject markup, and characters RobotoMono lacks get a system font
(ui/fonts.py). Results are cached because a streaming code block is
re-highlighted chunk by chunk and only its last chunk changes.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from pygments import lex
from pygments.lexer import Lexer
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.styles import get_style_by_name
from pygments.token import Token, _TokenType
from pygments.util import ClassNotFound

from ui.fonts import markup_text

__all__ = ["highlight_markup", "lexer_for", "token_style", "warm_up"]


@lru_cache(maxsize=64)
def lexer_for(lang: str) -> Lexer:
    """The Pygments lexer for a fence's language name, plain text when unknown or empty."""
    name = (lang or "").strip().split()[0].lower() if (lang or "").strip() else ""
    options = {"stripnl": False, "ensurenl": False, "stripall": False}
    if name:
        try:
            return get_lexer_by_name(name, **options)
        except ClassNotFound:
            pass
    return TextLexer(**options)


@lru_cache(maxsize=2048)
def token_style(style_name: str, ttype: _TokenType) -> tuple[str | None, bool, bool]:
    """(hex color or None, bold, italic) for a token type in a Pygments style."""
    style = get_style_by_name(style_name)
    info = style.style_for_token(ttype)
    color = f"#{info['color']}" if info.get("color") else None
    return color, bool(info.get("bold")), bool(info.get("italic"))


@lru_cache(maxsize=4096)
def highlight_markup(code: str, lang: str, style_name: str) -> str:
    """Kivy markup for `code`: each token wrapped in [color]/[b]/[i] from the style, all text escaped."""
    parts: list[str] = []
    for ttype, value in lex(code, lexer_for(lang)):
        if not value:
            continue
        text = markup_text(value, "mono")
        color, bold, italic = (
            token_style(style_name, ttype) if ttype is not Token.Text else (None, False, False)
        )
        if bold:
            text = f"[b]{text}[/b]"
        if italic:
            text = f"[i]{text}[/i]"
        if color:
            text = f"[color={color}]{text}[/color]"
        parts.append(text)
    return "".join(parts)


_warmed = threading.Event()


def warm_up(langs: tuple[str, ...] = ("python", "bash", "json", "javascript")) -> None:
    """Build the common lexers on a background thread once: Pygments compiles a lexer's rules on first use
    (about 0.1 s for Python), which would otherwise stall the frame that shows the first code block."""
    if _warmed.is_set():
        return
    _warmed.set()

    def _build() -> None:
        for lang in langs:
            highlight_markup("x = 1\n", lang, "default")

    threading.Thread(target=_build, name="ia-pygments-warm-up", daemon=True).start()
