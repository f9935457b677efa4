"""The info panel's "this chat" section: when the conversation was created, its own system prompt and Ollama
options, and the thinking switch (for a model that can think); "Apply to this chat" raises on_chat_settings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from kivy.properties import BooleanProperty, DictProperty, StringProperty

from core.i18n import _, format_date, format_time
from ui.panels.base import PanelSection, follow_language, load_rule

__all__ = ["OPTION_FIELDS", "ChatSection", "chat_created", "format_when", "parse_options"]

# Options a chat can override: (key, type, lower bound, upper bound, hint).
OPTION_FIELDS: tuple[tuple[str, type, float, float, str], ...] = (
    ("temperature", float, 0.0, 2.0, "0.8"),
    ("top_p", float, 0.0, 1.0, "0.9"),
    ("num_ctx", int, 256, 1_048_576, "model"),
    ("num_predict", int, -2, 1_048_576, "-1"),
    ("seed", int, -(2**31), 2**31 - 1, "random"),
)


def format_when(when: datetime) -> str:
    """A moment in local time as the interface's language writes it: "Dec 4, 2026, 8:31 PM", French
    "4 déc. 2026, 20:31" (naive = UTC)."""
    local = (when if when.tzinfo is not None else when.replace(tzinfo=UTC)).astimezone()
    return f"{format_date(local, 'medium')}, {format_time(local, 'short')}"


def chat_created(conv: Any | None, template: str = "") -> str:
    """The "this chat" section's first line: when the conversation on screen was created. ``template`` is the
    translated "Created {when}" (the kv rule passes it, so the line follows a change of language)."""
    if conv is None:
        return _("New chat: saved with its first message.")
    return (template or _("Created {when}")).format(when=format_when(conv.created))


def parse_options(fields: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """Read the option fields: empty means "model default"; bad values give a message and are left out."""
    options: dict[str, Any] = {}
    errors: list[str] = []
    for key, kind, low, high, _hint in OPTION_FIELDS:
        raw = (fields.get(key) or "").strip()
        if not raw:
            continue
        try:
            value = kind(raw) if kind is float else int(raw)
        except ValueError:
            if kind is float:
                errors.append(_("{key} must be a number, not '{raw}'").format(key=key, raw=raw))
            else:
                errors.append(_("{key} must be a whole number, not '{raw}'").format(key=key, raw=raw))
            continue
        if not low <= value <= high:
            errors.append(
                _("{key} must be between {low} and {high}, not {raw}").format(
                    key=key, low=f"{low:g}", high=f"{high:g}", raw=raw
                )
            )
            continue
        options[key] = value
    return options, errors


def option_fields(options: Mapping[str, Any]) -> dict[str, str]:
    """The option boxes' texts for ``options`` ("" = the model's default)."""
    return {key: ("" if options.get(key) is None else str(options[key])) for key, *_rest in OPTION_FIELDS}


class ChatSection(PanelSection):
    """Event: on_chat_settings(system, options, think), raised by "Apply to this chat" (apply_chat_settings)."""

    created_line = staticmethod(chat_created)  # the first line, from app.conv in the kv rule
    has_chat = BooleanProperty(False)
    system_prompt = StringProperty("")
    option_fields = DictProperty({})
    options_error = StringProperty("")
    can_think = BooleanProperty(False)
    think = BooleanProperty(False)
    backend_kind = StringProperty("")

    __events__ = ("on_chat_settings",)

    def __init__(self, **kwargs: Any) -> None:
        self._errors: dict[str, str] = {}
        super().__init__(**kwargs)
        follow_language(self.retranslate)

    def set_chat(self, conv: Any | None, think: bool) -> None:
        """Show a conversation's own system prompt and options."""
        self.has_chat = conv is not None
        self.system_prompt = conv.system_prompt if conv is not None else ""
        self.option_fields = option_fields(conv.options if conv is not None else {})
        self.think = think
        self.options_error = ""
        self._errors = {}

    def read_fields(self) -> tuple[str, dict[str, Any], list[str]]:
        """What the boxes say now: system prompt, the valid options, and a sentence per wrong value."""
        fields = {key: self.ids[f"opt_{key}"].text for key, *_rest in OPTION_FIELDS}
        options, errors = parse_options(fields)
        return self.ids.system_input.text, options, errors

    def fill(self, system: str, options: Mapping[str, Any]) -> None:
        """Put ``system`` and ``options`` in the boxes (a profile being applied); "Apply" still sends them."""
        self.ids.system_input.text = system
        for key, text in option_fields(options).items():
            self.ids[f"opt_{key}"].text = text

    def apply_chat_settings(self) -> None:
        """Read the chat fields; valid values are applied, wrong ones are named and kept in their box."""
        system, options, errors = self.read_fields()
        self._errors = {key: self.ids[f"opt_{key}"].text for key, *_rest in OPTION_FIELDS}
        self._show_errors(errors)
        think = bool(self.ids.think_switch.active) if self.can_think else False
        self.dispatch("on_chat_settings", system, options, think)

    def _show_errors(self, errors: list[str]) -> None:
        self.options_error = "; ".join(errors) + ("." if errors else "")

    def retranslate(self) -> None:
        """The language changed: name the wrong values again, in it."""
        if self.options_error and self._errors:
            self._show_errors(parse_options(self._errors)[1])

    def on_chat_settings(self, system: str, options: dict[str, Any], think: bool) -> None:
        """Forwarded by InfoPanel."""


load_rule(__file__)
