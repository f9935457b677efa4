"""The info panel's model section: the model picker (each entry with its size and whether it fits this machine),
the chosen model's details (/api/show) and its fit, in the fit's colour."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from kivy.properties import BooleanProperty, DictProperty, ListProperty, StringProperty

from core.i18n import N_, _, format_decimal, format_number, ngettext
from ui.panels.base import FIT_SEP, PanelSection, follow_language, load_rule

__all__ = ["ModelSection", "fit_sentence", "human_size", "model_label"]

_UNITS = ("{size} B", "{size} KB", "{size} MB", "{size} GB", "{size} TB")  # msgids of core.i18n.format_size
_FACTS = (N_("Family"), N_("Parameters"), N_("Quantization"), N_("Context"), N_("Can do"))


def human_size(n: int | float | None) -> str:
    """Bytes as people read them, in the interface's language: 135 MB, 1.6 GB (French: 135 Mo, 1,6 Go). Whole
    numbers up to megabytes and from 100 up, one decimal below 100 GB and TB."""
    value, index = float(n or 0), 0
    while value >= 1000 and index < len(_UNITS) - 1:
        value /= 1000
        index += 1
    size = format_number(round(value)) if index <= 2 or value >= 100 else format_decimal(value, 1)
    return _(_UNITS[index]).format(size=size)


def model_label(info: Any, verdict: Any | None = None) -> str:
    """A model's entry in the picker's list: name, size (when the server gives it) and, when judged, whether
    it fits this machine."""
    label = f"{info.name}{FIT_SEP}{human_size(info.size)}" if info.size else info.name
    return f"{label}{FIT_SEP}{verdict.label}" if verdict is not None and verdict.label else label


def fit_sentence(verdict: Any) -> tuple[str, str]:
    """What the model details say about a model's fit, and its state for the colour: "fits" | "tight" | "no".

    A model that fits also says whether it runs on the GPU, and if not why (verdict.gpu)."""
    state = "no" if not verdict.fits else "tight" if verdict.tight else "fits"
    if state == "fits":
        text = _("Fits this machine: {reason}.").format(reason=verdict.reason)
    elif state == "tight":
        text = _("Tight on this machine: {reason}.").format(reason=verdict.reason)
    else:
        text = _("Does not fit: {reason}.").format(reason=verdict.reason)
    if verdict.fits and getattr(verdict, "gpu", ""):
        text += " " + _("Runs {where}.").format(where=verdict.gpu)
    return text, state


class ModelSection(PanelSection):
    """Event: on_pick_model(name), raised when a person picks another model (or ``choose`` is called)."""

    model_values = ListProperty([])
    model_names = ListProperty([])
    selected_model = StringProperty("")
    details = StringProperty("")
    fit_text = StringProperty("")  # whether the selected model fits this machine, and why
    fit_state = StringProperty("")  # "fits" | "tight" | "no" | "" (not judged): the colour of fit_text
    machine_text = StringProperty("")  # this machine's RAM, cores and GPU memory
    verdicts = DictProperty({})  # model name -> core.machine.FitVerdict
    capabilities = ListProperty([])
    can_think = BooleanProperty(False)
    backend_kind = StringProperty("")

    __events__ = ("on_pick_model",)

    def __init__(self, **kwargs: Any) -> None:
        self._infos: list[Any] = []
        self._machine = ""
        self._details: tuple[Any | None, str] = (None, "")
        super().__init__(**kwargs)
        follow_language(self.retranslate)

    def set_models(
        self,
        infos: Sequence[Any],
        selected: str,
        verdicts: Mapping[str, Any] | None = None,
        machine: str = "",
    ) -> None:
        """Fill the picker; ``selected`` is shown even when the server lacks it (the banner says so)."""
        self._infos, self._machine = list(infos), machine
        self.verdicts = dict(verdicts or {})
        self.machine_text = _("This machine: {machine}").format(machine=machine) if machine else ""
        self.model_names = [i.name for i in infos]
        self.model_values = [model_label(i, self.verdicts.get(i.name)) for i in infos]
        self.selected_model = selected
        self._show_fit()

    def _show_fit(self) -> None:
        verdict = self.verdicts.get(self.selected_model)
        self.fit_text, self.fit_state = fit_sentence(verdict) if verdict is not None else ("", "")

    def picker_text(self) -> str:
        """The closed picker's text: name and size (the fit is said in full just below it)."""
        if self.selected_model in self.model_names:
            entry = self.model_values[self.model_names.index(self.selected_model)]
            return entry if entry == self.selected_model else FIT_SEP.join(entry.split(FIT_SEP)[:2])
        return self.selected_model or _("No model")

    def on_kv_post(self, *_args: Any) -> None:
        self.ids.picker.text = self.picker_text()

    def on_selected_model(self, *_args: Any) -> None:
        self.ids.picker.text = self.picker_text()
        self._show_fit()

    def on_model_values(self, *_args: Any) -> None:
        self.ids.picker.text = self.picker_text()

    def picked(self, text: str) -> None:
        """The spinner changed: map its label back to a model name."""
        if text in self.model_values:
            self.choose(self.model_names[self.model_values.index(text)])

    def choose(self, name: str) -> None:
        """Use model ``name`` (as if picked in the list): on_pick_model when it is another one."""
        if name != self.selected_model:
            self.selected_model = name
            self.dispatch("on_pick_model", name)
        self.ids.picker.text = self.picker_text()

    def set_details(self, details: Any | None, error: str = "") -> None:
        """Show /api/show facts; capabilities decide whether the thinking switch is offered."""
        self._details = (details, error)
        if details is None:
            self.details, self.capabilities, self.can_think = error, [], False
            return
        context = ""
        if details.context_length:
            n = details.context_length
            context = ngettext("{n} token", "{n} tokens", n).format(n=format_number(n))
        values = (
            details.family,
            details.parameter_size,
            details.quantization,
            context,
            ", ".join(details.capabilities),
        )
        self.details = "\n".join(f"[b]{_(k)}[/b]  {v}" for k, v in zip(_FACTS, values, strict=True) if v)
        if not self.details and self.backend_kind == "openai":
            self.details = _("The OpenAI API does not describe its models: no details to show.")
        self.capabilities = list(details.capabilities)
        self.can_think = "thinking" in self.capabilities

    def retranslate(self) -> None:
        """The language changed: the texts made here are made again."""
        if self._infos or self._machine:
            self.set_models(self._infos, self.selected_model, self.verdicts, self._machine)
        details, error = self._details
        if details is not None:
            self.set_details(details, error)
        self.ids.picker.text = self.picker_text()

    def on_pick_model(self, name: str) -> None:
        """Forwarded by InfoPanel."""


load_rule(__file__)
