"""The interactive chat: banner, then the DEV model pick, then read a line, run a command or send a message."""

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
from core.i18n import _

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
    """DEV mode: list the installed models (with whether each fits this machine) and let the user choose;
    Enter keeps the current one. Printed after the banner, so backend and session come first."""
    from rich.text import Text

    from cli.model_commands import fit_style
    from core.errors import IAError
    from core.machine import machine_resources
    from core.models import ModelManager

    try:
        resources = machine_resources()
        judged = ModelManager(state.backend.client).fit(resources)
    except IAError as exc:
        state.err.print(str(exc), style="red", markup=False)
        return
    if not judged:
        state.err.print(
            _("No model is installed on {host}: pull one with /pull NAME.").format(host=state.backend.host),
            style="red",
        )
        return
    models = [m for m, _v in judged]
    state.out.print(_("This machine: {summary}").format(summary=resources.summary()), markup=False)
    state.out.print(_("Installed models:"))
    width = max(len(m.name) for m in models)
    for n, (m, verdict) in enumerate(judged, 1):
        mark = "*" if m.name == state.model else " "
        details = f"{m.parameter_size or ''} {m.quantization or ''}".strip()
        line = Text(f" {mark}{n:>2}. {m.name:<{width}}  {details:<14} ")
        line.append(verdict.label, style=fit_style(verdict))
        state.out.print(line)
    assert state.reader is not None
    state.model = _ask_model(state, [m.name for m in models])
    state.out.print(_("Model: {name}").format(name=state.model), markup=False)


def _ask_model(state: CliState, names: list[str]) -> str:
    """The name picked by number or name; Enter keeps the current model (else the first listed)."""
    assert state.reader is not None
    default = state.model or names[0]
    while True:
        answer = state.reader.ask(
            _("Pick a model [1-{count}, Enter = {default}]: ").format(count=len(names), default=default)
        )
        if not answer:
            return default
        if answer.isdigit() and 1 <= int(answer) <= len(names):
            return names[int(answer) - 1]
        match = next((n for n in names if n == answer or n == f"{answer}:latest"), None)
        if match:
            return match
        state.err.print(
            _("'{answer}' is not in the list: type a number from 1 to {count}.").format(
                answer=answer, count=len(names)
            ),
            style="red",
        )


def _banner(state: CliState) -> None:
    from cli.app import version

    state.out.print(f"IA_V3 {version()} chat · {state.backend.note}", markup=False)
    model = state.model or _("(none installed)")
    state.out.print(
        _("Model: {model} · Session: {session}").format(model=model, session=describe(state.conv)),
        markup=False,
    )
    keys = _("Type /help for commands; Ctrl-C stops a reply, Ctrl-D leaves.")
    dev = " · " + _("DEV mode on") if state.settings.dev_mode else ""
    state.out.print(keys + dev, markup=False)


def run_interactive(settings: Settings, backend: Backend, args: argparse.Namespace) -> int:
    """The read-eval loop; returns the exit code (0 when the user leaves)."""
    from cli.oneshot import apply_flags, continued_session
    from core.errors import IAError

    state = build_state(settings, backend, plain=bool(args.plain))
    state.reader = LineReader(settings.data_dir / "cli_history")
    state.chat.format = args.format
    state.pending_images = list(args.attach)  # -a: attached to the first message
    warm: threading.Thread | None = None
    try:
        if args.cont:
            conv = continued_session(state.sessions, args, state.err)
            if conv is not None:
                state.conv, state.model = conv, conv.model or state.model
        elif args.session:
            state.open(args.session, create=True)
        if state.conv is not None and apply_flags(state.conv, args):
            state.sessions.save(state.conv)
        try:
            state.model = state.chat.resolve_model(state.conv, state.model or None)
        except IAError as exc:
            state.err.print(str(exc), style="red", markup=False)
        _banner(state)
        if state.pending_images:
            names = ", ".join(p.name for p in state.pending_images)
            state.out.print(
                _("Attached {names}; it goes with your first message.").format(names=names), markup=False
            )
        if settings.dev_mode:
            _pick_model(state)
        # Build the official client while the user types, so the prompt appears without waiting for it.
        warm = threading.Thread(target=backend.client.warm, name="ia-warm-client", daemon=True)
        warm.start()
        _loop(state)
    finally:
        state.sessions.close()
        if warm is not None:
            # Leaving right after the start: let the import finish. A daemon thread still inside an
            # extension module's code when Python finalizes can abort the process ("FATAL: exception not
            # rethrown", exit status 134) after "Bye.".
            warm.join(timeout=10)
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
            state.out.print(_("Bye."))
            return
        if not line.strip():
            continue
        try:
            if line.lstrip().startswith("/"):
                if dispatch(state, line) == QUIT:
                    state.out.print(_("Bye."))
                    return
            else:
                state.send(line)
        except KeyboardInterrupt:  # Ctrl-C during a slow command (a server that does not answer): stop it
            state.err.print(_("Stopped."), style="yellow")
        except IAError as exc:  # storage failures while creating a session, and the like
            state.err.print(str(exc), style="red", markup=False)
        except Exception as exc:  # a bug must not end the session: log it and keep the prompt
            log = logging.getLogger("ia.cli")
            log.exception("command failed: %s", line[:200])
            where = state.settings.logs_dir / "technical.log"
            state.err.print(
                _("Unexpected error ({error}); details in {log}.").format(
                    error=f"{type(exc).__name__}: {exc}", log=where
                ),
                style="red",
            )
