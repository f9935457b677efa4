"""core.i18n: which language, catalogs compiled at first use (and again when damaged), dates and numbers."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from core import i18n


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "fr"),
        ({"LANG": "fr_CA.UTF-8"}, "fr"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "fr_FR.UTF-8"}, "fr"),
        ({"LANG": "fr_FR.UTF-8", "LC_ALL": "C"}, "en"),
        ({"LANG": "C", "LANGUAGE": "de:fr"}, "fr"),
        ({"LANGUAGE": "", "LANG": "fr_BE.UTF-8"}, "fr"),
    ],
)
def test_the_language_comes_from_the_environment_as_gettext_reads_it(environ, expected) -> None:
    assert i18n.detect_language(environ) == expected


def test_set_language_accepts_locale_names_and_refuses_unknown_ones() -> None:
    assert i18n.set_language("fr_FR.UTF-8") == "fr"
    assert i18n.current_language() == "fr"
    assert i18n.set_language("English") == "en"
    with pytest.raises(ValueError, match="en, fr"):
        i18n.set_language("klingon")
    assert i18n.current_language() == "en"


def test_auto_follows_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    assert i18n.set_language("auto") == "fr"
    assert i18n.babel_locale() == "fr_FR"
    monkeypatch.setenv("LANG", "C.UTF-8")
    assert i18n.set_language(None) == "en"


def test_listeners_hear_each_change_once() -> None:
    heard: list[str] = []
    i18n.add_listener(heard.append)
    try:
        i18n.set_language("fr")
        i18n.set_language("fr")
        i18n.set_language("en")
    finally:
        i18n.remove_listener(heard.append)
    assert heard == ["fr", "en"]


def test_french_strings_come_from_the_shipped_catalogs() -> None:
    i18n.set_language("fr")
    assert i18n._("{size} GB").format(size="1,5") == "1,5 Go"
    assert i18n.format_size(1_500_000_000) == "1,5\u00a0Go".replace("\u00a0", " ")
    i18n.set_language("en")
    assert i18n.format_size(1_500_000_000) == "1.5 GB"
    assert i18n._("an unknown string") == "an unknown string"


PO = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\\n"
"Plural-Forms: nplurals=2; plural=(n > 1);\\n"

msgid "Hello"
msgstr "Bonjour"

msgid "{n} file"
msgid_plural "{n} files"
msgstr[0] "{n} fichier"
msgstr[1] "{n} fichiers"
"""


@pytest.fixture
def own_catalogs(tmp_path: Path, monkeypatch):
    folder = tmp_path / "locale" / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "test.po").write_text(PO, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path / "locale")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(i18n, "_translations", {})
    i18n.set_language("fr")
    return folder


def test_french_plurals_treat_zero_and_one_as_singular(own_catalogs) -> None:
    forms = [i18n.ngettext("{n} file", "{n} files", n).format(n=n) for n in (0, 1, 2)]
    assert forms == ["0 fichier", "1 fichier", "2 fichiers"]


def test_catalogs_are_compiled_once_into_the_cache(own_catalogs, tmp_path: Path) -> None:
    assert i18n._("Hello") == "Bonjour"
    cached = list((tmp_path / "cache" / "ia-v3" / "locale" / "fr").glob("test-*.mo"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    i18n._translations.clear()
    assert i18n._("Hello") == "Bonjour"
    assert cached[0].stat().st_mtime_ns == stamp  # read back, not compiled again


def test_a_damaged_cache_file_is_compiled_again(own_catalogs, tmp_path: Path) -> None:
    assert i18n._("Hello") == "Bonjour"
    (cached,) = (tmp_path / "cache" / "ia-v3" / "locale" / "fr").glob("test-*.mo")
    cached.write_bytes(b"\xde\x12\x04\x95 cut short")
    i18n._translations.clear()
    assert i18n._("Hello") == "Bonjour"
    assert cached.read_bytes()[:4] == b"\xde\x12\x04\x95" and len(cached.read_bytes()) > 40


def test_a_changed_catalog_replaces_its_cached_form(own_catalogs, tmp_path: Path) -> None:
    assert i18n._("Hello") == "Bonjour"
    po = own_catalogs / "test.po"
    po.write_text(PO.replace("Bonjour", "Salut"), encoding="utf-8")
    i18n._translations.clear()
    assert i18n._("Hello") == "Salut"
    assert len(list((tmp_path / "cache" / "ia-v3" / "locale" / "fr").glob("test-*.mo"))) == 1


def test_an_unwritable_cache_compiles_in_memory(own_catalogs, tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the cache folder would be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert i18n._("Hello") == "Bonjour"


def test_a_broken_catalog_leaves_its_strings_in_english(own_catalogs) -> None:
    po = own_catalogs / "test.po"
    po.write_text(PO.replace("plural=(n > 1);", "plural=(n > ;"), encoding="utf-8")  # a hand-edit gone wrong
    i18n._translations.clear()
    assert i18n._("Hello") == "Hello"


def test_dates_and_numbers_follow_the_locale(monkeypatch) -> None:
    moment = datetime(2026, 12, 4, 22, 54)
    monkeypatch.setenv("LANG", "fr_FR.UTF-8")
    i18n.set_language("auto")
    assert i18n.format_datetime(moment, "short") == "04/12/2026 22:54"
    assert i18n.format_date(moment) == "4 déc. 2026"
    assert i18n.format_number(1234567) == "1\u00a0234\u00a0567"
    assert i18n.format_decimal(12.345, 1) == "12,3"
    assert i18n.format_percent(0.523, 1) == "52,3\u00a0%"
    i18n.set_language("en_GB.UTF-8")
    assert i18n.format_date(moment, "short") == "04/12/2026"
    i18n.set_language("en")
    assert i18n.format_datetime(moment, "short") == "12/4/26, 10:54\u202fPM".replace("\u202f", "\u00a0")
    assert i18n.format_number(1234567) == "1,234,567"
    assert i18n.format_decimal(12.346, 2) == "12.35"
    assert i18n.format_percent(0.5) == "50%"


def test_the_locale_need_not_exist_on_the_system() -> None:
    """Only C.UTF-8 may be generated: French still comes out, and nothing warns about the locale."""
    env = dict(os.environ, LANG="fr_FR.UTF-8", LC_ALL="fr_FR.UTF-8", PYTHONWARNINGS="error")
    code = "from core import i18n; print(i18n._('{size} GB').format(size=i18n.format_decimal(1.5)))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1,5 Go"
