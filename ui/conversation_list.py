"""The conversation list (left zone): new chat, import, search, day groups, inline rename, export, delete,
current highlighted.

A RecycleView over plain dicts keeps 10,000 conversations smooth: only the visible rows exist as widgets.
The widget never touches storage; the app answers its events (on_select, on_new, on_rename, on_delete,
on_search, on_export, on_import) and feeds it SessionInfo lists and search hits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.metrics import dp
from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

import ui.i18n  # noqa: F401  (_() in the kv rules)
from core.i18n import N_, _, format_date, format_number, format_time, ngettext
from ui import clip  # noqa: F401  (ClipScrollView / ClipRecycleView in the kv rules)

__all__ = ["EXPORT_CHOICES", "ConversationList", "build_rows", "day_label", "search_rows"]

ROW_HEIGHT = 56
HEADER_HEIGHT = 30
# The export menu: (format, label, what it is for); translated where the menu shows them.
EXPORT_CHOICES = [
    ("html", N_("Web page (.html)"), N_("For reading and sharing in any browser, offline, images included")),
    ("md", N_("Markdown (.md)"), N_("Plain text with headings, for notes and wikis")),
    ("json", N_("JSON (.json)"), N_("Every field and the images: imports back into IA_V3 exactly")),
]


def day_label(day: date, today: date) -> str:
    """'Today', 'Yesterday', a weekday within the last week, else the date (with the year when not this year),
    in the interface's language (CLDR names: "mardi", "4 décembre")."""
    delta = (today - day).days
    if delta == 0:
        return _("Today")
    if delta == 1:
        return _("Yesterday")
    if 1 < delta < 7:
        return format_date(day, "EEEE")
    if day.year == today.year:
        return format_date(day, "d MMMM")
    return format_date(day, "d MMMM y")


def _local(when: datetime) -> datetime:
    return when.astimezone() if when.tzinfo else when


def _subtitle(info: Any) -> str:
    if getattr(info, "damaged", None):
        return _("Cannot be read: {reason}").format(reason=info.damaged)
    when = _local(info.updated)
    count = getattr(info, "message_count", 0) or 0
    messages = ngettext("{count} message", "{count} messages", count).format(count=format_number(count))
    return f"{format_time(when)}  ·  {messages}"


def _row(info: Any, subtitle: str, current: str) -> dict[str, Any]:
    return {
        "viewclass": "ConvRow",
        "slug": info.slug,
        "title": info.title or _("Untitled"),
        "subtitle": subtitle,
        "selected": info.slug == current,
        "editing": False,
        "size": (0, dp(ROW_HEIGHT)),
    }


def _header(text: str) -> dict[str, Any]:
    return {"viewclass": "ConvHeader", "text": text, "size": (0, dp(HEADER_HEIGHT))}


def build_rows(infos: Iterable[Any], current: str = "", today: date | None = None) -> list[dict[str, Any]]:
    """Rows for the RecycleView: sessions newest first, a header row before each day."""
    today = today or datetime.now().astimezone().date()
    rows: list[dict[str, Any]] = []
    last_day: date | None = None
    for info in sorted(infos, key=lambda i: i.updated, reverse=True):
        day = _local(info.updated).date()
        if day != last_day:
            rows.append(_header(day_label(day, today)))
            last_day = day
        rows.append(_row(info, _subtitle(info), current))
    return rows


def search_rows(
    query: str, infos: Sequence[Any], hits: Sequence[Any], current: str = ""
) -> list[dict[str, Any]]:
    """Rows for a search: title matches first, then full-text hits (with their snippet), no duplicates."""
    needle = query.casefold().strip()
    title_matches = [i for i in infos if needle in (i.title or "").casefold()]
    seen = {i.slug for i in title_matches}
    rows: list[dict[str, Any]] = []
    if title_matches:
        rows.append(_header(_("Titles matching “{query}”").format(query=query.strip())))
        rows.extend(_row(i, _subtitle(i), current) for i in title_matches)
    text_hits = [h for h in hits if h.slug not in seen]
    if text_hits:
        rows.append(_header(_("In messages")))
        for hit in text_hits:
            snippet = " ".join((hit.snippet or "").replace("[", "").replace("]", "").split())
            rows.append(_row(hit, snippet[:90], current))
    if not rows:
        rows.append(_header(_("No conversation matches “{query}”").format(query=query.strip())))
    return rows


class ConvHeader(BoxLayout):
    """A day-group header row (shown in capitals)."""

    text = StringProperty("")
    caption = StringProperty("")

    def on_text(self, _w: ConvHeader, text: str) -> None:
        self.caption = text.upper()


class ConvRow(ButtonBehavior, BoxLayout):
    """One conversation: title, time and size; pencil renames in place, the tray arrow exports, trash asks
    before deleting."""

    slug = StringProperty("")
    title = StringProperty("")
    subtitle = StringProperty("")
    selected = BooleanProperty(False)
    editing = BooleanProperty(False)
    hovered = BooleanProperty(False)

    def on_release(self) -> None:
        owner = self.owner
        if owner is not None and not self.editing:
            owner.dispatch("on_select", self.slug)

    @property
    def owner(self) -> ConversationList | None:
        widget = self.parent
        while widget is not None and not isinstance(widget, ConversationList):
            widget = widget.parent
        return widget

    def start_rename(self) -> None:
        if self.owner is not None:
            self.owner.start_rename(self.slug)

    def ask_delete(self) -> None:
        if self.owner is not None:
            self.owner.ask_delete(self.slug, self.title)

    def ask_export(self) -> None:
        if self.owner is not None:
            self.owner.ask_export(self.slug, self.title)

    def finish_rename(self, text: str) -> None:
        if self.owner is not None:
            self.owner.finish_rename(self.slug, text)

    def on_editing(self, _row: ConvRow, editing: bool) -> None:
        if editing:
            Clock.schedule_once(lambda _dt: self._focus_editor(), 0)

    def _focus_editor(self) -> None:
        editor = self.ids.get("editor")
        if editor is not None and self.editing:
            editor.text = self.title
            editor.focus = True
            editor.select_all()


class ConversationList(BoxLayout):
    """Left zone. Events: on_select(slug), on_new(), on_rename(slug, title), on_delete(slug), on_search(q),
    on_export(slug, fmt) (fmt "html", "md" or "json"), on_import()."""

    current = StringProperty("")
    query = StringProperty("")
    search_focus = BooleanProperty(False)
    sessions = ListProperty([])
    search_input = ObjectProperty(None)

    __events__ = ("on_select", "on_new", "on_rename", "on_delete", "on_search", "on_export", "on_import")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._search_trigger = Clock.create_trigger(self._emit_search, 0.25)
        self._hits: list[Any] = []

    # -- feeding ------------------------------------------------------------------------------------
    def set_sessions(self, infos: Sequence[Any]) -> None:
        """Show these sessions (the list's order does not matter: rows are sorted by last activity)."""
        self.sessions = list(infos)
        if self.query.strip():
            self.show_search_results(self.query, self._hits)
        else:
            self.ids.rv.data = build_rows(self.sessions, self.current)

    def show_search_results(self, query: str, hits: Sequence[Any]) -> None:
        """Full-text hits for ``query`` arrived; ignored when the box has changed since."""
        if query != self.query:
            return
        self._hits = list(hits)
        self.ids.rv.data = search_rows(query, self.sessions, self._hits, self.current)

    def _update_rows(self, change: Any) -> None:
        """Apply ``change(row) -> bool`` to the rows in place; refresh the views when any row changed.

        (Assigning rv.data[i] while a full replacement is pending in the same frame trips RecycleLayout.)
        """
        changed = False
        for row in self.ids.rv.data:
            if row.get("viewclass") == "ConvRow":
                changed = change(row) or changed
        if changed:
            self.ids.rv.refresh_from_data()

    def on_current(self, _w: ConversationList, slug: str) -> None:
        def select(row: dict[str, Any]) -> bool:
            selected = row["slug"] == slug
            if row["selected"] == selected:
                return False
            row["selected"] = selected
            return True

        self._update_rows(select)

    def rows(self) -> list[dict[str, Any]]:
        """The rows on display (for tests and the app)."""
        return list(self.ids.rv.data)

    def retranslate(self) -> None:
        """Make the rows again in the current language (day headers, dates, counts, "Untitled")."""
        self.set_sessions(self.sessions)

    # -- search ---------------------------------------------------------------------------------------
    def focus_search(self) -> None:
        self.ids.search.focus = True

    def on_query(self, _w: ConversationList, query: str) -> None:
        if not query.strip():
            self._hits = []
            self.ids.rv.data = build_rows(self.sessions, self.current)
            return
        # Titles filter at once; the full-text hits follow when the core answers.
        self.ids.rv.data = search_rows(query, self.sessions, [], self.current)
        self._search_trigger()

    def _emit_search(self, _dt: float) -> None:
        if self.query.strip():
            self.dispatch("on_search", self.query)

    def clear_search(self) -> None:
        self.ids.search.text = ""

    # -- rename / delete ------------------------------------------------------------------------------
    def _set_editing(self, slug: str, editing: bool) -> None:
        def edit(row: dict[str, Any]) -> bool:
            wanted = editing and row["slug"] == slug
            if row["editing"] == wanted:
                return False
            row["editing"] = wanted
            return True

        self._update_rows(edit)

    def start_rename(self, slug: str) -> None:
        self._set_editing(slug, True)

    def finish_rename(self, slug: str, text: str) -> None:
        self._set_editing(slug, False)
        title = " ".join(text.split())
        if title:
            self.dispatch("on_rename", slug, title)

    def cancel_rename(self, slug: str) -> None:
        self._set_editing(slug, False)

    def ask_delete(self, slug: str, title: str) -> None:
        from ui.dialogs import confirm

        confirm(
            _("Delete this conversation?"),
            _("“{title}” and its saved code files will be removed from disk. This cannot be undone.").format(
                title=title
            ),
            lambda: self.dispatch("on_delete", slug),
        )

    def ask_export(self, slug: str, title: str) -> Any:
        """The export menu: one choice per format; the app asks where to write the file."""
        from ui.dialogs import choose

        return choose(
            _("Export this conversation"),
            _("“{title}” as:").format(title=title),
            [(key, _(label), _(detail)) for key, label, detail in EXPORT_CHOICES],
            lambda fmt: self.dispatch("on_export", slug, fmt),
        )

    # -- default event handlers -----------------------------------------------------------------------
    def on_select(self, slug: str) -> None:
        """Bound by the app."""

    def on_new(self) -> None:
        """Bound by the app."""

    def on_rename(self, slug: str, title: str) -> None:
        """Bound by the app."""

    def on_delete(self, slug: str) -> None:
        """Bound by the app."""

    def on_search(self, query: str) -> None:
        """Bound by the app."""

    def on_export(self, slug: str, fmt: str) -> None:
        """Bound by the app."""

    def on_import(self) -> None:
        """Bound by the app."""


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
