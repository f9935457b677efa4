"""What an interactive CLI session holds: settings, backend, storage, the current conversation and model."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cli.turns import play_turn
from core.attachments import Attachment, message_with_files
from core.i18n import _

if TYPE_CHECKING:
    from rich.console import Console

    from cli.line_input import LineReader
    from config import Settings
    from core.backend import Backend
    from core.chat import ChatService, ChatTurn
    from core.conversation import Conversation
    from core.session_manager import SessionManager

__all__ = ["CliState", "title_from"]

_TITLE_CHARS = 60


def title_from(text: str) -> str:
    """A conversation title from its first message: the first non-empty line, shortened."""
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "") or _("Chat")
    return line if len(line) <= _TITLE_CHARS else line[: _TITLE_CHARS - 1].rstrip() + "…"


@dataclass
class CliState:
    """The interactive session; commands read and change it."""

    settings: Settings
    backend: Backend
    sessions: SessionManager
    chat: ChatService
    out: Console
    err: Console
    plain: bool
    reader: LineReader | None = None
    conv: Conversation | None = None  # None until the first message (or /new TITLE, /load)
    model: str = ""
    pending_images: list[Path] = field(default_factory=list)
    pending_files: list[Attachment] = field(default_factory=list)  # /file: sent as fenced blocks
    last_turn: ChatTurn | None = None
    listed: list[str] = field(default_factory=list)  # slugs shown by the last /sessions, for /load N

    def ensure_conversation(self, first_text: str) -> Conversation:
        """The current conversation, created (titled after ``first_text``) when there is none yet."""
        if self.conv is None:
            self.conv = self.sessions.create(
                title_from(first_text),
                model=self.model,
                system_prompt=self.settings.system_prompt,
                options=dict(self.settings.options),
            )
        return self.conv

    def open(self, name: str, *, create: bool = False) -> Conversation:
        """Load a session by slug or title (creating it with that title if asked) and make it current."""
        from core.errors import SessionNotFound

        try:
            conv = self.sessions.load(name)
        except SessionNotFound:
            if not create:
                raise
            conv = self.sessions.create(
                name,
                model=self.model,
                system_prompt=self.settings.system_prompt,
                options=dict(self.settings.options),
            )
        self.conv = conv
        if conv.model:
            self.model = conv.model
        return conv

    def play(self, turn: ChatTurn) -> bool:
        """Show a turn; remembers it for /stats and /copy. True when it was interrupted."""
        interrupted = play_turn(turn, self.out, self.err, plain=self.plain, dev=self.settings.dev_mode)
        self.last_turn = turn
        if turn.model and not self.model:
            self.model = turn.model
        return interrupted

    def send(self, text: str) -> ChatTurn:
        """Send a message (with the images attached by /image and the files by /file) and show the reply."""
        conv = self.ensure_conversation(text)
        content = message_with_files(text, self.pending_files)
        turn = self.chat.send(conv, content, images=list(self.pending_images), model=self.model or None)
        if turn.user_message is not None:
            self.pending_images.clear()
            self.pending_files.clear()
        self.play(turn)
        return turn

    def confirm(self, question: str) -> bool:
        """Ask a yes/no question; only an explicit yes counts."""
        if self.reader is None:
            return False
        answer = self.reader.ask(_("{question} [y/N] ").format(question=question)).lower()
        return answer in ("y", "yes") or answer in _("y|yes").split("|")
