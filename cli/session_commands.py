"""Session commands: /new, /sessions, /load, /rename, /delete, /search, /export, /import."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cli.commands import CommandError, command

if TYPE_CHECKING:
    from cli.state import CliState
    from core.conversation import Conversation

__all__ = ["describe"]


def describe(conv: Conversation | None) -> str:
    """How the banner and commands name a conversation."""
    if conv is None:
        return "new (saved with the first message)"
    return f"{conv.title} ({conv.slug})"


def _name(state: CliState, arg: str) -> str:
    """A session named by slug, title, or its number in the last /sessions list."""
    if arg.isdigit() and state.listed and 1 <= int(arg) <= len(state.listed):
        return state.listed[int(arg) - 1]
    return arg


def _require(state: CliState) -> Conversation:
    if state.conv is None:
        raise CommandError("No conversation yet: send a message or use /new TITLE first.")
    return state.conv


@command("new", "/new [TITLE]", "start a new conversation")
def _new(state: CliState, arg: str) -> None:
    state.last_turn = None
    state.pending_images.clear()
    state.pending_files.clear()
    if not arg:
        state.conv = None
        state.out.print("New conversation (saved with the first message).")
        return
    state.conv = state.sessions.create(
        arg,
        model=state.model,
        system_prompt=state.settings.system_prompt,
        options=dict(state.settings.options),
    )
    state.out.print(f"New conversation: {describe(state.conv)}", markup=False)


@command("sessions", "/sessions", "list saved conversations (newest first)")
def _sessions(state: CliState, arg: str) -> None:
    from rich.table import Table

    infos = state.sessions.list()
    state.listed = [i.slug for i in infos]
    if not infos:
        state.out.print("No saved conversation yet.")
        return
    table = Table("#", "title", "slug", "updated", "messages", "model")
    for n, info in enumerate(infos, 1):
        current = state.conv is not None and info.slug == state.conv.slug
        title = info.title + (" (current)" if current else "")
        if info.damaged:
            title += f" [damaged: {info.damaged}]"
        table.add_row(
            str(n),
            title,
            info.slug,
            f"{info.updated:%Y-%m-%d %H:%M}",
            str(info.message_count),
            info.model or "-",
        )
    state.out.print(table)
    state.out.print("Open one with /load NAME or /load NUMBER.")


@command("load", "/load NAME", "continue a saved conversation (slug, title or number from /sessions)")
def _load(state: CliState, arg: str) -> None:
    if not arg:
        raise CommandError("Name the conversation to load.")
    conv = state.open(_name(state, arg))
    state.last_turn = None
    replies = sum(1 for m in conv.messages if m.role == "assistant")
    state.out.print(
        f"Loaded {describe(conv)}: {len(conv.messages)} messages, {replies} replies.", markup=False
    )
    if conv.messages:
        last = conv.messages[-1]
        preview = last.content.strip().splitlines()[0][:100] if last.content.strip() else ""
        state.out.print(f"Last ({last.role}): {preview}", style="dim", markup=False)


@command("rename", "/rename TITLE", "give the current conversation a new title")
def _rename(state: CliState, arg: str) -> None:
    if not arg:
        raise CommandError("Give the new title.")
    conv = _require(state)
    state.conv = state.sessions.rename(conv, arg)
    state.out.print(f"Renamed: {describe(state.conv)}", markup=False)


@command("delete", "/delete NAME", "delete a saved conversation (asks first)")
def _delete(state: CliState, arg: str) -> None:
    if not arg:
        raise CommandError("Name the conversation to delete.")
    name = _name(state, arg)
    conv = state.sessions.load(name)
    if not state.confirm(f"Delete conversation '{conv.title}' ({conv.slug}) and its files?"):
        state.out.print("Kept.")
        return
    state.sessions.delete(conv.slug)
    if state.conv is not None and state.conv.slug == conv.slug:
        state.conv = None
        state.last_turn = None
    state.out.print(f"Deleted {conv.slug}.", markup=False)


@command("search", "/search TEXT", "find conversations containing every word of TEXT")
def _search(state: CliState, arg: str) -> None:
    if not arg:
        raise CommandError("Give the words to look for.")
    hits = state.sessions.search(arg)
    state.listed = [h.slug for h in hits]
    if not hits:
        state.out.print(f"No conversation contains: {arg}", markup=False)
        return
    for n, hit in enumerate(hits, 1):
        state.out.print(f"{n}. {hit.title} ({hit.slug}, {hit.updated:%Y-%m-%d})", markup=False)
        state.out.print(f"   {hit.snippet}", style="dim", markup=False)
    state.out.print("Open one with /load NUMBER.")


@command(
    "export", "/export md|json|html PATH", "write the current conversation as Markdown, JSON or a web page"
)
def _export(state: CliState, arg: str) -> None:
    from core.export import FORMATS

    fmt, _, path = arg.partition(" ")
    fmt = fmt.lower()
    if fmt not in FORMATS or not path.strip():
        raise CommandError("Give the format (md, json or html) and a path.")
    conv = _require(state)
    target = state.sessions.export(conv.slug, fmt, Path(path.strip()).expanduser())
    state.out.print(f"Exported to {target}", markup=False)


@command(
    "import",
    "/import PATH",
    "add the conversations of an export: IA_V3 JSON, Open WebUI, ChatGPT's conversations.json or .zip",
)
def _import(state: CliState, arg: str) -> None:
    if not arg.strip():
        raise CommandError("Give the path of the file to import.")
    path = Path(arg.strip().strip("'\"")).expanduser()
    result = state.sessions.import_file(path)
    state.listed = [c.slug for c in result.conversations]
    count = len(result.conversations)
    state.out.print(
        f"Imported {count} conversation{'s' if count != 1 else ''} from {path} ({result.source}):",
        markup=False,
    )
    for n, conv in enumerate(result.conversations, 1):
        state.out.print(
            f"  {n}. {conv.title} ({conv.slug}, {conv.created:%Y-%m-%d}, {len(conv.messages)} messages)",
            markup=False,
        )
    for line in result.skipped:
        state.out.print(f"Skipped {line}.", style="yellow", markup=False)
    for line in result.notes:
        state.out.print(f"Note: {line}.", style="dim", markup=False)
    state.out.print("Open one with /load NUMBER.")
