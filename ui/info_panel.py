"""The info panel (right zone): one widget per section, composed here (ui/panels/, one module and one kv rule
each): BackendSection (the server in use and its status), ModelSection (picker, details, fit), ChatSection (this
chat's date, system prompt, options, thinking), ProfilesSection (saved profiles; a model's default one),
ModelsSection (pull, delete, suggestions, models in memory), DevSection (DEV figures and chart) and
SettingsSection (the interface's language).

InfoPanel keeps the panel's events and attributes as the app uses them: each attribute reads and writes the
section that holds it (``backend_kind`` and ``status`` reach every section that depends on them), each section's
events are raised again by the panel, and ``ids`` holds the sections' ids too. The panel only shows state and
raises events; the app runs the work through the controller. Applying a profile goes through the same events
as a person does it: on_pick_model for its model, then on_chat_settings for its prompt and options.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kivy.uix.boxlayout import BoxLayout

from core.i18n import _
from ui import clip  # noqa: F401  (ClipScrollView in the kv rule)
from ui.panels.backend import BackendSection
from ui.panels.base import PillSwitch, load_rule
from ui.panels.chat import OPTION_FIELDS, ChatSection, chat_created, format_when, parse_options
from ui.panels.dev import DevSection, StatsChart
from ui.panels.model import ModelSection, fit_sentence, human_size, model_label
from ui.panels.models import OPENAI_MODELS_NOTE, ModelsSection, RecommendedRow, RunningRow, recommended_detail
from ui.panels.profiles import ProfilesSection
from ui.panels.settings import SettingsSection

__all__ = [
    "OPENAI_MODELS_NOTE",
    "OPTION_FIELDS",
    "SECTIONS",
    "BackendSection",
    "ChatSection",
    "DevSection",
    "InfoPanel",
    "ModelSection",
    "ModelsSection",
    "PillSwitch",
    "ProfilesSection",
    "RecommendedRow",
    "RunningRow",
    "SettingsSection",
    "StatsChart",
    "chat_created",
    "fit_sentence",
    "format_when",
    "human_size",
    "model_label",
    "parse_options",
    "recommended_detail",
]

# The sections in the panel's order: (id in info_panel.kv, class).
SECTIONS: tuple[tuple[str, type], ...] = (
    ("backend_section", BackendSection),
    ("model_section", ModelSection),
    ("chat_section", ChatSection),
    ("profiles_section", ProfilesSection),
    ("models_section", ModelsSection),
    ("dev_section", DevSection),
    ("settings_section", SettingsSection),
)

# The panel's events, and the section that raises each.
_EVENTS = {
    "backend_section": ("on_reconnect", "on_switch_host"),
    "model_section": ("on_pick_model",),
    "chat_section": ("on_chat_settings",),
    "models_section": ("on_pull", "on_cancel_pull", "on_delete_model", "on_unload", "on_refresh"),
    "dev_section": ("on_dev_switch",),
}


class _Attr:
    """An InfoPanel attribute held by its sections: read from the first, written to each."""

    def __init__(self, *sections: str) -> None:
        self.sections = sections

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, panel: Any, owner: type | None = None) -> Any:
        if panel is None:
            return self
        return getattr(panel.ids[self.sections[0]], self.name)

    def __set__(self, panel: Any, value: Any) -> None:
        for section in self.sections:
            setattr(panel.ids[section], self.name, value)


class InfoPanel(BoxLayout):
    """Right zone. Events: on_reconnect, on_switch_host(host), on_pick_model(name), on_chat_settings(system,
    options, think), on_pull(name), on_cancel_pull, on_delete_model(name), on_unload(name), on_refresh,
    on_dev_switch(on)."""

    created_line = staticmethod(chat_created)

    # backend
    status = _Attr("backend_section", "models_section")  # connecting | ready | offline
    note = _Attr("backend_section")
    host_text = _Attr("backend_section")
    host_hint = _Attr("backend_section")
    host_error = _Attr("backend_section")
    switching = _Attr("backend_section")
    backend_kind = _Attr(
        "model_section", "chat_section", "models_section"
    )  # "ollama" | "embedded" | "openai"
    # model
    model_values = _Attr("model_section")
    model_names = _Attr("model_section")
    selected_model = _Attr("model_section")
    details = _Attr("model_section")
    fit_text = _Attr("model_section")
    fit_state = _Attr("model_section")
    machine_text = _Attr("model_section")
    verdicts = _Attr("model_section")
    capabilities = _Attr("model_section")
    can_think = _Attr("model_section", "chat_section")
    # this chat
    has_chat = _Attr("chat_section")
    system_prompt = _Attr("chat_section")
    option_fields = _Attr("chat_section")
    options_error = _Attr("chat_section")
    think = _Attr("chat_section")
    # model management
    models_note = _Attr("models_section")
    pulling = _Attr("models_section")
    pull_fraction = _Attr("models_section")
    pull_status = _Attr("models_section")
    running_text = _Attr("models_section")
    recommended_note = _Attr("models_section")
    # DEV
    dev_mode = _Attr("dev_section")
    dev_stats = _Attr("dev_section")
    dev_history = _Attr("dev_section")

    __events__ = tuple(event for events in _EVENTS.values() for event in events)

    def on_kv_post(self, *_args: Any) -> None:
        own = dict(self.ids)
        for (
            section_id,
            _cls,
        ) in SECTIONS:  # the sections' ids are the panel's too (tests and the app use them)
            for key, widget in own[section_id].ids.items():
                self.ids[key] = widget
        ids = self.ids
        for section_id, events in _EVENTS.items():
            for event in events:
                ids[section_id].fbind(event, self._forward, event)
        model, chat, models, profiles = (
            ids.model_section,
            ids.chat_section,
            ids.models_section,
            ids.profiles_section,
        )
        self._applying = False
        model.bind(can_think=chat.setter("can_think"))
        model.bind(selected_model=models.setter("selected_model"), model_names=profiles.setter("model_names"))
        model.bind(selected_model=profiles.setter("selected_model"))
        profiles.bind(on_apply_profile=lambda _w, profile: self.apply_profile(profile))
        profiles.bind(on_new_profile=lambda _w: self.new_profile())

    def _forward(self, event: str, _section: Any, *args: Any) -> None:
        self.dispatch(event, *args)
        if event == "on_pick_model" and not self._applying:
            self.ids.profiles_section.apply_default(args[0])  # the model's default profile, if it has one

    def section(self, section_id: str) -> Any:
        """The section widget by its id ("backend_section", ... see SECTIONS)."""
        return self.ids[section_id]

    # -- feeding (each goes to the section that shows it) -----------------------------------------------
    def set_models(
        self,
        infos: Any,
        selected: str,
        verdicts: Mapping[str, Any] | None = None,
        machine: str = "",
    ) -> None:
        """Fill the picker (ModelSection.set_models)."""
        self.ids.model_section.set_models(infos, selected, verdicts, machine)

    def picker_text(self) -> str:
        return self.ids.model_section.picker_text()

    def picked(self, text: str) -> None:
        self.ids.model_section.picked(text)

    def set_details(self, details: Any | None, error: str = "") -> None:
        self.ids.model_section.set_details(details, error)

    def set_chat(self, conv: Any | None, think: bool) -> None:
        self.ids.chat_section.set_chat(conv, think)

    def set_recommended(self, note: str, entries: Any) -> None:
        self.ids.models_section.set_recommended(note, entries)

    def set_running(self, running: Any) -> None:
        self.ids.models_section.set_running(running)

    def set_stats(self, stats: Any | None, history: Any) -> None:
        self.ids.dev_section.set_stats(stats, history)

    def profiles_changed(self) -> None:
        """The profiles folder changed (the benchmark screen saved one): list it again."""
        self.ids.profiles_section.reload()

    # -- user actions ---------------------------------------------------------------------------------
    def switch_host(self) -> None:
        self.ids.backend_section.switch_host()

    def apply_chat_settings(self) -> None:
        self.ids.chat_section.apply_chat_settings()

    def start_pull(self) -> None:
        self.ids.models_section.start_pull()

    def ask_delete_model(self) -> None:
        self.ids.models_section.ask_delete_model()

    def pull_progress(self, status: str, fraction: float | None) -> None:
        self.ids.models_section.pull_progress(status, fraction)

    def pull_finished(self, message: str) -> None:
        self.ids.models_section.pull_finished(message)

    def new_profile(self) -> None:
        """ "New profile from this chat": the editor, filled with this chat's model, prompt and options."""
        system, options, _errors = self.ids.chat_section.read_fields()
        self.ids.profiles_section.open_editor("", self.selected_model, system, options)

    def apply_profile(self, profile: Any) -> None:
        """Apply a profile to this chat as a person would: pick its model (when the server has it), then put
        its prompt and options in this chat's boxes and press Apply."""
        profiles = self.ids.profiles_section
        kept = ""
        if profile.model and profile.model != self.selected_model:
            if profile.model in self.model_names:
                self._applying = True  # its own settings, not the default profile of its model
                try:
                    self.ids.model_section.choose(profile.model)
                finally:
                    self._applying = False
            else:
                kept = profile.model
        chat = self.ids.chat_section
        chat.fill(profile.system_prompt, profile.options)
        chat.apply_chat_settings()
        if kept:
            profiles.say(
                _(
                    "“{name}” applied, but its model {model} is not on this server: the chat keeps {current}."
                ).format(name=profile.name, model=kept, current=self.selected_model or _("no model")),
                error=True,
            )
        else:
            profiles.say(_("“{name}” applied to this chat.").format(name=profile.name))

    # -- default handlers -----------------------------------------------------------------------------
    def on_reconnect(self) -> None:
        """Bound by the app."""

    def on_switch_host(self, host: str) -> None:
        """Bound by the app."""

    def on_pick_model(self, name: str) -> None:
        """Bound by the app."""

    def on_chat_settings(self, system: str, options: dict[str, Any], think: bool) -> None:
        """Bound by the app."""

    def on_pull(self, name: str) -> None:
        """Bound by the app."""

    def on_cancel_pull(self) -> None:
        """Bound by the app."""

    def on_delete_model(self, name: str) -> None:
        """Bound by the app."""

    def on_unload(self, name: str) -> None:
        """Bound by the app."""

    def on_refresh(self) -> None:
        """Bound by the app."""

    def on_dev_switch(self, on: bool) -> None:
        """Bound by the app."""


load_rule(__file__)
