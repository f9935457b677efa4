"""Small modal popups: confirm a destructive action, type a new name, pick one of a few choices, or read a
message (a result, or "working…" while something runs).

All of them (and the app's file dialog, ui/file_dialog.py) are ``Dialog``: once closed they fade out for a tenth
of a second but let go of the pointer at once, so a click made right after OK (the export icon of a row, say)
reaches the window instead of being swallowed by a popup that is already going away."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.modalview import ModalView

import ui.i18n  # noqa: F401  (_() in the kv rules below)
from core.i18n import N_, _

__all__ = [  # i18n: names of this module
    "ChoiceDialog",
    "ConfirmDialog",
    "Dialog",
    "MessageDialog",
    "RenameDialog",
    "ask_name",
    "choose",
    "confirm",
    "inform",
]

# The texts of the kv rules below, for the catalog (the scan does not read kv inside Python strings).
_KV_TEXTS = (N_("Cancel"), N_("Rename"), N_("OK"))

Builder.load_string(  # i18n: kv rules; their texts are _() calls, listed in _KV_TEXTS
    """
#:import theme ui.config_ui.theme
#:import SIZES ui.config_ui.SIZES
<DialogButton@Button>:
    size_hint: None, None
    size: max(dp(96), self.texture_size[0] + dp(28)), dp(36)
    background_normal: ""
    font_size: SIZES["font"]

<DialogCard@BoxLayout>:
    orientation: "vertical"
    padding: dp(20)
    spacing: dp(14)
    canvas.before:
        Color:
            rgba: theme.colors["surface"]
        RoundedRectangle:
            pos: self.pos
            size: self.size
            radius: [dp(10)]

<DialogTitle@Label>:
    bold: True
    color: theme.colors["text"]
    font_size: SIZES["font_title"]
    text_size: self.width, None
    size_hint_y: None
    height: self.texture_size[1]

<ConfirmDialog,RenameDialog,ChoiceDialog,MessageDialog>:
    size_hint: None, None
    width: min(dp(460), app.root.width * .9) if app.root else dp(460)
    auto_dismiss: True
    background: ""
    background_color: 0, 0, 0, 0
    overlay_color: 0, 0, 0, .45

<ConfirmDialog>:
    height: box.minimum_height
    DialogCard:
        id: box
        DialogTitle:
            text: root.title
        Label:
            text: root.message
            color: theme.colors["text_muted"]
            font_size: SIZES["font"]
            text_size: self.width, None
            size_hint_y: None
            height: self.texture_size[1]
        BoxLayout:
            size_hint_y: None
            height: dp(36)
            spacing: dp(10)
            Widget:
            DialogButton:
                id: cancel_btn
                text: _("Cancel")
                background_color: theme.colors["surface_alt"]
                color: theme.colors["text"]
                on_release: root.dismiss()
            DialogButton:
                id: confirm_btn
                text: root.confirm_label
                background_color: theme.colors["danger"]
                color: 1, 1, 1, 1
                on_release: root.accept()

<RenameDialog>:
    height: box.minimum_height
    DialogCard:
        id: box
        DialogTitle:
            text: root.title
        TextInput:
            id: field
            text: root.value
            multiline: False
            size_hint_y: None
            height: dp(38)
            padding: dp(10), dp(10)
            font_size: SIZES["font"]
            background_normal: ""
            background_active: ""
            background_color: theme.colors["input_bg"]
            foreground_color: theme.colors["text"]
            cursor_color: theme.colors["accent"]
            on_text_validate: root.accept()
        BoxLayout:
            size_hint_y: None
            height: dp(36)
            spacing: dp(10)
            Widget:
            DialogButton:
                text: _("Cancel")
                background_color: theme.colors["surface_alt"]
                color: theme.colors["text"]
                on_release: root.dismiss()
            DialogButton:
                id: confirm_btn
                text: _("Rename")
                background_color: theme.colors["accent"]
                color: theme.colors["accent_text"]
                on_release: root.accept()

<ChoiceButton@Button>:
    key: ""
    detail: ""
    size_hint_y: None
    height: dp(52)
    background_normal: ""
    background_down: ""
    background_color: theme.colors["hover"] if self.state == "down" else theme.colors["surface_alt"]
    color: 0, 0, 0, 0
    BoxLayout:
        orientation: "vertical"
        pos: self.parent.x + dp(14), self.parent.y + dp(6)
        size: self.parent.width - dp(28), self.parent.height - dp(12)
        Label:
            text: self.parent.parent.text
            bold: True
            color: theme.colors["text"]
            font_size: SIZES["font"]
            text_size: self.size
            halign: "left"
            valign: "middle"
        Label:
            text: self.parent.parent.detail
            color: theme.colors["text_muted"]
            font_size: SIZES["font_small"]
            text_size: self.size
            halign: "left"
            valign: "middle"
            shorten: True
            shorten_from: "right"

<ChoiceDialog>:
    height: box.minimum_height
    DialogCard:
        id: box
        DialogTitle:
            text: root.title
        Label:
            text: root.message
            color: theme.colors["text_muted"]
            font_size: SIZES["font"]
            text_size: self.width, None
            size_hint_y: None
            height: self.texture_size[1] if root.message else 0
            opacity: 1 if root.message else 0
        BoxLayout:
            id: choices
            orientation: "vertical"
            spacing: dp(6)
            size_hint_y: None
            height: self.minimum_height
        BoxLayout:
            size_hint_y: None
            height: dp(36)
            Widget:
            DialogButton:
                id: cancel_btn
                text: _("Cancel")
                background_color: theme.colors["surface_alt"]
                color: theme.colors["text"]
                on_release: root.dismiss()

<MessageDialog>:
    height: box.minimum_height
    auto_dismiss: not root.busy
    DialogCard:
        id: box
        DialogTitle:
            text: root.title
        Label:
            id: message
            text: root.message
            color: theme.colors["text_muted"]
            font_size: SIZES["font"]
            text_size: self.width, None
            size_hint_y: None
            height: self.texture_size[1]
        BoxLayout:
            size_hint_y: None
            height: 0 if root.busy else dp(36)
            opacity: 0 if root.busy else 1
            disabled: root.busy
            Widget:
            DialogButton:
                id: ok_btn
                text: _("OK")
                background_color: theme.colors["accent"]
                color: theme.colors["accent_text"]
                on_release: root.dismiss()
"""
)


class Dialog(ModalView):
    """A modal popup that stops taking clicks as soon as it is closed, while it fades out.

    Kivy's ModalView keeps swallowing every touch until its fade-out ends (0.1 s): a person who presses OK and
    at once clicks something else (the next export, say) would see the click do nothing. ``closing`` is True
    from the moment the popup is dismissed until it is opened again."""

    closing = BooleanProperty(False)

    def on_pre_open(self) -> None:
        self.closing = False

    def on_dismiss(self) -> None:
        # The class handler runs only when no bound handler kept the popup open (returned True).
        self.closing = True

    def on_touch_down(self, touch: Any) -> bool:
        if self.closing:
            return False
        return super().on_touch_down(touch)

    def on_touch_move(self, touch: Any) -> bool:
        if self.closing:
            return False
        return super().on_touch_move(touch)

    def on_touch_up(self, touch: Any) -> bool:
        if self.closing:
            self._touch_started_inside = None
            return False
        return super().on_touch_up(touch)


class ConfirmDialog(Dialog):
    """Asks before something that cannot be undone; ``confirm_action()`` runs only on the confirm button."""

    title = StringProperty("")
    message = StringProperty("")
    confirm_label = StringProperty("")
    confirm_action = ObjectProperty(None, allownone=True)

    def accept(self) -> None:
        self.dismiss()
        if self.confirm_action is not None:
            self.confirm_action()


class RenameDialog(Dialog):
    """Asks for a new name; ``name_action(text)`` receives the stripped, non-empty text."""

    title = StringProperty("")
    value = StringProperty("")
    name_action = ObjectProperty(None, allownone=True)

    def on_open(self) -> None:
        field = self.ids.field
        field.focus = True
        field.select_all()

    def accept(self) -> None:
        text = self.ids.field.text.strip()
        if not text:
            return
        self.dismiss()
        if self.name_action is not None:
            self.name_action(text)


def confirm(
    title: str, message: str, on_confirm: Callable[[], None], confirm_label: str = ""
) -> ConfirmDialog:
    """Open a confirmation popup and return it (tests press its buttons); the button says "Delete" unless
    ``confirm_label`` says otherwise."""
    dialog = ConfirmDialog(
        title=title, message=message, confirm_action=on_confirm, confirm_label=confirm_label or _("Delete")
    )
    dialog.open()
    return dialog


def ask_name(title: str, value: str, on_name: Callable[[str], None]) -> RenameDialog:
    """Open a rename popup prefilled with ``value``."""
    dialog = RenameDialog(title=title, value=value, name_action=on_name)
    dialog.open()
    return dialog


class ChoiceDialog(Dialog):
    """Offers a few choices, one button each (a label and a line saying what it is for); ``choice_action(key)``
    runs for the one pressed."""

    title = StringProperty("")
    message = StringProperty("")
    choice_action = ObjectProperty(None, allownone=True)

    def set_choices(self, choices: list[tuple[str, str, str]]) -> None:
        from kivy.factory import Factory

        box = self.ids.choices
        box.clear_widgets()
        for key, label, detail in choices:
            button = Factory.ChoiceButton()  # its kv properties (key, detail) exist once built
            button.text, button.detail, button.key = label, detail, key
            button.bind(on_release=lambda b: self.pick(b.key))
            box.add_widget(button)

    def buttons(self) -> dict[str, object]:
        """The choice buttons by key (for tests and keyboard users)."""
        return {b.key: b for b in self.ids.choices.children}

    def pick(self, key: str) -> None:
        self.dismiss()
        if self.choice_action is not None:
            self.choice_action(key)


class MessageDialog(Dialog):
    """A message with OK; while ``busy`` (work in progress) it has no button and stays until closed by code."""

    title = StringProperty("")
    message = StringProperty("")
    busy = BooleanProperty(False)


def choose(
    title: str, message: str, choices: list[tuple[str, str, str]], on_choice: Callable[[str], None]
) -> ChoiceDialog:
    """Open a popup offering ``choices`` as (key, label, detail); ``on_choice(key)`` runs for the one picked."""
    dialog = ChoiceDialog(title=title, message=message, choice_action=on_choice)
    dialog.set_choices(choices)
    dialog.open()
    return dialog


def inform(title: str, message: str, *, busy: bool = False) -> MessageDialog:
    """Open a message popup (with OK, or none while ``busy``) and return it."""
    dialog = MessageDialog(title=title, message=message, busy=busy)
    dialog.open()
    return dialog
