"""The error banner above the chat: what went wrong, what to do, and a button for the obvious fix."""

from __future__ import annotations

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from core.i18n import N_, _
from ui import clip  # noqa: F401  (FlatImage in the kv rules)
from ui.controller import Problem

__all__ = ["ErrorBanner"]

ACTION_LABELS = {"reconnect": N_("Reconnect"), "pull": N_("Pull model"), "regenerate": N_("Regenerate")}

Builder.load_string(  # i18n: kv rules, no text of their own
    """
#:import theme ui.config_ui.theme
#:import SIZES ui.config_ui.SIZES
#:import icon_path ui.icons.icon_path
<ErrorBanner>:
    orientation: "horizontal"
    size_hint_y: None
    height: (max(lbl.texture_size[1], dp(36)) + dp(16)) if root.shown else 0
    opacity: 1 if root.shown else 0
    disabled: not root.shown
    padding: dp(12), dp(8)
    spacing: dp(10)
    canvas.before:
        Color:
            rgba: theme.colors["warning_bg"] if root.kind == "warning" else theme.colors["error_bg"]
        Rectangle:
            pos: self.pos
            size: self.size
        Color:
            rgba: theme.colors["warning_fg"] if root.kind == "warning" else theme.colors["error_fg"]
        Rectangle:
            pos: self.x, self.y
            size: dp(4), self.height
    FlatImage:
        source: icon_path("warning")
        color: theme.colors["warning_fg"] if root.kind == "warning" else theme.colors["error_fg"]
        size_hint: None, None
        size: dp(22), dp(22)
        pos_hint: {"center_y": .5}
    Label:
        id: lbl
        text: root.message
        color: theme.colors["text"]
        font_size: SIZES["font_small"]
        text_size: self.width, None
        halign: "left"
        valign: "middle"
        size_hint_y: None
        height: self.texture_size[1]
        pos_hint: {"center_y": .5}
    Button:
        id: action_btn
        text: root.action_text
        size_hint: None, None
        size: (self.texture_size[0] + dp(24), dp(32)) if root.action_id else (0, 0)
        opacity: 1 if root.action_id else 0
        disabled: not root.action_id
        pos_hint: {"center_y": .5}
        background_normal: ""
        background_color: theme.colors["accent"]
        color: theme.colors["accent_text"]
        font_size: SIZES["font_small"]
        on_release: root.dispatch("on_action", root.action_id)
    Button:
        id: dismiss_btn
        size_hint: None, None
        size: dp(28), dp(28)
        pos_hint: {"center_y": .5}
        background_normal: ""
        background_color: 0, 0, 0, 0
        on_release: root.hide()
        FlatImage:
            source: icon_path("close")
            color: theme.colors["text_muted"]
            size: dp(16), dp(16)
            center: self.parent.center
"""
)


class ErrorBanner(BoxLayout):
    """Shows one Problem at a time; ``on_action(action)`` fires when its button is pressed."""

    message = StringProperty("")
    action_id = StringProperty("")  # not "action": a property named so would fire on_action itself
    action_text = StringProperty("")
    kind = StringProperty("error")
    shown = BooleanProperty(False)

    __events__ = ("on_action",)

    def show(self, problem: Problem) -> None:
        """Display the problem (replacing any previous one)."""
        self.message = problem.message
        self.action_id = problem.action
        self.action_text = self._action_label(problem.action)
        self.kind = problem.kind
        self.shown = True

    @staticmethod
    def _action_label(action: str) -> str:
        return _(ACTION_LABELS[action]) if action in ACTION_LABELS else action.title()

    def retranslate(self) -> None:
        """The button's label in the current language (the message is the app's: IAApp.show_problem)."""
        self.action_text = self._action_label(self.action_id)

    def hide(self) -> None:
        self.shown = False
        self.message = ""
        self.action_id = ""

    def on_action(self, action: str) -> None:
        """Default handler: the app binds to this event."""
