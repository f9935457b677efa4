"""The info panel's settings section: the interface's language (Automatic, English, Français), remembered in
config.toml (settings.language) and applied at once to the whole window."""

from __future__ import annotations

from typing import Any

from kivy.app import App
from kivy.properties import StringProperty

from core import i18n
from core.errors import IAError
from core.i18n import _
from ui.panels.base import PanelSection, load_rule

__all__ = ["LANGUAGE_CHOICES", "SettingsSection", "language_label"]

LANGUAGE_CHOICES = ("auto", "en", "fr")  # config.Settings.language's values


def language_label(code: str, template: str = "") -> str:
    """A choice's button text: a language's name in itself; "auto" says which one the system asks for
    (``template``: the translated "Automatic ({language})", passed by the kv rule so that it follows a change)."""
    if code == "auto":
        template = template or _("Automatic ({language})")
        return template.format(language=i18n.language_name(i18n.detect_language()))
    return i18n.language_name(code)


class SettingsSection(PanelSection):
    """The language chooser; ``language`` is the choice shown ("auto" | "en" | "fr")."""

    label_of = staticmethod(language_label)
    language = StringProperty("auto")
    error = StringProperty("")

    def on_kv_post(self, *_args: Any) -> None:
        app = App.get_running_app()
        settings = getattr(app, "settings", None)
        if settings is not None:
            self.language = settings.language

    def choose_language(self, code: str) -> None:
        """Use language ``code`` from now on and remember it: through the App's ``set_language`` when it has
        one, else here (core.i18n.set_language, then settings.language saved to config.toml)."""
        if code not in LANGUAGE_CHOICES:
            return
        app = App.get_running_app()
        self.error = ""
        setter = getattr(app, "set_language", None)
        if callable(setter):
            setter(code)
        else:
            from config import save_settings

            i18n.set_language(code)
            app.settings.language = code
            try:
                save_settings(app.settings, ["language"])
            except IAError as exc:
                self.error = str(exc)
        self.language = code


load_rule(__file__)
