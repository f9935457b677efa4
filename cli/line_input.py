"""Reading what the user types: prompt_toolkit with a persistent history and multiline input.

Enter sends. Alt+Enter (or Esc then Enter) inserts a new line. A line that starts with three double quotes
opens a block that runs until a line that ends with three double quotes (handy for pasted text).

Ctrl-D leaves only at an empty prompt, as in prompt_toolkit's own REPLs (ptpython, IPython), where Ctrl-D with
text pending never quits. Inside an open block it closes the block without sending it: the text typed so far
comes back at the prompt, as one multi-line input to edit, send with Enter, or clear with Ctrl-C.

When stdout is not a terminal (``python main.py > chat.txt``, ``| tee``) the prompt is drawn on stderr, so
the person sees it and the output gets only the chat, in plain text.
"""

from __future__ import annotations

import sys
from pathlib import Path

from prompt_toolkit import PromptSession, print_formatted_text
from prompt_toolkit.history import FileHistory, InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.output import Output, create_output

from core.i18n import N_, _

__all__ = ["BLOCK_CLOSED_NOTE", "BLOCK_QUOTE", "MULTILINE_HELP", "LineReader"]

BLOCK_QUOTE = '"""'
# Marked here, translated where shown.
MULTILINE_HELP = N_(
    'Multiline input: Alt+Enter (or Esc, Enter) adds a new line; or start with """ and end with """. '
    "Ctrl-D inside a block closes it without sending: the text comes back at the prompt to edit."
)
BLOCK_CLOSED_NOTE = N_("Block closed by Ctrl-D, nothing sent: Enter sends it, Ctrl-C clears it.")


def _bindings() -> KeyBindings:
    kb = KeyBindings()

    @kb.add("escape", "enter")
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    return kb


def _prompt_output() -> Output | None:
    """Where prompts are drawn: stderr when stdout is redirected but stderr is a terminal, else the default."""
    try:
        if not sys.stdout.isatty() and sys.stderr.isatty():
            return create_output(stdout=sys.stderr)
    except (AttributeError, ValueError):  # closed or missing streams
        pass
    return None


class LineReader:
    """One prompt_toolkit session; ``read()`` returns a message or command, ``ask()`` a one-line answer."""

    def __init__(self, history_path: Path | None, prompt: str = "ia> ") -> None:
        history = InMemoryHistory()
        if history_path is not None:
            try:
                history_path.parent.mkdir(parents=True, exist_ok=True)
                history_path.touch(exist_ok=True)
                history = FileHistory(str(history_path))
            except OSError:
                pass  # an unwritable home still allows chatting, just without saved history
        self.prompt = prompt
        self._output = _prompt_output()
        self._session: PromptSession[str] = PromptSession(
            history=history, key_bindings=_bindings(), enable_history_search=False, output=self._output
        )
        self._ask_session: PromptSession[str] | None = None
        self._pending = ""  # a block closed by Ctrl-D, shown again at the next prompt

    def read(self) -> str:
        """The next input; raises EOFError on Ctrl-D at an empty prompt and KeyboardInterrupt on Ctrl-C."""
        while True:
            default, self._pending = self._pending, ""
            text = self._session.prompt(self.prompt, prompt_continuation="... ", default=default)
            if not text.lstrip().startswith(BLOCK_QUOTE):
                return text
            body = text.lstrip()[len(BLOCK_QUOTE) :]
            if body.rstrip().endswith(BLOCK_QUOTE) and body.strip():
                return body.rstrip()[: -len(BLOCK_QUOTE)].strip("\n")
            block = self._read_block([body] if body else [])
            if block is not None:
                return block
            # Ctrl-D closed the block: its text is the next prompt's (nothing sent, nothing lost).

    def _read_block(self, lines: list[str]) -> str | None:
        """The rest of a block up to the line that ends with three double quotes; None when Ctrl-D closed it
        early (its text then waits in ``_pending`` for the next prompt)."""
        while True:
            try:
                line = self._session.prompt("... ")
            except EOFError:
                self._pending = "\n".join(lines).strip("\n")
                if self._pending:
                    print_formatted_text(_(BLOCK_CLOSED_NOTE), output=self._output)
                return None
            if line.rstrip().endswith(BLOCK_QUOTE):
                lines.append(line.rstrip()[: -len(BLOCK_QUOTE)])
                return "\n".join(lines).strip("\n")
            lines.append(line)

    def ask(self, question: str) -> str:
        """A one-line answer (not stored in the history); Ctrl-C or Ctrl-D answer empty."""
        try:
            if self._ask_session is None:
                self._ask_session = PromptSession(history=InMemoryHistory(), output=self._output)
            return self._ask_session.prompt(question).strip()
        except (EOFError, KeyboardInterrupt):
            return ""
