"""The app's import and export: the conversation list's Import button and each row's export menu, a file dialog
(ui/file_dialog.py), the work on a worker thread, and what the person sees after: the summary of an import with
the newest imported conversation opened, the path of an export, or the sentence that says why not (banner).
A mixin of IAApp (ui/app.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.i18n import N_, _, format_number, ngettext
from ui.controller import describe_error

__all__ = ["ImportExportActions"]

# Filter names are translated where the dialog shows them.
IMPORT_FILTERS = [(N_("Conversation exports"), ["*.json", "*.zip"])]
EXPORT_FILTERS = {
    "html": [(N_("Web page"), ["*.html"])],
    "md": [("Markdown", ["*.md"])],
    "json": [("JSON", ["*.json"])],
}
_SHOWN = 8  # imported titles listed in the summary


def import_summary(result: Any) -> str:
    """The summary shown after an import: how many, from what, their titles, what was left out."""
    count = len(result.conversations)
    lines = [
        ngettext(
            "{count} conversation from {file} ({source}):",
            "{count} conversations from {file} ({source}):",
            count,
        ).format(count=format_number(count), file=result.path.name, source=result.source)
    ]
    lines += [f"•  {conv.title}" for conv in result.conversations[:_SHOWN]]
    if count > _SHOWN:
        lines.append(_("…and {count} more.").format(count=format_number(count - _SHOWN)))
    lines += [_("Skipped {what}.").format(what=line) for line in result.skipped]
    lines += [_("Note: {what}.").format(what=line) for line in result.notes]
    return "\n".join(lines)


class ImportExportActions:
    """Import through the list's button, export through a row's menu; files chosen with a file dialog."""

    def _dialog_folder(self) -> Path | None:
        folder = self.settings.ui.get("file_folder")
        return Path(folder) if isinstance(folder, str) and folder else None

    def _remember_folder(self, path: Path) -> None:
        self.settings.ui = {**self.settings.ui, "file_folder": str(path.parent)}
        self._save_settings("ui")

    def _dialog_mode(self) -> str:
        mode = self.settings.ui.get("file_dialog", "auto")
        return mode if mode in ("auto", "native", "kivy") else "auto"

    # -- import ---------------------------------------------------------------------------------------
    def ask_import(self) -> Any:
        """Import…: choose an export file (IA_V3 JSON, Open WebUI, ChatGPT conversations.json or .zip)."""
        from ui.file_dialog import choose_file

        return choose_file(
            title=_("Import conversations (IA_V3, Open WebUI, ChatGPT)"),
            filters=IMPORT_FILTERS,
            on_path=self.import_path,
            folder=self._dialog_folder(),
            accept_label=_("Import"),
            mode=self._dialog_mode(),
            post=self.controller.post,
        )

    def import_path(self, path: Path) -> None:
        from ui.dialogs import inform

        self._remember_folder(path)
        self.import_notice = inform(_("Importing…"), _("Reading {file}.").format(file=path.name), busy=True)
        self.controller.run(
            lambda: self.controller.sessions.import_file(path), self._imported, self._import_failed
        )

    def _close_notice(self) -> None:
        notice = getattr(self, "import_notice", None)
        if notice is not None:
            notice.dismiss()
            self.import_notice = None

    def _imported(self, result: Any) -> None:
        from ui.dialogs import inform

        self._close_notice()
        self.ids.conv_list.clear_search()
        self.reload_sessions()
        newest = max(result.conversations, key=lambda c: c.updated)
        self.open_conversation(newest.slug)
        self.import_summary = inform(_("Imported"), import_summary(result))

    def _import_failed(self, exc: BaseException) -> None:
        self._close_notice()
        self.show_problem(describe_error(exc))

    # -- export ---------------------------------------------------------------------------------------
    def ask_export(self, slug: str, fmt: str) -> Any:
        """A format was picked in a row's export menu: choose where to write the file."""
        from core.export import FORMATS
        from ui.file_dialog import choose_file

        return choose_file(
            title=_("Export as {format}").format(format=FORMATS[fmt]),
            filters=EXPORT_FILTERS[fmt],
            on_path=lambda path: self.export_to(slug, fmt, path),
            folder=self._dialog_folder(),
            save_name=f"{slug}.{fmt}",
            accept_label=_("Export"),
            mode=self._dialog_mode(),
            post=self.controller.post,
        )

    def export_to(self, slug: str, fmt: str, path: Path) -> None:
        from ui.dialogs import inform

        self._remember_folder(path)

        def done(target: Path) -> None:
            self.export_notice = inform(_("Exported"), _("Saved to {path}").format(path=target))

        self.controller.run(
            lambda: self.controller.sessions.export(slug, fmt, path), done, self._storage_failed
        )
