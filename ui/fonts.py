"""Fonts of the app, and text in any script: the system's fonts (fontconfig) fill in what Roboto lacks.

Kivy draws every Label with one font (Roboto, RobotoMono for code) and shows a box for each character that
font lacks: emoji, Chinese, Japanese, Korean, Arabic, Hebrew, Devanagari... `markup_text` turns plain text
into escaped Kivy markup in which each run the base font lacks is wrapped in ``[font=<file>]`` of a system
font that has it, found through fontconfig (the library every Linux desktop uses to pick fonts): the same
fonts the rest of the desktop falls back to. Arabic and Hebrew runs are shaped (joined letter forms) and put
in display order, as Kivy's text renderer draws every run left to right.

    FONTS["text"], FONTS["mono"], FONTS["symbols"]      # Kivy font names (registered by ui/config_ui.py)
    markup_text("Hello 世界 👋", "text") -> 'Hello [font=/usr/share/fonts/.../NotoSansCJK-Regular.ttc]世界[/font] ...'
    fallback_font("世", "text") -> "/usr/share/fonts/..." | "" (the base font has it) | None (no font has it)
    display_text("مرحبا") -> the same text shaped and in display order (unchanged without right-to-left text)

Pure: no Kivy widget and no window, so the chat model (ui/chat_model.py) uses it without a window. Without
fontconfig (Windows, macOS, a minimal container) text is shown with the base font alone. Fonts made of
bitmaps only (Noto Color Emoji) are skipped: Kivy's renderer (SDL_ttf) cannot scale them, and they would
draw every emoji 109 pixels tall in 15-pixel text; an outline font with emoji (DejaVu Sans, Symbola) is
used instead.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
import re
import threading

__all__ = [
    "FONTS",
    "base_font_file",
    "display_text",
    "fallback_font",
    "fontconfig_available",
    "logical_text",
    "markup_text",
    "text_width",
]

log = logging.getLogger("ia.ui.fonts")

# Kivy font names: "text" and "mono" are the fonts Kivy ships (Roboto, RobotoMono); "symbols" has the
# arrows and triangles Roboto lacks. ui/config_ui.py registers RobotoMono and DejaVuSans under these names.
FONTS: dict[str, str] = {
    "text": "Roboto",
    "mono": "RobotoMono",
    "symbols": "DejaVuSans",
}

# The file of each base font (the coverage that decides what needs a fallback) and the generic family
# asked from fontconfig for what it lacks.
_BASE_FILES = {"text": "Roboto-Regular.ttf", "mono": "RobotoMono-Regular.ttf"}
_FAMILIES = {"text": "sans-serif", "mono": "monospace"}

# Right-to-left scripts (Hebrew, Arabic, Syriac, Thaana, NKo, Samaritan, Mandaic, their presentation forms).
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")


def base_font_file(base: str = "text") -> str:
    """Path of the font file Kivy uses for `base` ("text" or "mono")."""
    import kivy

    return os.path.join(kivy.kivy_data_dir, "fonts", _BASE_FILES.get(base, _BASE_FILES["text"]))


class _FcFontSet(ctypes.Structure):
    _fields_ = [("nfont", ctypes.c_int), ("sfont", ctypes.c_int), ("fonts", ctypes.POINTER(ctypes.c_void_p))]


class _Fontconfig:
    """The few fontconfig calls we need, through ctypes (loaded once, used under a lock)."""

    MATCH_PATTERN = 0
    RESULT_MATCH = 0

    def __init__(self) -> None:
        name = ctypes.util.find_library("fontconfig")
        if not name:
            raise OSError("fontconfig not found")  # i18n: a reason for the log
        fc = ctypes.CDLL(name)
        vp, cp, ci = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
        for fn, restype, argtypes in (
            ("FcInitLoadConfigAndFonts", vp, []),
            ("FcPatternCreate", vp, []),
            ("FcPatternDestroy", None, [vp]),
            ("FcPatternAddString", ci, [vp, cp, cp]),
            ("FcPatternAddCharSet", ci, [vp, cp, vp]),
            ("FcPatternAddBool", ci, [vp, cp, ci]),
            ("FcPatternGetString", ci, [vp, cp, ci, ctypes.POINTER(cp)]),
            ("FcPatternGetCharSet", ci, [vp, cp, ci, ctypes.POINTER(vp)]),
            ("FcPatternGetBool", ci, [vp, cp, ci, ctypes.POINTER(ci)]),
            ("FcCharSetCreate", vp, []),
            ("FcCharSetDestroy", None, [vp]),
            ("FcCharSetAddChar", ci, [vp, ctypes.c_uint32]),
            ("FcCharSetHasChar", ci, [vp, ctypes.c_uint32]),
            ("FcConfigSubstitute", ci, [vp, vp, ci]),
            ("FcDefaultSubstitute", None, [vp]),
            ("FcFontSort", ctypes.POINTER(_FcFontSet), [vp, vp, ci, vp, ctypes.POINTER(ci)]),
            ("FcFontSetDestroy", None, [ctypes.POINTER(_FcFontSet)]),
            ("FcFreeTypeQuery", vp, [cp, ci, vp, ctypes.POINTER(ci)]),
        ):
            func = getattr(fc, fn)
            func.restype = restype
            func.argtypes = argtypes
        self.fc = fc
        self.config = fc.FcInitLoadConfigAndFonts()
        if not self.config:
            raise OSError("fontconfig could not load its configuration")  # i18n: a reason for the log
        self._coverage: dict[str, ctypes.c_void_p | None] = {}

    def base_has(self, base: str, char: int) -> bool:
        """Does the base font's file have a glyph for code point `char`?"""
        if base not in self._coverage:
            count = ctypes.c_int(0)
            pattern = self.fc.FcFreeTypeQuery(base_font_file(base).encode(), 0, None, ctypes.byref(count))
            charset = ctypes.c_void_p()
            if pattern and self.fc.FcPatternGetCharSet(pattern, b"charset", 0, ctypes.byref(charset)) == 0:
                self._coverage[base] = charset  # owned by the pattern, which is kept for the process
            else:
                self._coverage[base] = None
        charset = self._coverage[base]
        return charset is None or bool(self.fc.FcCharSetHasChar(charset, char))

    def font_for(self, base: str, char: int) -> str | None:
        """The file of the system font fontconfig prefers for `char` in the base's family: an outline font
        (bitmap-only fonts cannot be scaled by Kivy's renderer) whose face 0 has the character."""
        fc = self.fc
        pattern = fc.FcPatternCreate()
        charset = fc.FcCharSetCreate()
        try:
            fc.FcCharSetAddChar(charset, char)
            fc.FcPatternAddString(pattern, b"family", _FAMILIES.get(base, "sans-serif").encode())
            fc.FcPatternAddCharSet(pattern, b"charset", charset)
            fc.FcConfigSubstitute(self.config, pattern, self.MATCH_PATTERN)
            fc.FcDefaultSubstitute(pattern)
            result = ctypes.c_int(0)
            fonts = fc.FcFontSort(self.config, pattern, 1, None, ctypes.byref(result))
            if not fonts:
                return None
            try:
                for k in range(fonts.contents.nfont):
                    font = fonts.contents.fonts[k]
                    found = ctypes.c_void_p()
                    if fc.FcPatternGetCharSet(font, b"charset", 0, ctypes.byref(found)) != 0:
                        continue
                    if not fc.FcCharSetHasChar(found, char):
                        continue
                    outline = ctypes.c_int(1)
                    fc.FcPatternGetBool(font, b"outline", 0, ctypes.byref(outline))
                    if not outline.value:
                        continue
                    path = ctypes.c_char_p()
                    if fc.FcPatternGetString(font, b"file", 0, ctypes.byref(path)) != 0 or not path.value:
                        continue
                    name = os.fsdecode(path.value)
                    if "]" in name or "[" in name:  # cannot be written in a [font=...] tag
                        continue
                    return name
            finally:
                fc.FcFontSetDestroy(fonts)
        finally:
            fc.FcCharSetDestroy(charset)
            fc.FcPatternDestroy(pattern)
        return None


_lock = threading.Lock()
_fc: _Fontconfig | None = None
_fc_failed = False
_choice: dict[tuple[str, str], str | None] = {}  # (base, character) -> "" | file | None


def _fontconfig() -> _Fontconfig | None:
    global _fc, _fc_failed
    if _fc is None and not _fc_failed:
        try:
            _fc = _Fontconfig()
        except (OSError, AttributeError) as exc:
            _fc_failed = True
            log.info("no font fallback: %s", exc)
    return _fc


def fontconfig_available() -> bool:
    """True when fontconfig can be used to find fonts for what the base fonts lack."""
    with _lock:
        return _fontconfig() is not None


def fallback_font(char: str, base: str = "text") -> str | None:
    """ "" when the base font has `char`, else the file of a system font that has it, else None."""
    key = (base, char)
    found = _choice.get(key, False)
    if found is not False:
        return found  # type: ignore[return-value]
    with _lock:
        fc = _fontconfig()
        if fc is None:
            found = ""
        else:
            code = ord(char)
            found = "" if fc.base_has(base, code) else fc.font_for(base, code)
        _choice[key] = found
    return found


def _joins_previous(char: str) -> bool:
    """Marks, joiners and variation selectors belong to the character before them (same font run)."""
    import unicodedata

    return unicodedata.category(char) in ("Mn", "Me", "Cf") or "\ufe00" <= char <= "\ufe0f"


@functools.lru_cache(maxsize=4096)
def display_text(text: str) -> str:
    """`text` with its right-to-left runs shaped (Arabic letters joined) and put in display order, line by
    line; text without right-to-left characters is returned unchanged."""
    if text.isascii() or not _RTL.search(text):
        return text
    try:
        import arabic_reshaper
        from bidi import get_display
    except ImportError:  # the app's dependencies include both; without them the letters stay unjoined
        return text
    lines = text.split("\n")
    return "\n".join(
        get_display(arabic_reshaper.reshape(line)) if _RTL.search(line) else line for line in lines
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("[", "&bl;").replace("]", "&br;")


@functools.lru_cache(maxsize=8192)
def text_width(text: str, font_size: float, bold: bool = False) -> float:
    """The width ``text`` takes on one line in the default font (a layout gives way to it)."""
    from kivy.core.text import Label as CoreLabel

    return float(CoreLabel(text=text, font_size=font_size, bold=bold).get_extents(text)[0])


def markup_text(text: str, base: str = "text") -> str:
    """Escaped Kivy markup showing plain `text` in the base font ("text" or "mono"), with each run that
    font lacks in a system font that has it; right-to-left runs shaped and in display order."""
    if text.isascii():  # the base fonts have every ASCII character: the common case stays cheap
        return _escape(text)
    text = display_text(text)
    out: list[str] = []
    run: list[str] = []
    run_font = ""
    for ch in text:
        if ch.isascii() or (run and _joins_previous(ch)):
            font = "" if ch.isascii() else run_font
        else:
            found = fallback_font(ch, base)
            font = found or ""  # None (no font has it): left to the base font, which shows a box
        if font != run_font and run:
            out.append(
                f"[font={run_font}]{_escape(''.join(run))}[/font]" if run_font else _escape("".join(run))
            )
            run = []
        run_font = font
        run.append(ch)
    if run:
        out.append(f"[font={run_font}]{_escape(''.join(run))}[/font]" if run_font else _escape("".join(run)))
    return "".join(out)


def logical_text(text: str) -> str:
    """The inverse of display_text: shaped letters back to plain ones, right-to-left runs back in reading
    order (what copying displayed text should give)."""
    if text.isascii() or not _RTL.search(text):
        return text
    try:
        from bidi import get_display
    except ImportError:
        return text
    import unicodedata

    def plain(line: str) -> str:
        line = "".join(
            unicodedata.normalize("NFKC", ch)
            if "\ufb50" <= ch <= "\ufdff" or "\ufe70" <= ch <= "\ufefc"
            else ch
            for ch in line
        )
        return get_display(line) if _RTL.search(line) else line

    return "\n".join(plain(line) for line in text.split("\n"))
