"""The info panel's backend section: the status light and sentence of the model server in use, the box to
switch to another server (Ollama, or OpenAI-compatible) and Reconnect."""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from core.i18n import _
from ui.panels.base import PanelSection, load_rule

__all__ = ["BackendSection"]


class BackendSection(PanelSection):
    """Events: on_reconnect, on_switch_host(host) ("" = the default server)."""

    status = StringProperty("connecting")  # connecting | ready | offline: the light's colour
    note = StringProperty("")
    host_text = StringProperty("")  # the server chosen in the panel ("" = the default, host_hint)
    host_hint = StringProperty("")
    host_error = StringProperty("")  # why the last switch did not happen (the previous server is kept)
    switching = BooleanProperty(False)

    __events__ = ("on_reconnect", "on_switch_host")

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("note", _("Connecting…"))
        kwargs.setdefault("host_hint", _("server address"))
        super().__init__(**kwargs)

    def switch_host(self) -> None:
        """Connect: ask the app to use the server typed in the box ("" = the default)."""
        if not self.switching:
            self.dispatch("on_switch_host", self.ids.host_input.text.strip())

    def on_reconnect(self) -> None:
        """Forwarded by InfoPanel."""

    def on_switch_host(self, host: str) -> None:
        """Forwarded by InfoPanel."""


load_rule(__file__)
