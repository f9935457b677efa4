"""The context meter above the message box: how much of the model's context the chat and the draft take.

ContextMeter is the widget (a thin bar and a line of text); ContextWatch keeps it current: it listens to the
draft, the conversation, the model and the end of each reply, waits until typing pauses (DEBOUNCE_S), then
counts on a worker thread (core.context_meter.measure: the embedded server's tokenizer, else an estimate).
A count that comes back after a newer one was asked for is dropped.
"""

from __future__ import annotations

import logging
from typing import Any

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from core.context_meter import ContextUse, chat_messages, measure
from core.i18n import _

__all__ = ["DEBOUNCE_S", "ContextMeter", "ContextWatch"]

log = logging.getLogger("ia.ui")
DEBOUNCE_S = 0.35

Builder.load_string(  # i18n: kv rules, no text of their own
    """
#:import theme ui.config_ui.theme
#:import SIZES ui.config_ui.SIZES

<ContextMeter>:
    size_hint_y: None
    height: dp(20) if root.text else 0
    opacity: 1 if root.text else 0
    padding: SIZES["bar_padding"], 0, SIZES["bar_padding"], 0
    spacing: dp(8)
    Widget:
        id: track
        size_hint: None, None
        size: dp(120), dp(4)
        pos_hint: {"center_y": .5}
        canvas:
            Color:
                rgba: theme.colors["border"]
            RoundedRectangle:
                pos: self.pos
                size: self.size
                radius: [dp(2)]
            Color:
                rgba: theme.colors["danger"] if root.level == "over" else (theme.colors["warning_fg"] if root.level == "high" else theme.colors["accent"])
            RoundedRectangle:
                pos: self.pos
                size: self.width * min(1, root.fraction), self.height
                radius: [dp(2)]
    Label:
        id: label
        text: root.text
        color: theme.colors["danger"] if root.level == "over" else theme.colors["text_muted"]
        font_size: SIZES["font_tiny"]
        text_size: self.size
        halign: "left"
        valign: "middle"
        shorten: True
        shorten_from: "right"
"""
)


class ContextMeter(BoxLayout):
    """A bar filled to `fraction` (coloured by `level`) and `text`; hidden while `text` is empty."""

    fraction = NumericProperty(0.0)
    level = StringProperty("")  # ContextUse.level
    text = StringProperty("")
    exact = StringProperty("")  # "counted" | "estimated" | "" (nothing shown yet)

    def show(self, use: ContextUse | None) -> None:
        if use is None:
            self.text, self.fraction, self.level, self.exact = "", 0.0, "", ""
            return
        self.fraction = min(1.0, use.fraction or 0.0)
        self.level = use.level
        self.text = _("Context {usage}").format(usage=use.label())
        self.exact = "counted" if use.exact else "estimated"


class ContextWatch:
    """Keeps `meter` current for `app` (an IAApp): debounced, counted off the main thread."""

    def __init__(self, app: Any, meter: ContextMeter) -> None:
        self.app = app
        self.meter = meter
        self.asked = 0  # the number of the newest count asked for
        self.counted = 0  # how many counts came back and were shown (tests wait on it)
        self._limits: dict[tuple[str, str], int | None] = {}
        self._trigger = Clock.create_trigger(lambda _dt: self.refresh(), DEBOUNCE_S)
        app.bind(conv=self.schedule, model=self.schedule, streaming=self.schedule)
        app.input_bar.ids.input.bind(text=self.schedule)

    def schedule(self, *_args: Any) -> None:
        """Something changed: count again once typing pauses for DEBOUNCE_S."""
        self._trigger()

    def refresh(self) -> None:
        """Take what a send would carry now (on the main thread: references only) and count it on a worker."""
        app = self.app
        backend = app.controller.backend
        if backend is None or not app.model or app.streaming:
            return  # nothing to count against yet; during a reply the count follows its end
        conv = app.conv
        system = conv.system_prompt if conv is not None else app.draft_system
        history = [(m.role, m.content) for m in conv.messages] if conv is not None else []
        options = {**app.settings.options, **(conv.options if conv is not None else app.draft_options)}
        messages = chat_messages(system, history, app.input_bar.ids.input.text)
        kind, host, model, client = backend.kind, backend.host, app.model, backend.client
        self.asked += 1
        number = self.asked

        def work() -> ContextUse:
            limit = options.get("num_ctx") or self._limit(client, host, model)
            return measure(kind, host, model, messages, int(limit) if limit else None)

        def done(use: ContextUse) -> None:
            if number == self.asked:  # a newer count is on its way otherwise
                self.counted += 1
                self.meter.show(use)

        app.controller.run(work, done, lambda exc: log.info("context meter: %s", exc))

    def _limit(self, client: Any, host: str, model: str) -> int | None:
        """The model's context length from /api/show, asked once per server and model (on the worker)."""
        key = (host, model)
        if key not in self._limits:
            try:
                self._limits[key] = client.show(model).context_length
            except Exception as exc:  # noqa: BLE001 — unknown: the meter shows the count without a limit
                log.info("context meter: no context length for %s: %s", model, exc)
                return None
        return self._limits[key]
