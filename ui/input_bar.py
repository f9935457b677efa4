"""The input zone: a multiline message box, Send/Stop, attached images and files, large pastes kept as chips.

Public API (used by ui/app.py; see docs/INTERFACES.md "ui (chat zone)"):

    bar = InputBar()
    bar.streaming = True/False          # the Send button becomes Stop while a reply streams
    events: on_send(text: str, images: list[Path]), on_stop()
    bar.clear()                         # the shell calls it only once a send has started: text is never lost
    bar.restore(content)                # a message that could not be sent: its text back in the box, its
                                        # files back as chips
    bar.focus_input()
    bar.add_images(paths) -> list[str]  # attach images (validated); returns the messages for refused ones
    bar.add_files(paths) -> list[str]   # attach text/code files (core.attachments); same return
    bar.attach_paths(paths)             # images as images, any other file as a text file
    bar.handle_drop(path)               # what a file dropped on the window does (the bar binds
                                        # Window.on_drop_file itself while accept_drops is True)
    bar.open_file_chooser()             # Attach: the system's file dialog, else the app's (ui/file_dialog.py)
    bar.notice                          # the last message shown under the box (empty message, bad file...)

Enter sends, Shift+Enter inserts a new line. A paste larger than LIMITS["paste_inline_max"] characters is not
put into the TextInput (slow with megabytes of text) but kept as a "Pasted text (5.0 MB)" chip, which is sent
as part of the message text, after what was typed. An attached text file is a "notes.py · 42 lines" chip; it
is sent as a fenced block named after the file, after the text and the pastes (core.attachments). A file
larger than LIMITS["file_max_bytes"], binary, not UTF-8, unreadable or a folder is refused with a message
under the box, and what was typed or attached stays.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.textinput import TextInput

import ui.i18n  # noqa: F401  (_() in the kv rules)
from core.attachments import (
    Attachment,
    AttachmentRefused,
    message_with_files,
    read_attachment,
    split_attachments,
)
from core.i18n import N_, _, format_decimal, format_number, ngettext
from ui import clip  # noqa: F401  (FlatImage in the kv rules)
from ui.config_ui import LIMITS

__all__ = ["IMAGE_EXTENSIONS", "InputBar", "MessageInput", "describe_paste"]

Builder.load_file(os.path.join(os.path.dirname(__file__), "input_bar.kv"))

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp")


def describe_paste(text: str) -> str:
    """Chip label for a large paste: its size and line count."""
    size = len(text.encode("utf-8"))
    if size >= 1024 * 1024:
        human = _("{size} MB").format(size=format_decimal(size / (1024 * 1024), 1))
    else:
        human = _("{size} KB").format(size=format_number(round(size / 1024)))
    lines = text.count("\n") + 1
    return ngettext(
        "Pasted text ({size}, {count} line)", "Pasted text ({size}, {count} lines)", lines
    ).format(size=human, count=format_number(lines))


def check_image(path: Path) -> str | None:
    """None when `path` is a readable image file, else a sentence saying why it is refused."""
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        return _("Not an image: {name} (attach {types} files).").format(
            name=path.name, types=", ".join(IMAGE_EXTENSIONS)
        )
    if not path.is_file():
        return _("Cannot attach {name}: the file does not exist.").format(name=path.name)
    try:
        from PIL import Image

        with Image.open(path) as img:
            img.verify()
    except Exception as exc:  # PIL raises many types for broken files
        return _("Cannot attach {name}: it is not a readable image ({reason}).").format(
            name=path.name, reason=type(exc).__name__
        )
    return None


class MessageInput(TextInput):
    """The message box: Enter asks the bar to send, Shift+Enter is a new line, huge pastes become chips."""

    bar = ObjectProperty(None, allownone=True)

    def keyboard_on_key_down(
        self, window: Any, keycode: tuple[int, str], text: str | None, modifiers: list[str]
    ) -> bool:
        key = keycode[0]
        if key in (13, 271) and "shift" not in modifiers and not self._ime_composition:
            if self.bar is not None:
                self.bar.send()
            return True
        return bool(super().keyboard_on_key_down(window, keycode, text, modifiers))

    @property
    def _ime_composition(self) -> bool:
        return bool(getattr(self, "_ime_composition_text", ""))

    def insert_text(self, substring: str, from_undo: bool = False) -> None:
        if not from_undo and self.bar is not None and len(substring) > LIMITS["paste_inline_max"]:
            self.bar.add_pasted(substring)
            return
        super().insert_text(substring, from_undo=from_undo)


class InputBar(BoxLayout):
    """Message box, Send/Stop, attach button, thumbnails of attached images and chips of large pastes."""

    streaming = BooleanProperty(False)
    notice = StringProperty("")
    notice_is_error = BooleanProperty(False)
    images = ListProperty([])  # str paths, in the order attached
    pasted = ListProperty([])  # large pasted texts, in order
    files = ListProperty([])  # attached text files (core.attachments.Attachment), in order
    dialog_mode = StringProperty("auto")  # ui/file_dialog.py's mode: "auto", "native" or "kivy"
    dialog_folder = StringProperty("")  # where Attach's dialog opens: the folder of the last file chosen
    accept_drops = BooleanProperty(True)
    hint_text = StringProperty("")  # "": the kv rule's translated "Message  (Shift+Enter: new line)"

    __events__ = ("on_send", "on_stop")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ids.input.bar = self
        self.file_popup: Any = None
        from kivy.core.window import Window

        Window.fbind("on_drop_file", self._on_window_drop)
        self.fbind("images", self._refresh_chips)
        self.fbind("pasted", self._refresh_chips)
        self.fbind("files", self._refresh_chips)

    # ----- public API -----------------------------------------------------------------------------------

    def message_text(self) -> str:
        """The text that Send would send: what was typed, then each large paste, then each attached file."""
        parts = [self.ids.input.text] if self.ids.input.text.strip() else []
        parts.extend(self.pasted)
        return message_with_files("\n\n".join(parts), list(self.files))

    def send(self) -> None:
        """Dispatch on_send(text, images) unless there is nothing to send or a reply is streaming."""
        if self.streaming:
            self.show_notice(
                lambda: _("A reply is still coming: press Stop first, or wait for it to finish.")
            )
            return
        text = self.message_text()
        if not text.strip() and not self.images:
            self.show_notice(lambda: _("Type a message or attach a file first."))
            return
        self.show_notice("")
        self.dispatch("on_send", text, [Path(p) for p in self.images])

    def stop(self) -> None:
        self.dispatch("on_stop")

    def send_or_stop(self) -> None:
        """The Send/Stop button; the focus goes back to the box so typing can go on."""
        if self.streaming:
            self.stop()
        else:
            self.send()
        self.focus_input()

    def clear(self) -> None:
        """Empty the box, the attachments and the pastes (after a send has started)."""
        self.ids.input.text = ""
        self.images = []
        self.pasted = []
        self.files = []
        self.show_notice("")

    def restore(self, content: str) -> None:
        """Put back a message that could not be sent: its text in the box, its attached files as chips."""
        parts = split_attachments(content)
        self.ids.input.text = "\n\n".join(p for p in parts if isinstance(p, str))
        self.files = [p for p in parts if isinstance(p, Attachment)]

    def focus_input(self) -> None:
        Clock.schedule_once(lambda *_args: setattr(self.ids.input, "focus", True), 0)

    def show_notice(self, text: str | Any, error: bool = True) -> None:
        """The line under the box; given as a function that makes it, it is made again when the language
        changes (retranslate)."""
        self._notice_source = text if callable(text) else None
        self.notice = text() if callable(text) else text
        self.notice_is_error = error and bool(self.notice)

    def retranslate(self) -> None:
        """Make again, in the current language, the texts set from Python: the notice, the paste chips."""
        source = getattr(self, "_notice_source", None)
        if source is not None:
            self.notice = source()
        self._refresh_chips()

    def add_images(self, paths: list[Path | str]) -> list[str]:
        """Attach each readable image; refused files are listed in the notice. Returns the refusals."""
        problems: list[str] = []
        added = list(self.images)
        for raw in paths:
            path = Path(raw).expanduser()
            problem = check_image(path)
            if problem:
                problems.append(problem)
            elif str(path) not in added:
                added.append(str(path))
        self.images = added
        self.show_notice(" ".join(problems))
        return problems

    def remove_image(self, path: str) -> None:
        self.images = [p for p in self.images if p != path]

    def add_pasted(self, text: str) -> None:
        self.pasted = [*self.pasted, text]
        self.show_notice(
            lambda: _("{what} is kept as an attachment and sent with the message.").format(
                what=describe_paste(text)
            ),
            False,
        )

    def remove_pasted(self, index: int) -> None:
        self.pasted = [t for i, t in enumerate(self.pasted) if i != index]

    def add_files(self, paths: list[Path | str]) -> list[str]:
        """Attach each readable text file (core.attachments.read_attachment, LIMITS["file_max_bytes"]);
        refused files are listed in the notice. Returns the refusals."""
        problems: list[str] = []
        added = list(self.files)
        for raw in paths:
            try:
                attachment = read_attachment(raw, int(LIMITS["file_max_bytes"]))
            except AttachmentRefused as exc:
                problems.append(str(exc))
                continue
            if attachment not in added:
                added.append(attachment)
        self.files = added
        self.show_notice(" ".join(problems))
        return problems

    def remove_file(self, index: int) -> None:
        self.files = [f for i, f in enumerate(self.files) if i != index]

    def attach_paths(self, paths: list[Path | str]) -> list[str]:
        """Attach images as images and any other file as a text file; returns the refusals (also shown)."""
        images = [p for p in paths if Path(p).suffix.lower() in IMAGE_EXTENSIONS]
        others = [p for p in paths if Path(p).suffix.lower() not in IMAGE_EXTENSIONS]
        problems = (self.add_images(images) if images else []) + (self.add_files(others) if others else [])
        self.show_notice(" ".join(problems))
        return problems

    def handle_drop(self, path: str | Path) -> None:
        """A file dropped on the window: an image is attached as an image, any other file as text."""
        self.attach_paths([path])

    def open_file_chooser(self) -> None:
        """Attach: choose a file in the system's dialog (else the app's own); it is attached as an image or as a
        text file. The app's own dialog is kept in ``file_popup`` (tests drive it)."""
        from ui.file_dialog import choose_file

        def chosen(path: Path) -> None:
            self.dialog_folder = str(path.parent)
            self.attach_paths([path])
            self.focus_input()

        self.file_popup = choose_file(
            title=_("Attach a file"),
            filters=[
                (N_("Text and code files, images"), ["*"]),
                (N_("Images"), [f"*{e}" for e in IMAGE_EXTENSIONS]),
            ],
            on_path=chosen,
            folder=Path(self.dialog_folder) if self.dialog_folder else None,
            accept_label=_("Attach"),
            mode=self.dialog_mode,
        )

    # ----- events -------------------------------------------------------------------------------------------

    def on_send(self, text: str, images: list[Path]) -> None:
        pass

    def on_stop(self) -> None:
        pass

    def _on_window_drop(self, _window: Any, filename: bytes | str, *_args: Any) -> None:
        if not self.accept_drops or self.get_root_window() is None:
            return
        path = filename.decode("utf-8", errors="surrogateescape") if isinstance(filename, bytes) else filename
        self.handle_drop(path)

    def _refresh_chips(self, *_args: Any) -> None:
        from kivy.factory import Factory

        box = self.ids.chips
        box.clear_widgets()
        for path in self.images:
            chip = Factory.ImageChip()
            chip.source, chip.bar = path, self
            box.add_widget(chip)
        for i, text in enumerate(self.pasted):
            chip = Factory.PasteChip()
            chip.text, chip.paste_index, chip.bar = describe_paste(text), i, self
            box.add_widget(chip)
        for i, attachment in enumerate(self.files):
            chip = Factory.FileChip()
            label = attachment.label
            if len(attachment.name) > 40:  # a very long name keeps its start and its extension
                label = f"{attachment.name[:24]}…{attachment.name[-12:]}{label[len(attachment.name) :]}"
            chip.text, chip.file_index, chip.bar = label, i, self
            box.add_widget(chip)
