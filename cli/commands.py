"""Slash commands: the registry, dispatch, /help, /quit, and a suggestion for unknown commands.

Each group of commands lives in its own module (model_commands, session_commands, chat_commands) and
registers its handlers with ``@command``. A handler gets the CLI state and the rest of the line; it raises
``CommandError`` for bad usage and lets ``IAError`` through (both are shown as one sentence).

A command's usage and help are marked with ``N_()`` where it is registered and translated where shown; the
command names themselves (``/help``) are the same in every language.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.i18n import N_, _

if TYPE_CHECKING:
    from cli.state import CliState

__all__ = ["QUIT", "Command", "CommandError", "command", "commands", "dispatch"]  # i18n: names of this module

QUIT = "quit"
_GROUPS = ("cli.model_commands", "cli.session_commands", "cli.chat_commands")


class CommandError(Exception):
    """Bad use of a command; the message says the right usage."""


Handler = Callable[["CliState", str], "str | None"]


@dataclass(frozen=True)
class Command:
    """A slash command: its name, usage line, one-line help (both in English, marked) and handler."""

    name: str
    usage: str
    help: str
    handler: Handler
    aliases: tuple[str, ...] = ()


_REGISTRY: dict[str, Command] = {}


def command(
    name: str, usage: str, help: str, *, aliases: tuple[str, ...] = ()
) -> Callable[[Handler], Handler]:
    """Register a handler as ``/name``."""

    def register(fn: Handler) -> Handler:
        cmd = Command(name, usage, help, fn, aliases)
        for key in (name, *aliases):
            _REGISTRY[key] = cmd
        return fn

    return register


def commands() -> list[Command]:
    """Every command once, in registration order (after loading all groups)."""
    for module in _GROUPS:
        importlib.import_module(module)
    seen: dict[str, Command] = {}
    for cmd in _REGISTRY.values():
        seen.setdefault(cmd.name, cmd)
    return list(seen.values())


def dispatch(state: CliState, line: str) -> str | None:
    """Run one command line; returns QUIT when the user wants to leave."""
    from core.errors import IAError

    all_commands = commands()
    word, _sep, arg = line.strip()[1:].partition(" ")
    name = word.lower()
    cmd = _REGISTRY.get(name)
    if cmd is None:
        names = sorted({c.name for c in all_commands} | {a for c in all_commands for a in c.aliases})
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.5)
        message = (
            _("Unknown command /{word}. Did you mean /{close}? Type /help for the list.")
            if close
            else _("Unknown command /{word}. Type /help for the list.")
        )
        state.err.print(message.format(word=word, close=close[0] if close else ""), style="red")
        return None
    try:
        return cmd.handler(state, arg.strip())
    except CommandError as exc:
        state.err.print(_("{error} Usage: {usage}").format(error=exc, usage=_(cmd.usage)), style="red")
    except IAError as exc:
        state.err.print(str(exc), style="red")
    return None


@command("help", N_("/help"), N_("show the commands and the input keys"), aliases=("?",))
def _help(state: CliState, arg: str) -> None:
    from rich.table import Table

    from cli.line_input import MULTILINE_HELP

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold cyan", no_wrap=True)  # i18n: a style
    table.add_column()
    for cmd in commands():
        table.add_row(_(cmd.usage), _(cmd.help))
    state.out.print(table)
    state.out.print(_(MULTILINE_HELP))
    state.out.print(
        _("Ctrl-C stops a reply (the partial text is kept); Ctrl-D at an empty prompt, or /quit, leaves.")
    )


@command("quit", N_("/quit"), N_("leave (Ctrl-D does the same)"), aliases=("exit", "q"))
def _quit(state: CliState, arg: str) -> str:
    return QUIT
