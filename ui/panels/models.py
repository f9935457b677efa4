"""The info panel's model management section: pull a model with its progress (and cancel), delete the selected
one (after a confirmation), the models suggested for this machine (each pulled in a click) and the models
loaded in memory (Unload). Pull, Delete and the loaded models are taken out for an OpenAI-compatible server,
whose API has no such calls, and a sentence says why."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from core.i18n import N_, _, format_percent
from ui.panels.base import FIT_SEP, PanelSection, follow_language, load_rule
from ui.panels.model import fit_sentence, human_size

__all__ = ["OPENAI_MODELS_NOTE", "ModelsSection", "RecommendedRow", "RunningRow", "recommended_detail"]

# What the section says on a server that cannot pull, delete or unload (backend_kind "openai").
OPENAI_MODELS_NOTE = N_(
    "This server speaks the OpenAI API: it lists and serves its models but cannot pull, delete or unload "
    "them here. Manage them with the server's own tools."
)


def _section(widget: Any) -> ModelsSection | None:
    parent = widget.parent
    while parent is not None and not isinstance(parent, ModelsSection):
        parent = parent.parent
    return parent


class RunningRow(BoxLayout):
    """One loaded model: name, memory (and how much sits on the GPU), and an Unload button."""

    name = StringProperty("")
    memory = StringProperty("")

    def unload(self) -> None:
        section = _section(self)
        if section is not None:
            section.dispatch("on_unload", self.name)


class RecommendedRow(BoxLayout):
    """A model suggested for this machine: its name, size and fit, and a Pull button (Installed once it is)."""

    name = StringProperty("")
    detail = StringProperty("")
    fit_state = StringProperty("")  # "fits" | "tight" | "no", the detail's colour
    installed = BooleanProperty(False)
    busy = BooleanProperty(False)  # a pull is running: one at a time

    def pull(self) -> None:
        section = _section(self)
        if section is not None and not self.installed and not self.busy:
            section.ids.pull_input.text = self.name
            section.dispatch("on_pull", self.name)


def recommended_detail(entry: Any) -> tuple[str, str]:
    """A suggested model's second line and its colour state: "2.5 GB · 4B · fits, on the CPU"."""
    verdict = entry.verdict
    _sentence, state = fit_sentence(verdict)
    fit = verdict.label
    if verdict.fits and verdict.where == "cpu":  # "fits on GPU" says it already
        fit = _("{fit}, on the CPU").format(fit=fit)
    return FIT_SEP.join([human_size(entry.size), entry.model.parameters, fit]), state


def running_memory(model: Any) -> str:
    """A loaded model's memory and where it sits: "135 MB · CPU", "1.6 GB · 40% GPU"."""
    where = _("GPU") if model.size_vram and model.size_vram >= model.size else _("CPU")
    if 0 < model.size_vram < model.size:
        where = _("{percent} GPU").format(percent=format_percent(model.size_vram / model.size))
    return f"{human_size(model.size)} · {where}"


class ModelsSection(PanelSection):
    """Events: on_pull(name), on_cancel_pull, on_delete_model(name) (after the confirmation), on_unload(name),
    on_refresh."""

    backend_kind = StringProperty("")  # core.backend.Backend.kind: "openai" takes pull, delete, loaded out
    status = StringProperty("connecting")  # the backend's: Delete needs a server that answers
    selected_model = StringProperty("")  # what Delete removes
    models_note = StringProperty("")
    pulling = BooleanProperty(False)
    pull_fraction = NumericProperty(0.0)
    pull_status = StringProperty("")
    running_text = StringProperty("")
    recommended_note = StringProperty("")  # which machine class the suggestions are for, and from where

    __events__ = ("on_pull", "on_cancel_pull", "on_delete_model", "on_unload", "on_refresh")

    def __init__(self, **kwargs: Any) -> None:
        self._recommended: tuple[str, list[Any]] = ("", [])
        self._running: list[Any] | None = None
        super().__init__(**kwargs)
        follow_language(self.retranslate)

    def on_kv_post(self, *_args: Any) -> None:
        # What on_backend_kind takes out, with where it goes back: held here so that the widgets outlive their
        # removal (kv ids are weak references).
        self._server_widgets = []
        for proxy in (self.ids.loaded_box, self.ids.pull_box, self.ids.delete_model_btn):
            parent = proxy.parent
            index = parent.children.index(proxy)
            self._server_widgets.append((parent.children[index], parent, index))  # the widget, not its proxy

    def on_backend_kind(self, *_args: Any) -> None:
        """Pull, delete and the loaded models are there for Ollama and the embedded backend only."""
        openai = self.backend_kind == "openai"
        self.models_note = _(OPENAI_MODELS_NOTE) if openai else ""
        for widget, parent, index in self._server_widgets:  # by rising index: each goes back where it was
            if openai and widget.parent is parent:
                parent.remove_widget(widget)
            elif not openai and widget.parent is None:
                parent.add_widget(widget, index=min(index, len(parent.children)))

    def set_recommended(self, note: str, entries: Sequence[Any]) -> None:
        """Show the models suggested for this machine (core.recommended.Recommended), each pullable in a click."""
        self._recommended = (note, list(entries))
        self.recommended_note = note
        box = self.ids.recommended_box
        box.clear_widgets()
        for entry in entries:
            detail, state = recommended_detail(entry)
            row = RecommendedRow(name=entry.name, detail=detail, fit_state=state, installed=entry.installed)
            row.busy = self.pulling
            self.bind(pulling=row.setter("busy"))
            box.add_widget(row)

    def set_running(self, running: Sequence[Any]) -> None:
        self._running = list(running)
        box = self.ids.running_box
        box.clear_widgets()
        for model in running:
            box.add_widget(RunningRow(name=model.name, memory=running_memory(model)))
        self.running_text = "" if running else _("No model is loaded in memory.")

    def retranslate(self) -> None:
        """The language changed: the rows and sentences made here are made again."""
        if self._running is not None:
            self.set_running(self._running)
        note, entries = self._recommended
        if entries:
            for row, entry in zip(reversed(self.ids.recommended_box.children), entries, strict=False):
                row.detail, row.fit_state = recommended_detail(entry)
        self.on_backend_kind()

    def start_pull(self) -> None:
        name = self.ids.pull_input.text.strip()
        if not name:
            self.pull_status = _("Type a model name to pull, for example smollm2:135m.")
            return
        self.dispatch("on_pull", name)

    def ask_delete_model(self) -> None:
        name = self.selected_model
        if not name:
            return
        from ui.dialogs import confirm

        confirm(
            _("Delete this model?"),
            _("“{name}” will be removed from the server's disk. You can pull it again later.").format(
                name=name
            ),
            lambda: self.dispatch("on_delete_model", name),
            confirm_label=_("Delete"),
        )

    def pull_progress(self, status: str, fraction: float | None) -> None:
        self.pulling = True
        self.pull_status = status
        if fraction is not None:
            self.pull_fraction = fraction

    def pull_finished(self, message: str) -> None:
        self.pulling = False
        self.pull_fraction = 0.0
        self.pull_status = message

    def on_pull(self, name: str) -> None:
        """Forwarded by InfoPanel."""

    def on_cancel_pull(self) -> None:
        """Forwarded by InfoPanel."""

    def on_delete_model(self, name: str) -> None:
        """Forwarded by InfoPanel."""

    def on_unload(self, name: str) -> None:
        """Forwarded by InfoPanel."""

    def on_refresh(self) -> None:
        """Forwarded by InfoPanel."""


load_rule(__file__)
