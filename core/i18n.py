"""The interface's language (gettext catalogs, French and English) and locale-aware dates and numbers.

Every string IA_V3 shows goes through ``_()`` (or ``ngettext()`` when it depends on a count); strings defined
where no language is known yet (tables of labels at import time) are marked with ``N_()`` and translated
where they are shown: ``_(LABELS[key])``. Messages take named placeholders, filled after translation::

    _("Model {name} is not on this server.").format(name=model)

The source language is English. The catalogs are ``core/locale/<lang>/LC_MESSAGES/*.po`` (one file per area:
``cli.po``, ``ui.po``, ``core.po``, ...; a language's files are merged into one catalog). They are compiled
to ``.mo`` at first use, into the user's cache folder (kept until the ``.po`` changes), or in memory when no
cache folder can be written. ``tools/i18n_catalogs.py`` extracts the marked strings and updates the ``.po``
files; tests/i18n checks that every visible string is marked and translated.

The language is chosen, in order, by ``set_language()`` (the CLI's ``--lang``, the app's setting), by the
environment as gettext reads it (``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``), else English. Dates
and numbers are formatted with Babel's CLDR data for the locale of that language (``fr_FR.UTF-8`` gives
``4 déc. 2026, 22:54`` and ``1 234,5``), whatever locales the system has generated.
"""

from __future__ import annotations

import contextlib
import gettext
import hashlib
import io
import logging
import os
import struct
import threading
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path

__all__ = [
    "LANGUAGES",
    "LOCALE_DIR",
    "N_",
    "_",
    "add_listener",
    "babel_locale",
    "current_language",
    "detect_language",
    "format_date",
    "format_datetime",
    "format_decimal",
    "format_number",
    "format_percent",
    "format_size",
    "format_time",
    "language_name",
    "ngettext",
    "normalize_language",
    "remove_listener",
    "set_language",
]

LANGUAGES = ("en", "fr")  # English is the source language
SOURCE_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
# Each language's name in itself, for the settings' choice.
_NAMES = {"en": "English", "fr": "Français"}  # i18n: each language named in itself, in every language

_lock = threading.Lock()
_language: str | None = None  # None: not chosen yet, detect_language() at first use
_region: str | None = None  # the territory from the environment (FR, CA, GB, ...) when it matches
_translations: dict[str, gettext.NullTranslations] = {}
_listeners: list[Callable[[str], None]] = []
log = logging.getLogger(__name__)


def normalize_language(value: str | None) -> str | None:
    """``"fr_FR.UTF-8"``, ``"fr-CA"``, ``"FR"``, ``"French"`` -> ``"fr"``; ``"C"``, ``"POSIX"`` -> ``"en"``;
    None for anything IA_V3 has no catalog for."""
    if not value:
        return None
    text = value.strip()
    if text.upper() in ("C", "POSIX") or text.upper().startswith(("C.", "POSIX.")):
        return SOURCE_LANGUAGE
    base = text.split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    if base in LANGUAGES:
        return base
    by_name = {"english": "en", "anglais": "en", "french": "fr", "français": "fr", "francais": "fr"}
    return by_name.get(text.lower())


def _region_of(value: str) -> str | None:
    head = value.split(".")[0].split("@")[0].replace("-", "_")
    parts = head.split("_")
    return parts[1].upper() if len(parts) > 1 and parts[1].isalpha() else None


def detect_language(environ: Mapping[str, str] | None = None) -> str:
    """The language the environment asks for, as gettext reads it: the first of ``LANGUAGE`` (a ``:`` list),
    ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` that is set; English when none is, or when it names a language
    IA_V3 has no catalog for."""
    env = os.environ if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if not value:
            continue
        items = value.split(":") if name == "LANGUAGE" else [value]
        for item in items:
            lang = normalize_language(item)
            if lang is not None:
                return lang
        if name != "LANGUAGE":
            return SOURCE_LANGUAGE  # gettext stops at the first locale variable that is set
    return SOURCE_LANGUAGE


def _detect_region(lang: str, environ: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_TIME", "LC_NUMERIC", "LC_MESSAGES", "LANG"):
        value = env.get(name, "")
        if value and normalize_language(value) == lang:
            return _region_of(value)
    return None


def current_language() -> str:
    """The language in use: ``"en"`` or ``"fr"``."""
    global _language, _region
    if _language is None:
        with _lock:
            if _language is None:
                lang = detect_language()
                _region = _detect_region(lang)
                _language = lang
    return _language


def set_language(value: str | None) -> str:
    """Use ``value`` (``"fr"``, ``"fr_FR.UTF-8"``, ``"en"``...; None or ``"auto"``: the environment's) from now
    on; returns the language chosen. Listeners (the window's texts) are told when it changes. Raises
    ValueError naming the languages there are, for one IA_V3 has no catalog for."""
    global _language, _region
    if value is None or value.strip().lower() in ("", "auto", "system"):
        lang = detect_language()
        region = _detect_region(lang)
    else:
        lang = normalize_language(value)
        if lang is None:
            raise ValueError(
                _("No interface language {value!r}: choose one of {choices}.").format(
                    value=value, choices=", ".join(LANGUAGES)
                )
            )
        region = _region_of(value) if "_" in value or "-" in value else _detect_region(lang)
    with _lock:
        changed = lang != _language
        _language, _region = lang, region
    if changed:
        for listener in list(_listeners):
            try:
                listener(lang)
            except Exception:  # one view failing to re-make its texts must not stop the others
                log.exception("a listener failed after the change to %s", lang)
    return lang


def language_name(lang: str) -> str:
    """The language's name in itself (``Français``), as the settings list it."""
    return _NAMES.get(lang, lang)


def add_listener(callback: Callable[[str], None]) -> None:
    """Call ``callback(lang)`` after each change of language (the window re-translates its texts)."""
    if callback not in _listeners:
        _listeners.append(callback)


def remove_listener(callback: Callable[[str], None]) -> None:
    with contextlib.suppress(ValueError):
        _listeners.remove(callback)


# --- catalogs ---------------------------------------------------------------------------------------------


def _cache_dir() -> Path | None:
    base = os.environ.get("XDG_CACHE_HOME") or (Path.home() / ".cache")
    return Path(base) / "ia-v3" / "locale"


def _compile(po_bytes: bytes) -> bytes:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    catalog = read_po(io.BytesIO(po_bytes))
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def _mo_bytes(po: Path, *, fresh: bool = False) -> bytes:
    """The compiled form of ``po``: from the cache when the cache holds this very ``.po``'s compilation
    (named by its hash) and ``fresh`` is false, else compiled now and cached where the cache folder can be
    written."""
    data = po.read_bytes()
    digest = hashlib.sha256(data).hexdigest()[:16]
    cache = _cache_dir()
    target = cache / po.parent.parent.name / f"{po.stem}-{digest}.mo" if cache else None
    if target is not None and not fresh:
        with contextlib.suppress(OSError):
            return target.read_bytes()
    mo = _compile(data)
    if target is not None:
        with contextlib.suppress(OSError):
            target.parent.mkdir(parents=True, exist_ok=True)
            for stale in target.parent.glob(f"{po.stem}-*.mo"):
                stale.unlink(missing_ok=True)
            tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
            tmp.write_bytes(mo)
            os.replace(
                tmp, target
            )  # a cache file: whole or absent; the catalogs themselves are in the package
    return mo


def _load(lang: str) -> gettext.NullTranslations:
    folder = LOCALE_DIR / lang / "LC_MESSAGES"
    result: gettext.NullTranslations | None = None
    for po in sorted(folder.glob("*.po")):
        try:
            try:
                translations = gettext.GNUTranslations(io.BytesIO(_mo_bytes(po)))
            except (OSError, ValueError, SyntaxError, struct.error, UnicodeDecodeError):
                # a damaged cache file (cut short, overwritten): compile the catalog again
                translations = gettext.GNUTranslations(io.BytesIO(_mo_bytes(po, fresh=True)))
        except Exception:  # noqa: BLE001 - a broken catalog leaves its strings in English, never stops the program
            continue
        if result is None:
            result = translations
        else:
            result.add_fallback(translations)
    return result if result is not None else gettext.NullTranslations()


def _translations_for(lang: str) -> gettext.NullTranslations:
    found = _translations.get(lang)
    if found is None:
        with _lock:
            found = _translations.get(lang)
            if found is None:
                found = _translations[lang] = _load(lang)
    return found


def _(message: str) -> str:
    """``message`` in the interface's language."""
    return _translations_for(current_language()).gettext(message)


def N_(message: str) -> str:
    """Marks ``message`` for translation without translating it (translated where it is shown)."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message that suits the count ``n`` (French: 0 and 1 are singular)."""
    return _translations_for(current_language()).ngettext(singular, plural, n)


# --- dates and numbers ------------------------------------------------------------------------------------


def babel_locale() -> str:
    """The CLDR locale dates and numbers are written in: the language with the environment's territory when
    it names the same language (``fr_CA``), else the language's own (``fr``, ``en``)."""
    lang = current_language()
    region = _region
    if region:
        from babel import Locale, UnknownLocaleError

        try:
            Locale.parse(f"{lang}_{region}")
            return f"{lang}_{region}"
        except (UnknownLocaleError, ValueError):
            pass
    return lang


def _plain(text: str) -> str:
    # CLDR writes U+202F (narrow no-break space) in French numbers and times; not every font has it, every
    # font has U+00A0, which breaks no line either.
    return text.replace("\u202f", "\u00a0")


def format_datetime(value: datetime, length: str = "medium") -> str:
    """A date and time (``length``: short, medium, long) as the locale writes it."""
    from babel.dates import format_datetime as fmt

    return _plain(fmt(value, format=length, locale=babel_locale()))


def format_date(value: date | datetime, length: str = "medium") -> str:
    from babel.dates import format_date as fmt

    return _plain(fmt(value, format=length, locale=babel_locale()))


def format_time(value: datetime, length: str = "short") -> str:
    from babel.dates import format_time as fmt

    return _plain(fmt(value, format=length, locale=babel_locale()))


def format_number(value: int | float) -> str:
    """A count with the locale's grouping: ``12,345`` / ``12 345``."""
    from babel.numbers import format_decimal as fmt

    return _plain(fmt(value, locale=babel_locale()))


def format_decimal(value: float, digits: int = 1) -> str:
    """A measure with exactly ``digits`` decimals: ``12.3`` / ``12,3``."""
    from babel.numbers import format_decimal as fmt

    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return _plain(fmt(value, format=pattern, locale=babel_locale()))


def format_percent(fraction: float, digits: int = 0) -> str:
    """A fraction (0.5) as a percentage: ``50%`` / ``50 %``."""
    from babel import Locale
    from babel.numbers import format_percent as fmt

    locale = Locale.parse(babel_locale())
    pattern = locale.percent_formats[None].pattern  # "#,##0%" in English, "#,##0 %" in French
    if digits > 0:
        last = pattern.rindex("0")
        pattern = pattern[: last + 1] + "." + "0" * digits + pattern[last + 1 :]
    return _plain(fmt(fraction, format=pattern, locale=locale))


def format_size(n_bytes: int | float) -> str:
    """A size in bytes with the locale's unit names (``1.5 GB`` / ``1,5 Go``)."""
    units = (N_("{size} B"), N_("{size} KB"), N_("{size} MB"), N_("{size} GB"), N_("{size} TB"))
    value = float(n_bytes)
    index = 0
    while abs(value) >= 1000 and index < len(units) - 1:
        value /= 1000
        index += 1
    size = format_number(int(value)) if index == 0 else format_decimal(value, 1 if value < 100 else 0)
    return _(units[index]).format(size=size)
