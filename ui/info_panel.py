"""The info panel (right zone): backend status and the server to use (an Ollama URL or an OpenAI-compatible
one, switched while the app runs), model picker and details, this chat's settings, model management (pull with
progress, delete, running models with Unload; taken out for an OpenAI-compatible server, whose API has no such
calls) and DEV mode figures with a small chart.

The panel only shows state and raises events; the app runs the work through the controller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.graphics import Color, Line, Rectangle
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, DictProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from ui import clip  # noqa: F401  (ClipScrollView / ClipRecycleView in the kv rules)
from ui.config_ui import theme

__all__ = [
    "OPENAI_MODELS_NOTE",
    "OPTION_FIELDS",
    "InfoPanel",
    "PillSwitch",
    "RecommendedRow",
    "StatsChart",
    "chat_created",
    "fit_sentence",
    "format_when",
    "human_size",
    "model_label",
    "parse_options",
    "recommended_detail",
]

# Options a chat can override: (key, type, lower bound, upper bound, hint).
OPTION_FIELDS: tuple[tuple[str, type, float, float, str], ...] = (
    ("temperature", float, 0.0, 2.0, "0.8"),
    ("top_p", float, 0.0, 1.0, "0.9"),
    ("num_ctx", int, 256, 1_048_576, "model"),
    ("num_predict", int, -2, 1_048_576, "-1"),
    ("seed", int, -(2**31), 2**31 - 1, "random"),
)


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def format_when(when: datetime) -> str:
    """A moment in local time, unambiguous whatever the locale: "4 Dec 2026, 20:31" (naive = UTC)."""
    local = (when if when.tzinfo is not None else when.replace(tzinfo=UTC)).astimezone()
    return f"{local.day} {MONTHS[local.month - 1]} {local.year}, {local:%H:%M}"


def chat_created(conv: Any | None) -> str:
    """The "this chat" section's first line: when the conversation on screen was created."""
    if conv is None:
        return "New chat: saved with its first message."
    return f"Created {format_when(conv.created)}"


def human_size(n: int | float | None) -> str:
    """Bytes as people read them: 135 MB, 1.6 GB."""
    if not n:
        return "0 B"
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return (
                f"{value:.0f} {unit}" if unit in ("B", "KB", "MB") or value >= 100 else f"{value:.1f} {unit}"
            )
        value /= 1000
    return f"{value:.1f} TB"


_FIT_SEP = "  ·  "


def model_label(info: Any, verdict: Any | None = None) -> str:
    """A model's entry in the picker's list: name, size (when the server gives it) and, when judged, whether
    it fits this machine."""
    label = f"{info.name}{_FIT_SEP}{human_size(info.size)}" if info.size else info.name
    return f"{label}{_FIT_SEP}{verdict.label}" if verdict is not None and verdict.label else label


def fit_sentence(verdict: Any) -> tuple[str, str]:
    """What the model details say about a model's fit, and its state for the colour: "fits" | "tight" | "no".

    A model that fits also says whether it runs on the GPU, and if not why (verdict.gpu)."""
    state = "no" if not verdict.fits else "tight" if verdict.label == "tight" else "fits"
    head = {"fits": "Fits this machine", "tight": "Tight on this machine"}.get(state, "Does not fit")
    where = f" Runs {verdict.gpu}." if verdict.fits and getattr(verdict, "gpu", "") else ""
    return f"{head}: {verdict.reason}.{where}", state


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
            errors.append(f"{key} must be {'a number' if kind is float else 'a whole number'}, not '{raw}'")
            continue
        if not low <= value <= high:
            errors.append(f"{key} must be between {low:g} and {high:g}, not {raw}")
            continue
        options[key] = value
    return options, errors


class StatsChart(Widget):
    """Bars of the recent replies' generation speed (tokens/s), newest on the right, drawn with Kivy graphics."""

    values = ListProperty([])
    max_bars = NumericProperty(20)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._redraw = Clock.create_trigger(lambda _dt: self.draw(), 0)
        self.bind(pos=self._redraw, size=self._redraw, values=self._redraw)
        theme.bind(colors=self._redraw)

    def draw(self) -> None:
        self.canvas.clear()
        colors = theme.colors
        values = [v for v in self.values[-int(self.max_bars) :] if v is not None]
        with self.canvas:
            Color(*colors["surface_alt"])
            Rectangle(pos=self.pos, size=self.size)
            Color(*colors["border"])
            Line(points=[self.x, self.y + dp(1), self.right, self.y + dp(1)], width=1)
            if not values:
                return
            top = max(values) or 1.0
            slot = self.width / max(len(values), 1)
            bar = max(dp(2), slot * 0.68)
            for index, value in enumerate(values):
                newest = index == len(values) - 1
                Color(*(colors["accent"] if newest else colors["accent"][:3] + [0.45]))
                h = max(dp(2), (self.height - dp(8)) * value / top)
                Rectangle(pos=(self.x + index * slot + (slot - bar) / 2, self.y + dp(2)), size=(bar, h))


class PillSwitch(ButtonBehavior, Widget):
    """A small on/off switch drawn in the theme's colors; a click toggles ``active``."""

    active = BooleanProperty(False)

    def on_release(self) -> None:
        self.active = not self.active


class RunningRow(BoxLayout):
    """One loaded model: name, memory (and how much sits on the GPU), and an Unload button."""

    name = StringProperty("")
    memory = StringProperty("")

    def unload(self) -> None:
        panel = self.parent
        while panel is not None and not isinstance(panel, InfoPanel):
            panel = panel.parent
        if panel is not None:
            panel.dispatch("on_unload", self.name)


# What the model section says on a server that cannot pull, delete or unload (backend_kind "openai").
OPENAI_MODELS_NOTE = (
    "This server speaks the OpenAI API: it lists and serves its models but cannot pull, delete or unload "
    "them here. Manage them with the server's own tools."
)


class RecommendedRow(BoxLayout):
    """A model suggested for this machine: its name, size and fit, and a Pull button (Installed once it is)."""

    name = StringProperty("")
    detail = StringProperty("")
    fit_state = StringProperty("")  # "fits" | "tight" | "no", the detail's colour
    installed = BooleanProperty(False)
    busy = BooleanProperty(False)  # a pull is running: one at a time

    def pull(self) -> None:
        panel = self.parent
        while panel is not None and not isinstance(panel, InfoPanel):
            panel = panel.parent
        if panel is not None and not self.installed and not self.busy:
            panel.ids.pull_input.text = self.name
            panel.dispatch("on_pull", self.name)


def recommended_detail(entry: Any) -> tuple[str, str]:
    """A suggested model's second line and its colour state: "2.5 GB · 4B · fits, on the CPU"."""
    verdict = entry.verdict
    _sentence, state = fit_sentence(verdict)
    where = ", on the CPU" if verdict.fits and verdict.where == "cpu" else ""  # "fits on GPU" says it already
    parts = [human_size(entry.size), entry.model.parameters, f"{verdict.label}{where}"]
    return _FIT_SEP.join(parts), state


class InfoPanel(BoxLayout):
    """Right zone. Events: on_reconnect, on_switch_host(host), on_pick_model(name), on_chat_settings(system,
    options, think), on_pull(name), on_cancel_pull, on_delete_model(name), on_unload(name), on_refresh,
    on_dev_switch(on)."""

    created_line = staticmethod(chat_created)  # the "this chat" section's date, from app.conv in the kv rule
    status = StringProperty("connecting")  # connecting | ready | offline
    note = StringProperty("Connecting…")
    backend_kind = StringProperty("")  # core.backend.Backend.kind: "ollama" | "embedded" | "openai"
    host_text = StringProperty("")  # the server chosen in the panel ("" = the default, host_hint)
    host_hint = StringProperty("server address")
    host_error = StringProperty("")  # why the last switch did not happen (the previous server is kept)
    switching = BooleanProperty(False)
    models_note = StringProperty("")
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
    think = BooleanProperty(False)
    system_prompt = StringProperty("")
    option_fields = DictProperty({})
    options_error = StringProperty("")
    pulling = BooleanProperty(False)
    pull_fraction = NumericProperty(0.0)
    pull_status = StringProperty("")
    running_text = StringProperty("")
    recommended_note = StringProperty("")  # which machine class the suggestions are for, and from where
    dev_mode = BooleanProperty(False)
    dev_stats = StringProperty("No reply yet.")
    dev_history = ListProperty([])
    has_chat = BooleanProperty(False)

    __events__ = (
        "on_reconnect",
        "on_switch_host",
        "on_pick_model",
        "on_chat_settings",
        "on_pull",
        "on_cancel_pull",
        "on_delete_model",
        "on_unload",
        "on_refresh",
        "on_dev_switch",
    )

    def on_kv_post(self, *_: Any) -> None:
        # What on_backend_kind takes out of the panel, with where it goes back: held here so that the widgets
        # outlive their removal (kv ids are weak references).
        self._server_widgets = [
            (w, w.parent, w.parent.children.index(w))
            for w in (self.ids.loaded_box, self.ids.pull_box, self.ids.delete_model_btn)
        ]

    def on_backend_kind(self, *_: Any) -> None:
        """Pull, delete and the loaded models are there for Ollama and the embedded backend only: an
        OpenAI-compatible server has no such calls, so they are taken out (not just greyed) and a sentence
        says why."""
        openai = self.backend_kind == "openai"
        self.models_note = OPENAI_MODELS_NOTE if openai else ""
        for widget, parent, index in self._server_widgets:  # by rising index: each goes back where it was
            if openai and widget.parent is parent:
                parent.remove_widget(widget)
            elif not openai and widget.parent is None:
                parent.add_widget(widget, index=min(index, len(parent.children)))

    # -- feeding --------------------------------------------------------------------------------------
    def set_models(
        self,
        infos: Sequence[Any],
        selected: str,
        verdicts: Mapping[str, Any] | None = None,
        machine: str = "",
    ) -> None:
        """Fill the picker; ``selected`` is shown even when the server lacks it (the banner says so).

        ``verdicts`` (model name -> core.machine.FitVerdict) add whether each fits this machine to its entry and
        to the details; ``machine`` is MachineResources.summary()."""
        self.verdicts = dict(verdicts or {})
        self.machine_text = f"This machine: {machine}" if machine else ""
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
            return entry if entry == self.selected_model else _FIT_SEP.join(entry.split(_FIT_SEP)[:2])
        return self.selected_model or "No model"

    def on_selected_model(self, *_: Any) -> None:
        self.ids.picker.text = self.picker_text()
        self._show_fit()

    def on_model_values(self, *_: Any) -> None:
        self.ids.picker.text = self.picker_text()

    def picked(self, text: str) -> None:
        """The spinner changed: map its label back to a model name."""
        if text in self.model_values:
            name = self.model_names[self.model_values.index(text)]
            if name != self.selected_model:
                self.selected_model = name
                self.dispatch("on_pick_model", name)
            self.ids.picker.text = self.picker_text()

    def set_details(self, details: Any | None, error: str = "") -> None:
        """Show /api/show facts; capabilities decide whether the thinking switch is offered."""
        if details is None:
            self.details, self.capabilities, self.can_think = error, [], False
            return
        facts = [
            ("Family", details.family),
            ("Parameters", details.parameter_size),
            ("Quantization", details.quantization),
            ("Context", f"{details.context_length:,} tokens" if details.context_length else ""),
            ("Can do", ", ".join(details.capabilities)),
        ]
        self.details = "\n".join(f"[b]{k}[/b]  {v}" for k, v in facts if v)
        if not self.details and self.backend_kind == "openai":
            self.details = "The OpenAI API does not describe its models: no details to show."
        self.capabilities = list(details.capabilities)
        self.can_think = "thinking" in self.capabilities

    def set_chat(self, conv: Any | None, think: bool) -> None:
        """Show a conversation's own system prompt and options."""
        self.has_chat = conv is not None
        self.system_prompt = conv.system_prompt if conv is not None else ""
        opts = conv.options if conv is not None else {}
        self.option_fields = {
            key: ("" if opts.get(key) is None else str(opts[key])) for key, *_ in OPTION_FIELDS
        }
        self.think = think
        self.options_error = ""

    def set_recommended(self, note: str, entries: Sequence[Any]) -> None:
        """Show the models suggested for this machine (core.recommended.Recommended), each pullable in a click."""
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
        box = self.ids.running_box
        box.clear_widgets()
        for model in running:
            where = "GPU" if model.size_vram and model.size_vram >= model.size else "CPU"
            if 0 < model.size_vram < model.size:
                where = f"{round(100 * model.size_vram / model.size)}% GPU"
            box.add_widget(RunningRow(name=model.name, memory=f"{human_size(model.size)} · {where}"))
        self.running_text = "" if running else "No model is loaded in memory."

    def set_stats(self, stats: Any | None, history: Sequence[float | None]) -> None:
        """Show the last reply's figures (a StreamStats) and the chart of recent tokens/s."""
        self.dev_history = [v for v in history if v is not None]
        if stats is None:
            return
        parts = []
        if stats.ttft_s is not None:
            parts.append(f"[b]First token[/b]  {stats.ttft_s:.2f} s")
        if stats.gen_tps is not None:
            parts.append(f"[b]Generation[/b]  {stats.gen_tps:.1f} tokens/s")
        elif not stats.counts_from:
            parts.append("[b]Generation[/b]  not reported (the server sent no token counts)")
        if stats.eval_count is not None:
            parts.append(f"[b]Tokens[/b]  {stats.eval_count}")
        parts.append(f"[b]Total[/b]  {stats.total_s:.2f} s")
        if stats.load_s:
            parts.append(f"[b]Load[/b]  {stats.load_s:.2f} s")
        self.dev_stats = "\n".join(parts)

    # -- user actions ---------------------------------------------------------------------------------
    def switch_host(self) -> None:
        """Connect: ask the app to use the server typed in the box ("" = the default)."""
        if not self.switching:
            self.dispatch("on_switch_host", self.ids.host_input.text.strip())

    def apply_chat_settings(self) -> None:
        """Read the chat fields; valid values are applied, wrong ones are named and kept in their box."""
        fields = {key: self.ids[f"opt_{key}"].text for key, *_ in OPTION_FIELDS}
        options, errors = parse_options(fields)
        self.options_error = "; ".join(errors) + ("." if errors else "")
        system = self.ids.system_input.text
        think = bool(self.ids.think_switch.active) if self.can_think else False
        self.dispatch("on_chat_settings", system, options, think)

    def start_pull(self) -> None:
        name = self.ids.pull_input.text.strip()
        if not name:
            self.pull_status = "Type a model name to pull, for example smollm2:135m."
            return
        self.dispatch("on_pull", name)

    def ask_delete_model(self) -> None:
        name = self.selected_model
        if not name:
            return
        from ui.dialogs import confirm

        confirm(
            "Delete this model?",
            f"“{name}” will be removed from the server's disk. You can pull it again later.",
            lambda: self.dispatch("on_delete_model", name),
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


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
