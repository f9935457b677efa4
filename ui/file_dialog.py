"""Choose a file to open, or where to save one.

The system's own dialog comes first, through plyer: zenity, kdialog or yad on Linux (whichever is installed),
the Windows or macOS dialog elsewhere. It runs on a worker thread (plyer waits for it), so the window keeps
drawing; the choice comes back on the main thread through the app's ``Controller.post``. Where there is none (no plyer, no such program, or it
fails), the app's own dialog opens instead: a themed popup with a folder bar (type a path, Enter), the folder's
entries (folders first, then the files of the types asked for), a name field when saving, and a question
before replacing a file. ``settings.ui["file_dialog"]`` chooses: "auto" (default), "native" or "kivy".
"""

from __future__ import annotations

import fnmatch
import logging
import os
import shutil
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

import ui.i18n  # noqa: F401  (_() in the kv rules below)
from core.i18n import N_, _, format_size
from ui.dialogs import Dialog  # and its kv rules: DialogCard, DialogButton, DialogTitle

__all__ = ["FileDialog", "choose_file", "native_backend"]

log = logging.getLogger("ia.ui")
Filters = Sequence[tuple[str, Sequence[str]]]  # (name shown, patterns such as "*.json")
_LINUX_DIALOGS = (("zenity", "gnome"), ("kdialog", "kde"), ("yad", "yad"))

# The texts of the kv rules below, for the catalog (the scan does not read kv inside Python strings).
_KV_TEXTS = (N_("Up"), N_("Name"), N_("Cancel"))

Builder.load_string(  # i18n: kv rules; their texts are _() calls, listed in _KV_TEXTS
    """
#:import theme ui.config_ui.theme
#:import SIZES ui.config_ui.SIZES
<FileRow>:
    size_hint_y: None
    height: dp(34)
    padding: dp(10), 0
    spacing: dp(8)
    canvas.before:
        Color:
            rgba: theme.colors["selection"] if root.selected else (theme.colors["hover"] if root.state == "down" else (0, 0, 0, 0))
        RoundedRectangle:
            pos: self.pos
            size: self.size
            radius: [dp(5)]
    Label:
        text: root.name + ("/" if root.is_dir else "")
        bold: root.is_dir
        color: theme.colors["text"]
        font_size: SIZES["font"]
        text_size: self.size
        halign: "left"
        valign: "middle"
        shorten: True
        shorten_from: "right"
    Label:
        text: root.detail
        color: theme.colors["text_muted"]
        font_size: SIZES["font_small"]
        size_hint_x: None
        width: dp(90)
        text_size: self.size
        halign: "right"
        valign: "middle"

<FileDialog>:
    size_hint: None, None
    width: min(dp(640), app.root.width * .92) if app.root else dp(640)
    height: min(dp(520), app.root.height * .9) if app.root else dp(520)
    auto_dismiss: True
    background: ""
    background_color: 0, 0, 0, 0
    overlay_color: 0, 0, 0, .45
    DialogCard:
        spacing: dp(10)
        DialogTitle:
            text: root.title
        BoxLayout:
            size_hint_y: None
            height: dp(36)
            spacing: dp(8)
            DialogButton:
                id: up_btn
                text: _("Up")
                size: dp(56), dp(36)
                background_color: theme.colors["surface_alt"]
                color: theme.colors["text"]
                on_release: root.go_up()
            TextInput:
                id: folder_input
                text: root.folder
                multiline: False
                write_tab: False
                font_size: SIZES["font_small"]
                padding: dp(8), (self.height - self.line_height) / 2
                background_normal: ""
                background_active: ""
                background_color: theme.colors["input_bg"]
                foreground_color: theme.colors["text"]
                cursor_color: theme.colors["accent"]
                on_text_validate: root.go_to(self.text)
        RecycleView:
            id: rv
            viewclass: "FileRow"
            bar_width: dp(6)
            bar_color: theme.colors["scrollbar"]
            scroll_type: ["bars", "content"]
            canvas.before:
                Color:
                    rgba: theme.colors["input_bg"]
                Rectangle:
                    pos: self.pos
                    size: self.size
                Color:
                    rgba: theme.colors["border"]
                Line:
                    rectangle: self.x, self.y, self.width, self.height
            RecycleBoxLayout:
                orientation: "vertical"
                default_size: None, dp(34)
                default_size_hint: 1, None
                size_hint_y: None
                height: self.minimum_height
                padding: dp(4)
        BoxLayout:
            size_hint_y: None
            height: dp(36) if root.save_mode else 0
            opacity: 1 if root.save_mode else 0
            disabled: not root.save_mode
            spacing: dp(8)
            Label:
                text: _("Name")
                color: theme.colors["text_muted"]
                font_size: SIZES["font"]
                size_hint_x: None
                width: dp(56)
            TextInput:
                id: name_input
                text: root.filename
                multiline: False
                write_tab: False
                font_size: SIZES["font"]
                padding: dp(8), (self.height - self.line_height) / 2
                background_normal: ""
                background_active: ""
                background_color: theme.colors["input_bg"]
                foreground_color: theme.colors["text"]
                cursor_color: theme.colors["accent"]
                on_text: root.filename = self.text
                on_text_validate: root.accept()
        Label:
            text: root.error
            color: theme.colors["danger"]
            font_size: SIZES["font_small"]
            text_size: self.width, None
            size_hint_y: None
            height: self.texture_size[1] if root.error else 0
        BoxLayout:
            size_hint_y: None
            height: dp(36)
            spacing: dp(10)
            Label:
                text: root.hint
                color: theme.colors["text_muted"]
                font_size: SIZES["font_small"]
                text_size: self.size
                halign: "left"
                valign: "middle"
                shorten: True
            DialogButton:
                id: cancel_btn
                text: _("Cancel")
                background_color: theme.colors["surface_alt"]
                color: theme.colors["text"]
                on_release: root.dismiss()
            DialogButton:
                id: accept_btn
                text: root.accept_label
                background_color: theme.colors["accent"]
                color: theme.colors["accent_text"]
                on_release: root.accept()
"""
)


def native_backend() -> str | None:
    """Which system dialog plyer would use here ("gnome", "kde", "yad" on Linux; "system" on Windows and macOS),
    or None when there is none (plyer missing, or none of zenity, kdialog, yad installed)."""
    try:
        import plyer  # noqa: F401
    except ImportError:
        return None
    if sys.platform.startswith("linux"):
        return next((kind for program, kind in _LINUX_DIALOGS if shutil.which(program)), None)
    return "system" if sys.platform in ("win32", "darwin") else None


def choose_file(
    *,
    title: str,
    filters: Filters,
    on_path: Callable[[Path], None],
    folder: Path | None = None,
    save_name: str | None = None,
    accept_label: str = "",
    mode: str = "auto",
    post: Callable[[Callable[[], None]], None] | None = None,
) -> FileDialog | None:
    """Ask for a file to open (or, with ``save_name``, where to save one); ``on_path(path)`` runs on the main
    thread with the choice, never on cancel. Filter names are translated here. Returns the app's own dialog
    when it is the one shown (tests drive it), None when the system dialog runs; its answer reaches the main
    thread through ``post`` (the app's ``Controller.post``; by default the running app's)."""
    start = folder if folder is not None and folder.is_dir() else Path.home()

    def own_dialog() -> FileDialog:
        dialog = FileDialog(
            title=title,
            save_mode=save_name is not None,
            filename=save_name or "",
            patterns=[p for _name, patterns in filters for p in patterns],
            hint=" ".join(f"{_(name)}: {', '.join(patterns)}" for name, patterns in filters),
            accept_label=accept_label or (_("Save") if save_name is not None else _("Open")),
            path_action=on_path,
        )
        dialog.open()
        dialog.go_to(str(start))
        return dialog

    backend = native_backend() if mode != "kivy" else None
    if backend is None:
        return own_dialog()
    if post is None:
        from kivy.app import App

        from ui.controller import clock_post

        post = getattr(getattr(App.get_running_app(), "controller", None), "post", None) or clock_post
    _run_native(
        backend,
        title,
        [(_(name), patterns) for name, patterns in filters],
        start,
        save_name,
        on_path,
        own_dialog,
        post,
    )
    return None


def _run_native(
    backend: str,
    title: str,
    filters: Filters,
    folder: Path,
    save_name: str | None,
    on_path: Callable[[Path], None],
    fallback: Callable[[], Any],
    post: Callable[[Callable[[], None]], None],
) -> None:
    def work() -> None:
        try:
            from plyer import filechooser

            kwargs: dict[str, Any] = {
                "title": title,
                "filters": [[name, *patterns] for name, patterns in filters],
                "path": str(folder / save_name) if save_name else str(folder) + os.sep,
            }
            if backend in ("gnome", "kde", "yad"):
                kwargs["desktop_override"] = backend
            if save_name is not None:
                chosen = filechooser.save_file(**kwargs)
            else:
                chosen = filechooser.open_file(multiple=False, **kwargs)
        except Exception as exc:  # plyer or its program failed: the app's own dialog does the job
            log.warning("the system file dialog failed (%s); using the app's own", exc)
            post(fallback)
            return
        if chosen:
            path = Path(chosen[0])
            post(lambda: on_path(path))

    threading.Thread(target=work, name="ia-file-dialog", daemon=True).start()


class FileRow(ButtonBehavior, BoxLayout):
    """One entry of the folder: a click selects it, a double click opens it."""

    name = StringProperty("")
    path = StringProperty("")
    detail = StringProperty("")
    is_dir = BooleanProperty(False)
    selected = BooleanProperty(False)
    dialog = ObjectProperty(None, allownone=True)

    def on_touch_down(self, touch: Any) -> bool:
        if self.collide_point(*touch.pos) and touch.is_double_tap and self.dialog is not None:
            self.dialog.open_entry(self.path, self.is_dir)
            return True
        return super().on_touch_down(touch)

    def on_release(self) -> None:
        if self.dialog is not None:
            self.dialog.select(self.path, self.is_dir)


class FileDialog(Dialog):
    """The app's own file dialog; ``path_action(Path)`` receives the file chosen (open) or to write (save)."""

    title = StringProperty("")
    folder = StringProperty("")
    filename = StringProperty("")
    error = StringProperty("")
    hint = StringProperty("")
    accept_label = StringProperty("")
    save_mode = BooleanProperty(False)
    patterns = ListProperty([])
    selection = StringProperty("")
    path_action = ObjectProperty(None, allownone=True)

    def go_to(self, text: str) -> None:
        """Show the folder typed (or the folder of a file typed, that file selected)."""
        path = Path(os.path.expanduser(text.strip() or str(Path.home())))
        if path.is_file():
            self.go_to(str(path.parent))
            self.select(str(path), False)
            return
        if not path.is_dir():
            self.error = _("There is no folder {path}.").format(path=path)
            self.ids.folder_input.text = self.folder
            return
        try:
            entries = list(os.scandir(path))
        except OSError as exc:
            self.error = _("Cannot open {path}: {reason}.").format(path=path, reason=exc.strerror or exc)
            self.ids.folder_input.text = self.folder
            return
        self.error = ""
        self.folder = str(path.resolve())
        self.ids.folder_input.text = self.folder
        self.selection = ""
        self.ids.rv.data = self._rows(entries)
        self.ids.rv.scroll_y = 1

    def _rows(self, entries: list[os.DirEntry[str]]) -> list[dict[str, Any]]:
        folders, files = [], []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                is_dir = entry.is_dir()
                size = 0 if is_dir else entry.stat().st_size
            except OSError:
                continue
            if is_dir:
                folders.append((entry.name.casefold(), entry.name, entry.path, _("folder"), True))
            elif not self.patterns or any(
                fnmatch.fnmatch(entry.name.lower(), p.lower()) for p in self.patterns
            ):
                files.append((entry.name.casefold(), entry.name, entry.path, format_size(size), False))
        rows = []
        for _key, name, path, detail, is_dir in sorted(folders) + sorted(files):
            rows.append(
                {
                    "name": name,
                    "path": path,
                    "detail": detail,
                    "is_dir": is_dir,
                    "selected": False,
                    "dialog": self,
                }
            )
        return rows

    def go_up(self) -> None:
        parent = Path(self.folder).parent
        if str(parent) != self.folder:
            self.go_to(str(parent))

    def select(self, path: str, is_dir: bool) -> None:
        self.error = ""
        self.selection = "" if is_dir else path
        for row in self.ids.rv.data:
            row["selected"] = row["path"] == path
        self.ids.rv.refresh_from_data()
        if self.save_mode and not is_dir:
            self.ids.name_input.text = Path(path).name

    def open_entry(self, path: str, is_dir: bool) -> None:
        if is_dir:
            self.go_to(path)
        else:
            self.select(path, False)
            self.accept()

    def rows(self) -> list[dict[str, Any]]:
        """The entries on display (for tests)."""
        return list(self.ids.rv.data)

    def row_widget(self, name: str) -> FileRow | None:
        """The row showing ``name``, when it is on screen (for tests that click it)."""
        layout = self.ids.rv.children[0] if self.ids.rv.children else None
        for child in layout.children if layout is not None else []:
            if isinstance(child, FileRow) and child.name == name:
                return child
        return None

    def accept(self) -> None:
        if not self.save_mode:
            if not self.selection:
                self.error = _("Choose a file first (a double click opens a folder).")
                return
            self._done(Path(self.selection))
            return
        name = self.filename.strip()
        if not name:
            self.error = _("Give the file a name.")
            return
        target = Path(os.path.expanduser(name))
        target = target if target.is_absolute() else Path(self.folder) / target
        if target.is_dir():
            self.go_to(str(target))
            return
        if not target.parent.is_dir():
            self.error = _("There is no folder {path}.").format(path=target.parent)
            return
        if target.exists():
            from ui.dialogs import confirm

            confirm(
                _("Replace the file?"),
                _("{name} already exists in {folder}. Replacing it overwrites its content.").format(
                    name=target.name, folder=target.parent
                ),
                lambda: self._done(target),
                confirm_label=_("Replace"),
            )
            return
        self._done(target)

    def _done(self, path: Path) -> None:
        self.dismiss()
        if self.path_action is not None:
            self.path_action(path)
