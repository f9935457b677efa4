"""The interactive chat: banner, optional DEV model pick, then read a line, run a command or send a message."""

from __future__ import annotations

import argparse
import logging
import threading
from typing import TYPE_CHECKING

from cli.commands import QUIT, dispatch
from cli.line_input import LineReader
from cli.render import make_consoles
from cli.session_commands import describe
from cli.state import CliState

if TYPE_CHECKING:
    from config import Settings
    from core.backend import Backend

__all__ = ["build_state", "run_interactive"]


def build_state(settings: Settings, backend: Backend, *, plain: bool) -> CliState:
    """The CLI state over a connected backend: storage, chat service and consoles."""
    from core.chat import ChatService
    from core.session_manager import SessionManager

    sessions = SessionManager(settings)
    out, err = make_consoles(plain)
    chat = ChatService(settings, backend, sessions)
    return CliState(settings, backend, sessions, chat, out, err, plain=plain or not out.is_terminal)


def _pick_model(state: CliState) -> None:
    """DEV mode: list the installed models and let the user choose (Enter keeps the current one)."""
    from core.errors import IAError

    try:
        models = state.backend.client.list_models()
    except IAError as exc:
        state.err.print(str(exc), style="red", markup=False)
        return
    if not models:
        state.err.print(
            f"No model is installed on {state.backend.host}: pull one with /pull NAME.", style="red"
        )
        return
    state.out.print("Installed models:")
    width = max(len(m.name) for m in models)
    for n, m in enumerate(models, 1):
        mark = "*" if m.name == state.model else " "
        details = f"{m.parameter_size or ''} {m.quantization or ''}".rstrip()
        state.out.print(f" {mark}{n:>2}. {m.name:<{width}}  {details}".rstrip(), markup=False)
    assert state.reader is not None
    while True:
        answer = state.reader.ask(
            f"Pick a model [1-{len(models)}, Enter = {state.model or models[0].name}]: "
        )
        if not answer:
            state.model = state.model or models[0].name
            return
        if answer.isdigit() and 1 <= int(answer) <= len(models):
            state.model = models[int(answer) - 1].name
            return
        match = next((m.name for m in models if m.name == answer or m.name == f"{answer}:latest"), None)
        if match:
            state.model = match
            return
        state.err.print(f"'{answer}' is not in the list: type a number from 1 to {len(models)}.", style="red")


def _banner(state: CliState) -> None:
    from cli.app import version

    state.out.print(f"IA_V3 {version()} chat · {state.backend.note}", markup=False)
    state.out.print(
        f"Model: {state.model or '(none installed)'} · Session: {describe(state.conv)}", markup=False
    )
    dev = " · DEV mode on" if state.settings.dev_mode else ""
    state.out.print(f"Type /help for commands; Ctrl-C stops a reply, Ctrl-D leaves.{dev}", markup=False)


def run_interactive(settings: Settings, backend: Backend, args: argparse.Namespace) -> int:
    """The read-eval loop; returns the exit code (0 when the user leaves)."""
    from core.errors import IAError

    state = build_state(settings, backend, plain=bool(args.plain))
    state.reader = LineReader(settings.data_dir / "cli_history")
    try:
        if args.session:
            state.open(args.session, create=True)
        try:
            state.model = state.chat.resolve_model(state.conv, state.model or None)
        except IAError as exc:
            state.err.print(str(exc), style="red", markup=False)
        if settings.dev_mode:
            _pick_model(state)
        _banner(state)
        # Build the official client while the user types, so the prompt appears without waiting for it.
        threading.Thread(target=backend.client.warm, name="ia-warm-client", daemon=True).start()
        _loop(state)
    finally:
        state.sessions.close()
    return 0


def _loop(state: CliState) -> None:
    from core.errors import IAError

    assert state.reader is not None
    while True:
        try:
            line = state.reader.read()
        except KeyboardInterrupt:
            continue  # Ctrl-C at the prompt clears the line, as in a shell
        except EOFError:
            state.out.print("Bye.")
            return
        if not line.strip():
            continue
        try:
            if line.lstrip().startswith("/"):
                if dispatch(state, line) == QUIT:
                    state.out.print("Bye.")
                    return
            else:
                state.send(line)
        except KeyboardInterrupt:  # Ctrl-C during a slow command (a server that does not answer): stop it
            state.err.print("Stopped.", style="yellow")
        except IAError as exc:  # storage failures while creating a session, and the like
            state.err.print(str(exc), style="red", markup=False)
        except Exception as exc:  # a bug must not end the session: log it and keep the prompt
            logging.getLogger("ia.cli").exception("command failed: %s", line[:200])
            where = state.settings.logs_dir / "technical.log"
            state.err.print(
                f"Unexpected error ({type(exc).__name__}: {exc}); details in {where}.", style="red"
            )
