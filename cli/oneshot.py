"""One-shot use: send one prompt, print the reply (or one JSON record) and exit with a meaningful code.

The conversation is saved like an interactive one: ``--session NAME`` continues (or creates) that session,
``-c`` continues the last one, otherwise a new one is titled after the prompt. With ``-n/--no-log`` nothing
is written: the exchange (and any conversation it continues) lives in memory only.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cli.render import make_consoles
from cli.state import title_from
from cli.turns import play_turn
from core.i18n import N_, _

if TYPE_CHECKING:
    from rich.console import Console

    from config import Settings
    from core.backend import Backend
    from core.chat import ChatTurn
    from core.conversation import Conversation
    from core.session_manager import SessionManager

__all__ = ["NOTHING_TO_CONTINUE", "apply_flags", "continued_session", "run_oneshot", "turn_record"]

NOTHING_TO_CONTINUE = N_("There is no conversation to continue yet (-c); starting a new one.")


def continued_session(
    sessions: SessionManager, args: argparse.Namespace, err: Console
) -> Conversation | None:
    """The conversation ``-c`` or ``--session NAME`` continues (None: a new one; ``--session`` of a name
    not saved yet says so by raising SessionNotFound). ``-c`` with nothing saved says so on ``err``."""
    from cli.flags import latest_session, session_by_name
    from core.errors import SessionNotFound

    if args.cont:
        slug = latest_session(sessions.sav_dir)
        if slug is None:
            err.print(_(NOTHING_TO_CONTINUE), style="yellow", markup=False)
            return None
        return sessions.load(slug)
    if args.session and getattr(
        args, "no_log", False
    ):  # found without the search index, which is not written
        slug = session_by_name(sessions.sav_dir, args.session)
        if slug is None:
            raise SessionNotFound(args.session)
        return sessions.load(slug)
    if args.session:
        return sessions.load(args.session)
    return None


def apply_flags(conv: Conversation, args: argparse.Namespace) -> bool:
    """An explicit ``-s`` or ``-o`` changes the continued conversation as ``/system`` and ``/set`` would; True
    when something changed (the caller saves it)."""
    changed = False
    if args.system is not None and args.system != conv.system_prompt:
        conv.system_prompt = args.system
        changed = True
    for key, value in args.options.items():
        if conv.options.get(key) != value:
            conv.options[key] = value
            changed = True
    return changed


def _conversation(
    sessions: SessionManager, settings: Settings, args: argparse.Namespace, text: str, err: Console
) -> tuple[Conversation, bool]:
    """The conversation to send in, and whether it continues a saved one."""
    from core.errors import SessionNotFound

    title = title_from(text)
    try:
        conv = continued_session(sessions, args, err)
    except SessionNotFound:
        conv, title = None, args.session
    if conv is not None:
        apply_flags(conv, args)  # saved with the user's message (unless -n)
        return conv, True
    fields = {
        "model": settings.model,
        "system_prompt": settings.system_prompt,
        "options": dict(settings.options),
    }
    if args.no_log:
        from core.sav_manager import Conversation

        now = datetime.now(UTC)
        return Conversation(title=title, slug="", created=now, updated=now, **fields), False
    return sessions.create(title, **fields), False


def turn_record(
    turn: ChatTurn, conv: Conversation, backend: Backend, path: str | None, *, saved: bool = True
) -> dict[str, Any]:
    """The --json record: reply, model, session, stats (and what else a script may want).

    ``saved`` is False with -n: then ``path`` is None and ``session`` names the continued session, if any."""
    return {
        "reply": turn.text,
        "thinking": turn.thinking,
        "model": turn.model,
        "session": conv.slug or None,
        "title": conv.title,
        "path": path,
        "saved": saved,
        "backend": backend.kind,
        "host": backend.host,
        "status": turn.message.status if turn.message is not None else "error",
        "stats": turn.stats.to_dict() if turn.stats is not None else None,
        "error": str(turn.error) if turn.error is not None else None,
        "notes": list(turn.notes),
        "code_files": [str(p) for p in turn.code_files],
    }


def run_oneshot(settings: Settings, backend: Backend, args: argparse.Namespace, text: str) -> int:
    """Send ``text`` once; 0 on success, 130 if interrupted, else core.errors.exit_code of the failure."""
    from core.chat import ChatService
    from core.errors import exit_code
    from core.session_manager import SessionManager

    out, err = make_consoles(bool(args.plain) or bool(args.json))
    err.print(backend.note, style="dim", markup=False)
    sessions = SessionManager(settings)
    save = not args.no_log
    try:
        conv, continued = _conversation(sessions, settings, args, text, err)
        # A continued conversation keeps its model unless one is asked for (-m, or a profile's).
        asked = settings.model if args.model or args.profile or not continued else ""
        chat = ChatService(settings, backend, sessions)
        chat.format = args.format
        turn = chat.send(conv, text, images=args.attach, model=asked or None, save=save)
        interrupted = play_turn(
            turn,
            out,
            err,
            plain=bool(args.plain) or not sys.stdout.isatty(),
            dev=settings.dev_mode,
            show=not args.json,
        )
        if args.json and turn.user_message is not None:
            path = str(sessions.session_dir(conv) / "conversation.md") if save else None
            record = turn_record(turn, conv, backend, path, saved=save)
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            sys.stdout.flush()
    finally:
        sessions.close()
    if interrupted:
        return 130
    if turn.error is not None:
        return exit_code(turn.error)
    return 0
