"""What every section of the info panel shares: the small widgets of its kv rules (PanelTitle, PanelText,
PanelButton, PanelInput, OptLabel, PillSwitch in base.kv), ``PanelSection`` (the base class of a section) and
``follow_language`` (re-set a Python-made text when the interface's language changes)."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

import ui.i18n  # noqa: F401  (_() in the kv rules)
from core import i18n

__all__ = ["FIT_SEP", "PanelSection", "PillSwitch", "follow_language", "load_rule"]

FIT_SEP = "  ·  "  # between a model's name, size and fit in the picker


def follow_language(method: Callable[[], Any]) -> None:
    """Call the bound ``method`` after each change of language, for as long as its object lives (a weak
    reference: a section that is gone is forgotten, never kept alive by the listener)."""
    ref = weakref.WeakMethod(method)

    def listener(_lang: str) -> None:
        bound = ref()
        if bound is None:
            i18n.remove_listener(listener)
        else:
            bound()

    i18n.add_listener(listener)


class PillSwitch(ButtonBehavior, Widget):
    """A small on/off switch drawn in the theme's colors; a click toggles ``active``."""

    active = BooleanProperty(False)

    def on_release(self) -> None:
        self.active = not self.active


class PanelSection(BoxLayout):
    """One section of the info panel: a vertical box as tall as its content. Each section has its own class, its
    own kv rule (ui/panels/<section>.kv) and its own events; InfoPanel composes them."""


def load_rule(module_file: str) -> None:
    """Load the kv file next to ``module_file`` (after ui.i18n, so its rules may call ``_()``)."""
    path = str(Path(module_file).with_suffix(".kv"))
    if path not in Builder.files:
        Builder.load_file(path)


load_rule(__file__)
