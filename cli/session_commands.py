"""Session commands: /new, /sessions, /load, /rename, /delete, /search, /export, /import."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cli.commands import CommandError, command
from core.i18n import N_, _, format_date, format_datetime, format_number, ngettext

if TYPE_CHECKING:
    from cli.state import CliState
    from core.conversation import Conversation

__all__ = ["describe"]

# The names of a message's author as /load shows them (conversation.md keeps user/assistant/system).
_ROLES = {"user": N_("user"), "assistant": N_("assistant"), "system": N_("system")}


def describe(conv: Conversation | None) -> str:
    """How the banner and commands name a conversation."""
    if conv is None:
        return _("new (saved with the first message)")
    return f"{conv.title} ({conv.slug})"


def _name(state: CliState, arg: str) -> str:
    """A session named by slug, title, or its number in the last /sessions list."""
    if arg.isdigit() and state.listed and 1 <= int(arg) <= len(state.listed):
        return state.listed[int(arg) - 1]
    return arg


def _require(state: CliState) -> Conversation:
    if state.conv is None:
        raise CommandError(_("No conversation yet: send a message or use /new TITLE first."))
    return state.conv


@command("new", N_("/new [TITLE]"), N_("start a new conversation"))
def _new(state: CliState, arg: str) -> None:
    state.last_turn = None
    state.pending_images.clear()
    state.pending_files.clear()
    if not arg:
        state.conv = None
        state.out.print(_("New conversation (saved with the first message)."))
        return
    state.conv = state.sessions.create(
        arg,
        model=state.model,
        system_prompt=state.settings.system_prompt,
        options=dict(state.settings.options),
    )
    state.out.print(_("New conversation: {name}").format(name=describe(state.conv)), markup=False)


@command("sessions", N_("/sessions"), N_("list saved conversations (newest first)"))
def _sessions(state: CliState, arg: str) -> None:
    from rich.table import Table

    infos = state.sessions.list()
    state.listed = [i.slug for i in infos]
    if not infos:
        state.out.print(_("No saved conversation yet."))
        return
    table = Table("#", _("title"), _("slug"), _("updated"), _("messages"), _("model"))
    for n, info in enumerate(infos, 1):
        current = state.conv is not None and info.slug == state.conv.slug
        title = _("{title} (current)").format(title=info.title) if current else info.title
        if info.damaged:
            title += " " + _("[damaged: {reason}]").format(reason=info.damaged)
        table.add_row(
            str(n),
            title,
            info.slug,
            format_datetime(info.updated.astimezone(), "short"),
            format_number(info.message_count),
            info.model or "-",
        )
    state.out.print(table)
    state.out.print(_("Open one with /load NAME or /load NUMBER."))


@command("load", N_("/load NAME"), N_("continue a saved conversation (slug, title or number from /sessions)"))
def _load(state: CliState, arg: str) -> None:
    if not arg:
        raise CommandError(_("Name the conversation to load."))
    conv = state.open(_name(state, arg))
    state.last_turn = None
    replies = sum(1 for m in conv.messages if m.role == "assistant")
    messages = ngettext("{count} message", "{count} messages", len(conv.messages)).format(
        count=format_number(len(conv.messages))
    )
    answers = ngettext("{count} reply", "{count} replies", replies).format(count=format_number(replies))
    state.out.print(
        _("Loaded {name}: {messages}, {replies}.").format(
            name=describe(conv), messages=messages, replies=answers
        ),
        markup=False,
    )
    if conv.messages:
        last = conv.messages[-1]
        preview = last.content.strip().splitlines()[0][:100] if last.content.strip() else ""
        who = _(_ROLES[last.role]) if last.role in _ROLES else last.role
        state.out.print(_("Last ({who}): {text}").format(who=who, text=preview), style="dim", markup=False)


@command("rename", N_("/rename TITLE"), N_("give the current conversation a new title"))
def _rename(state: CliState, arg: str) -> None:
    if not arg:
        raise CommandError(_("Give the new title."))
    conv = _require(state)
    state.conv = state.sessions.rename(conv, arg)
    state.out.print(_("Renamed: {name}").format(name=describe(state.conv)), markup=False)


@command("delete", N_("/delete NAME"), N_("delete a saved conversation (asks first)"))
def _delete(state: CliState, arg: str) -> None:
    if not arg:
        raise CommandError(_("Name the conversation to delete."))
    name = _name(state, arg)
    conv = state.sessions.load(name)
    question = _("Delete conversation '{title}' ({slug}) and its files?").format(
        title=conv.title, slug=conv.slug
    )
    if not state.confirm(question):
        state.out.print(_("Kept."))
        return
    state.sessions.delete(conv.slug)
    if state.conv is not None and state.conv.slug == conv.slug:
        state.conv = None
        state.last_turn = None
    state.out.print(_("Deleted {name}.").format(name=conv.slug), markup=False)


@command("search", N_("/search TEXT"), N_("find conversations containing every word of TEXT"))
def _search(state: CliState, arg: str) -> None:
    if not arg:
        raise CommandError(_("Give the words to look for."))
    hits = state.sessions.search(arg)
    state.listed = [h.slug for h in hits]
    if not hits:
        state.out.print(_("No conversation contains: {text}").format(text=arg), markup=False)
        return
    for n, hit in enumerate(hits, 1):
        when = format_date(hit.updated.astimezone())
        state.out.print(f"{n}. {hit.title} ({hit.slug}, {when})", markup=False)
        state.out.print(f"   {hit.snippet}", style="dim", markup=False)
    state.out.print(_("Open one with /load NUMBER."))


@command(
    "export",
    N_("/export md|json|html PATH"),
    N_("write the current conversation as Markdown, JSON or a web page"),
)
def _export(state: CliState, arg: str) -> None:
    from core.export import FORMATS

    fmt, _sep, path = arg.partition(" ")
    fmt = fmt.lower()
    if fmt not in FORMATS or not path.strip():
        raise CommandError(_("Give the format (md, json or html) and a path."))
    conv = _require(state)
    target = state.sessions.export(conv.slug, fmt, Path(path.strip()).expanduser())
    state.out.print(_("Exported to {path}").format(path=target), markup=False)


@command(
    "import",
    N_("/import PATH"),
    N_("add the conversations of an export: IA_V3 JSON, Open WebUI, ChatGPT's conversations.json or .zip"),
)
def _import(state: CliState, arg: str) -> None:
    if not arg.strip():
        raise CommandError(_("Give the path of the file to import."))
    path = Path(arg.strip().strip("'\"")).expanduser()
    result = state.sessions.import_file(path)
    state.listed = [c.slug for c in result.conversations]
    count = len(result.conversations)
    message = ngettext(
        "Imported {count} conversation from {path} ({source}):",
        "Imported {count} conversations from {path} ({source}):",
        count,
    )
    state.out.print(message.format(count=format_number(count), path=path, source=result.source), markup=False)
    for n, conv in enumerate(result.conversations, 1):
        messages = ngettext("{count} message", "{count} messages", len(conv.messages)).format(
            count=format_number(len(conv.messages))
        )
        when = format_date(conv.created.astimezone())
        state.out.print(f"  {n}. {conv.title} ({conv.slug}, {when}, {messages})", markup=False)
    for line in result.skipped:
        state.out.print(_("Skipped {what}.").format(what=line), style="yellow", markup=False)
    for line in result.notes:
        state.out.print(_("Note: {text}.").format(text=line), style="dim", markup=False)
    state.out.print(_("Open one with /load NUMBER."))
