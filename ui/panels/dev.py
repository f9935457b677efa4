"""The info panel's DEV section: the switch, the last reply's figures (first token, generation speed, tokens,
total and load time) and a chart of the recent replies' generation speed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kivy.clock import Clock
from kivy.graphics import Color, Line, Rectangle
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.widget import Widget

from core.i18n import _, format_decimal, format_number
from ui.config_ui import theme
from ui.panels.base import PanelSection, follow_language, load_rule

__all__ = ["DevSection", "StatsChart", "stats_text"]


def stats_text(stats: Any) -> str:
    """A StreamStats as the section shows it, one figure a line."""
    parts = []
    if stats.ttft_s is not None:
        parts.append(_("[b]First token[/b]  {seconds} s").format(seconds=format_decimal(stats.ttft_s, 2)))
    if stats.gen_tps is not None:
        parts.append(_("[b]Generation[/b]  {speed} tokens/s").format(speed=format_decimal(stats.gen_tps, 1)))
    elif not stats.counts_from:
        parts.append(_("[b]Generation[/b]  not reported (the server sent no token counts)"))
    if stats.eval_count is not None:
        parts.append(_("[b]Tokens[/b]  {count}").format(count=format_number(stats.eval_count)))
    parts.append(_("[b]Total[/b]  {seconds} s").format(seconds=format_decimal(stats.total_s, 2)))
    if stats.load_s:
        parts.append(_("[b]Load[/b]  {seconds} s").format(seconds=format_decimal(stats.load_s, 2)))
    return "\n".join(parts)


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


class DevSection(PanelSection):
    """Event: on_dev_switch(on), raised when the switch is flipped (by a click or by setting dev_mode)."""

    dev_mode = BooleanProperty(False)
    dev_stats = StringProperty("")
    dev_history = ListProperty([])

    __events__ = ("on_dev_switch",)

    def __init__(self, **kwargs: Any) -> None:
        self._stats: Any = None
        kwargs.setdefault("dev_stats", _("No reply yet."))
        super().__init__(**kwargs)
        follow_language(self.retranslate)

    def set_stats(self, stats: Any | None, history: Sequence[float | None]) -> None:
        """Show the last reply's figures (a StreamStats) and the chart of recent tokens/s."""
        self.dev_history = [v for v in history if v is not None]
        if stats is None:
            return
        self._stats = stats
        self.dev_stats = stats_text(stats)

    def retranslate(self) -> None:
        self.dev_stats = stats_text(self._stats) if self._stats is not None else _("No reply yet.")

    def on_dev_switch(self, on: bool) -> None:
        """Forwarded by InfoPanel."""


load_rule(__file__)
