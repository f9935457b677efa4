"""One-shot use: send one prompt, print the reply (or one JSON record) and exit with a meaningful code.

The conversation is saved like an interactive one: ``--session NAME`` continues (or creates) that session,
otherwise a new one is titled after the prompt.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from cli.render import make_consoles
from cli.state import title_from
from cli.turns import play_turn

if TYPE_CHECKING:
    from config import Settings
    from core.backend import Backend
    from core.chat import ChatTurn
    from core.conversation import Conversation
    from core.session_manager import SessionManager

__all__ = ["run_oneshot", "turn_record"]


def _conversation(sessions: SessionManager, settings: Settings, name: str | None, text: str) -> Conversation:
    from core.errors import SessionNotFound

    if name:
        try:
            return sessions.load(name)
        except SessionNotFound:
            title = name
    else:
        title = title_from(text)
    return sessions.create(
        title, model=settings.model, system_prompt=settings.system_prompt, options=dict(settings.options)
    )


def turn_record(turn: ChatTurn, conv: Conversation, backend: Backend, path: str) -> dict[str, Any]:
    """The --json record: reply, model, session, stats (and what else a script may want)."""
    return {
        "reply": turn.text,
        "thinking": turn.thinking,
        "model": turn.model,
        "session": conv.slug,
        "title": conv.title,
        "path": path,
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
    try:
        conv = _conversation(sessions, settings, args.session, text)
        turn = ChatService(settings, backend, sessions).send(conv, text, model=settings.model or None)
        interrupted = play_turn(
            turn,
            out,
            err,
            plain=bool(args.plain) or not sys.stdout.isatty(),
            dev=settings.dev_mode,
            show=not args.json,
        )
        if args.json and turn.user_message is not None:
            path = str(sessions.session_dir(conv) / "conversation.md")
            sys.stdout.write(json.dumps(turn_record(turn, conv, backend, path), ensure_ascii=False) + "\n")
            sys.stdout.flush()
    finally:
        sessions.close()
    if interrupted:
        return 130
    if turn.error is not None:
        return exit_code(turn.error)
    return 0
