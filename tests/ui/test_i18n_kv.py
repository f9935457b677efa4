"""``_()`` in kv rules (ui/i18n.py): a rule's text is translated, and follows a change of language at once,
on a real window; a rule whose widget is gone is dropped, not called."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from core import i18n

pytestmark = pytest.mark.ui

PO = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\\n"
"Plural-Forms: nplurals=2; plural=(n > 1);\\n"

msgid "Run benchmark"
msgstr "Lancer le banc d'essai"

msgid "Cancel"
msgstr "Annuler"
"""


@pytest.fixture
def catalogs(tmp_path: Path, monkeypatch):
    folder = tmp_path / "locale" / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "test.po").write_text(PO, encoding="utf-8")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path / "locale")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(i18n, "_translations", {})


def test_kv_texts_follow_the_language(kivy_harness, catalogs) -> None:
    from kivy.lang import Builder

    from ui.i18n import tr

    widget = Builder.load_string(
        "BoxLayout:\n"
        "    busy: False\n"
        "    Button:\n"
        "        id: button\n"
        "        text: _('Cancel') if root.busy else _('Run benchmark')\n"
    )
    kivy_harness.mount(widget)
    button = widget.ids.button
    assert button.text == "Run benchmark"
    i18n.set_language("fr")
    assert button.text == "Lancer le banc d'essai"
    widget.busy = True
    assert button.text == "Annuler"
    kivy_harness.frames(2)
    i18n.set_language("en")
    assert button.text == "Cancel"
    kivy_harness.clear()
    before = len(tr._observers)
    del widget, button
    gc.collect()
    i18n.set_language("fr")  # the rule's widget is gone: its observer is dropped, nothing raises
    assert len(tr._observers) < before
