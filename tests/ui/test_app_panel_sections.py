"""The info panel is one widget per section (issue #11 §9), each with its own class, module and kv rule, and
InfoPanel composes them; then the panel in French (issue #11 §1): the language chooser switches the whole panel
at once, texts made in Python included, dates and numbers as French writes them, and the choice is remembered."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from core import i18n
from core.embedded.scripted import Script
from tests.ui.app_harness import AppDriver, app_driver_fixture  # noqa: F401

pytestmark = pytest.mark.ui

EXPECTED = [
    ("BackendSection", "backend"),
    ("ModelSection", "model"),
    ("ChatSection", "chat"),
    ("ProfilesSection", "profiles"),
    ("ModelsSection", "models"),
    ("DevSection", "dev"),
    ("SettingsSection", "settings"),
]


def test_each_section_is_its_own_widget_with_its_own_kv_rule(app_driver):
    from kivy.lang import Builder

    from ui.panels.base import PanelSection

    d = app_driver
    d.ready()
    info = d.ids.info
    sections = list(reversed(info.ids.column.children))
    assert [(type(s).__name__, type(s).__module__) for s in sections] == [
        (cls, f"ui.panels.{module}") for cls, module in EXPECTED
    ]
    for section, (_cls, module) in zip(sections, EXPECTED, strict=True):
        assert isinstance(section, PanelSection)
        rules = {Path(rule.ctx.filename).name for rule in Builder.match(section)}
        assert f"{module}.kv" in rules and "info_panel.kv" not in rules, (module, rules)
        assert section.ids, f"{module}: its widgets come from its own rule"
        assert section.height > 0 and section.get_root_window() is not None
    # The widgets the app and the tests reach through the panel live in their section.
    owner = {
        "host_input": "BackendSection",
        "picker": "ModelSection",
        "system_input": "ChatSection",
        "profile_new_btn": "ProfilesSection",
        "pull_btn": "ModelsSection",
        "dev_switch": "DevSection",
        "language_fr": "SettingsSection",
    }
    for key, cls in owner.items():
        parent = info.ids[key].parent
        while not isinstance(parent, PanelSection):
            parent = parent.parent
        assert type(parent).__name__ == cls, key
    # The panel's attributes read and write its sections: status reaches the light and the Delete button.
    info.status = "offline"
    assert info.ids.backend_section.status == "offline" and info.ids.models_section.status == "offline"
    d.h.settle(2)
    assert info.ids.delete_model_btn.disabled
    info.status = "ready"
    d.h.settle(2)
    assert not info.ids.delete_model_btn.disabled


def _config(home: Path) -> dict:
    return tomllib.loads((home / "config.toml").read_text(encoding="utf-8"))


def test_the_panel_in_french_from_the_language_chooser(app_driver):
    d = app_driver
    d.ready()
    info = d.ids.info
    d.server.engine.enqueue(Script(["Loaded."]))
    d.type_and_send("load the model")
    d.wait_reply_end()
    d.press(info.ids.dev_switch)
    d.wait(lambda: "First token" in info.dev_stats, "the DEV figures")
    d.wait(lambda: info.ids.running_box.children, "the loaded model's row")
    assert info.ids.apply_btn.text == "Apply to this chat"
    assert info.ids.language_auto.primary and info.ids.language_auto.text == "Automatic (English)"

    d.press(info.ids.language_fr)
    assert i18n.current_language() == "fr"
    d.h.settle(4)
    # kv texts
    assert info.ids.apply_btn.text == "Appliquer à cette discussion"
    assert info.ids.reconnect_btn.text == "Reconnecter"
    assert info.ids.profile_new_btn.text == "Nouveau profil depuis cette discussion"
    assert info.ids.refresh_btn.text == "Actualiser" and info.ids.language_fr.primary
    assert info.ids.language_auto.text == "Automatique (English)"  # the system's language, named in itself
    # texts made in Python follow at once, numbers and dates the French way
    assert info.details.startswith("[b]Famille[/b]") or "[b]Paramètres[/b]" in info.details
    assert "[b]Premier token[/b]" in info.dev_stats and " s" in info.dev_stats
    row = info.ids.running_box.children[0]
    assert " Mo · " in row.memory or " ko · " in row.memory
    assert info.ids.created_label.text.startswith("Créée le ")
    months = (
        "janv.",
        "févr.",
        "mars",
        "avr.",
        "mai",
        "juin",
        "juil.",
        "août",
        "sept.",
        "oct.",
        "nov.",
        "déc.",
    )
    assert any(m in info.ids.created_label.text for m in months)
    assert _config(d.home).get("language") == "fr"
    # sentences made before the change are made again: the server's note, the fit verdict, this machine
    d.wait(lambda: info.note.startswith("Ollama utilisé"), "the server's note in French")
    d.wait(
        lambda: "needs about" not in info.fit_text and "Cette machine" in info.machine_text,
        "the fit in French",
    )
    d.wait(lambda: "no GPU" not in info.machine_text, "this machine in French")
    info.ids.scroll.scroll_y = 1
    d.shot("app_panel_fr")
    info.ids.scroll.scroll_to(info.ids.profiles_section, animate=False)
    d.shot("app_panel_fr_profiles")

    d.press(info.ids.language_en)
    d.h.settle(4)
    assert info.ids.apply_btn.text == "Apply to this chat" and "[b]First token[/b]" in info.dev_stats
    assert _config(d.home).get("language") == "en"
    d.press(info.ids.language_auto)
    d.h.settle(2)
    assert _config(d.home).get("language") == "auto" and i18n.current_language() == "en"  # LANG=C.UTF-8
