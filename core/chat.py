"""One chat exchange, shared by the CLI and the desktop app: save, build context, stream, record.

``ChatService.send`` saves the user message at once and returns a ``ChatTurn``; iterating the turn sends the
request (with the fallback models), feeds the ``ReplyWriter`` as chunks arrive and closes it as finished,
interrupted or failed. Errors never escape the iteration: they land on ``turn.error`` for the caller to show.
The session log and, in DEV mode, a dev record are written for every request, failed ones included.

``send(..., save=False)`` (the CLI's ``-n/--no-log``) keeps the exchange in memory only: no session folder,
conversation.md, attachment copy, code file, session log, DEV record or search-index entry is written.
``ChatService.format`` (``"json"`` or a JSON schema) asks for structured replies, as Ollama's ``format``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from config import EMBEDDED_DEFAULT_MODEL
from core.errors import IAError, StreamBroken
from core.i18n import _
from core.models import with_fallback
from core.ollama_client import ChatStream, Chunk, ContentChunk, FinalChunk, StreamStats, ThinkingChunk

if TYPE_CHECKING:
    from config import Settings
    from core.backend import Backend
    from core.conversation import Conversation, Message
    from core.devlog import DevLog
    from core.session_manager import ReplyWriter, SessionManager

__all__ = ["STOPPED_BY_USER", "ChatService", "ChatTurn"]

log = logging.getLogger("ia.chat")
STOPPED_BY_USER = "Stopped by the user."
# Share of the context window kept free for the reply when num_predict does not say how long it may be.
_REPLY_SHARE = 4


class ChatService:
    """Sends messages of a conversation to the connected backend; one instance per app or CLI run."""

    def __init__(
        self,
        settings: Settings,
        backend: Backend,
        sessions: SessionManager,
        devlog: DevLog | None = None,
    ) -> None:
        self.settings = settings
        self.backend = backend
        self.sessions = sessions
        self.devlog = devlog
        # Ollama's `format` for every request: None (free text), "json", or a JSON schema object.
        self.format: str | dict[str, Any] | None = None
        self._context_lengths: dict[str, int | None] = {}

    # -- public ---------------------------------------------------------------------------------------
    def send(
        self,
        conv: Conversation,
        text: str,
        *,
        images: Sequence[Path | bytes] = (),
        model: str | None = None,
        save: bool = True,
    ) -> ChatTurn:
        """Save the user message now and return the turn that will stream the reply when iterated.

        With ``save=False`` nothing is written: the message and the reply live in ``conv`` in memory only."""
        turn = ChatTurn(self, conv, model, save=save)
        if not save:
            from core.sav_manager import Message

            turn.user_message = Message("user", text, datetime.now(UTC))
            conv.messages.append(turn.user_message)
            turn.images = list(images)  # sent as given (paths or bytes); nothing is copied
            return turn
        try:
            turn.user_message = self.sessions.add_user_message(conv, text, list(images))
        except IAError as exc:
            turn.error = exc
            return turn
        self._session_log(conv, "user", text, images=len(images) or None)
        return turn

    def regenerate(self, conv: Conversation, *, model: str | None = None, save: bool = True) -> ChatTurn:
        """Answer the last user message again; the last reply is kept as a previous version of the new one
        (core.versions), which is the one shown and sent as context from then on."""
        turn = ChatTurn(self, conv, model, save=save)
        ask = len(conv.messages) - (2 if conv.messages and conv.messages[-1].role == "assistant" else 1)
        if ask < 0 or conv.messages[ask].role != "user":
            turn.error = IAError(_("There is nothing to regenerate: send a message first."))
            return turn
        turn.user_message = conv.messages[ask]
        turn.new_version = True
        return turn

    def edit(self, conv: Conversation, index: int, text: str, *, model: str | None = None) -> ChatTurn:
        """Edit and resend user message ``index``: the new text (with the message's images) becomes its newest
        version, saved now; the old text and the replies that followed it stay as the previous version."""
        turn = ChatTurn(self, conv, model)
        try:
            turn.user_message = self.sessions.add_user_version(conv, index, text)
        except IAError as exc:
            turn.error = exc
            return turn
        self._session_log(conv, "user", text, edited=True, images=len(turn.user_message.images) or None)
        return turn

    def resolve_model(self, conv: Conversation | None = None, model: str | None = None) -> str:
        """The model to use: the one asked for, the conversation's, the settings', else the first installed."""
        name = model or (conv.model if conv is not None else "") or self.settings.model
        if name:
            return name
        installed = [m.name for m in self.backend.client.list_models()]
        if not installed:
            raise IAError(
                _(
                    "The server at {host} has no model installed: pull one with /pull NAME (or `ollama pull NAME`)."
                ).format(host=self.backend.host)
            )
        if self.backend.kind == "embedded" and EMBEDDED_DEFAULT_MODEL in installed:
            return EMBEDDED_DEFAULT_MODEL
        return installed[0]

    def request_options(self, conv: Conversation) -> dict[str, Any]:
        """Ollama options for a request: the settings' options, overridden by the conversation's."""
        return {**self.settings.options, **conv.options}

    def context_budget(self, model: str, options: dict[str, Any]) -> int | None:
        """Tokens the context may use: num_ctx (or the model's context length) minus room for the reply."""
        ctx = options.get("num_ctx") or self._context_length(model)
        if not ctx:
            return None
        predict = options.get("num_predict")
        reply = predict if isinstance(predict, int) and 0 < predict < ctx else ctx // _REPLY_SHARE
        return max(1, int(ctx) - reply)

    # -- internals ------------------------------------------------------------------------------------
    def _context_length(self, model: str) -> int | None:
        if model not in self._context_lengths:
            try:
                self._context_lengths[model] = self.backend.client.show(model).context_length
            except IAError:
                return None  # the chat request itself will report what is wrong with the model
        return self._context_lengths[model]

    def _session_log(self, conv: Conversation, role: str, text: str, **extra: Any) -> None:
        from core.logs import SessionLog

        try:
            SessionLog(self.settings, conv.slug).write(role, text, **{k: v for k, v in extra.items() if v})
        except (OSError, IAError) as exc:  # a log must never break the chat itself
            log.warning("session log not written for %s: %s", conv.slug, exc)

    def _dev_record(self, turn: ChatTurn, options: dict[str, Any], prompt_chars: int, elapsed: float) -> None:
        if not self.settings.dev_mode:
            return
        from core.devlog import DevLog, DevRecord

        if self.devlog is None:
            self.devlog = DevLog(self.settings)
        stats = turn.stats
        error = None
        if turn.error is not None:
            error = str(turn.error)
        elif turn.cancelled:
            error = STOPPED_BY_USER
        record = DevRecord.from_stats(
            session=turn.conv.slug,
            model=turn.model,
            host=self.backend.host,
            options=options,
            prompt_chars=prompt_chars,
            reply_chars=len(turn.text),
            stats=stats,
            error=error,
        )
        if stats is None:  # a failed or stopped request: our own timings are all there is
            record.ttft_s, record.total_s = turn.ttft_s, elapsed
        try:
            self.devlog.record(record)
        except (OSError, IAError) as exc:
            log.warning("dev record not written: %s", exc)


class ChatTurn:
    """One request and its reply. Iterate it (once) to stream chunks; ``cancel()`` works from any thread.

    ``model`` is final once iteration started (a fallback model may replace the one asked for); ``message``
    is the assistant message being written (None when the request failed before a model was chosen).
    """

    def __init__(
        self, service: ChatService, conv: Conversation, model: str | None, *, save: bool = True
    ) -> None:
        self.service = service
        self.save = save  # False: nothing of this exchange is written (see ChatService.send)
        self.images: list[Path | bytes] = []  # an unsaved user message's images, added to the request
        self.conv = conv
        self.model: str = model or conv.model or service.settings.model
        self.user_message: Message | None = None
        self.message: Message | None = None
        self.stats: StreamStats | None = None
        self.error: IAError | None = None
        self.notes: list[str] = []
        self.code_files: list[Path] = []
        self.cancelled = False
        self.ttft_s: float | None = None  # measured here too, for failed requests that have no stats
        self.new_version = False  # regenerate: the reply becomes a new version of the last reply
        self._asked = model
        self._lock = threading.Lock()
        self._stream: ChatStream | None = None
        self._started = False
        self._done = threading.Event()

    @property
    def text(self) -> str:
        """The reply so far."""
        return self.message.content if self.message is not None else ""

    @property
    def thinking(self) -> str:
        return self.message.thinking if self.message is not None else ""

    @property
    def done(self) -> bool:
        """True once the turn has ended (finished, stopped or failed)."""
        return self._done.is_set() or (self.error is not None and not self._started)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the turn has ended; True if it did within ``timeout``."""
        return self.done or self._done.wait(timeout)

    def cancel(self) -> None:
        """Stop the reply: the HTTP response is closed (the server stops) and the partial text is kept."""
        with self._lock:
            self.cancelled = True
            stream = self._stream
        if stream is not None:
            stream.cancel()

    def __iter__(self) -> Iterator[Chunk]:
        if self._started:
            raise RuntimeError("a ChatTurn can be iterated only once")
        self._started = True
        return self._run()

    def _start(self, name: str) -> ChatStream:
        """Open the stream for one model of the fallback chain (called by with_fallback)."""
        svc = self.service
        stream = svc.backend.client.chat_stream(
            name,
            self._messages,
            options=self._options or None,
            keep_alive=svc.settings.keep_alive,
            think=svc.settings.think,
            format=svc.format,
        )
        with self._lock:
            self._stream = stream
            if self.cancelled:
                stream.cancel()
        return stream

    def _run(self) -> Iterator[Chunk]:
        svc = self.service
        t0 = time.monotonic()
        writer: ReplyWriter | _UnsavedReply | None = None
        self._options: dict[str, Any] = {}
        self._messages: list[dict[str, Any]] = []
        prompt_chars = 0
        try:
            if self.error is not None:
                return
            self.model = svc.resolve_model(self.conv, self._asked)
            self._options = svc.request_options(self.conv)
            budget = svc.context_budget(self.model, self._options)
            if self.save:
                writer = svc.sessions.start_reply(self.conv, self.model, new_version=self.new_version)
            else:
                writer = _UnsavedReply(self.conv, self.model, new_version=self.new_version)
            self.message = writer.message
            # After the reply is placed (a regenerated one replaces the last reply on the path): the context
            # is the path up to the question, the reply being written left out.
            self._messages = svc.sessions.context_messages(self.conv, max_tokens=budget)
            if self.images and self._messages:
                self._messages[-1] = {**self._messages[-1], "images": list(self.images)}
            prompt_chars = sum(len(m.get("content", "")) for m in self._messages)
            chain = [self.model] + [m for m in svc.settings.fallback_models if m != self.model]
            used, stream, self.notes = with_fallback(svc.backend.client, chain, self._start)
            if used != self.model:
                self.model = used
                writer.message.model = used
            for chunk in stream:
                if isinstance(chunk, ContentChunk):
                    self._first(t0)
                    writer.append(chunk.text)
                elif isinstance(chunk, ThinkingChunk):
                    self._first(t0)
                    writer.append_thinking(chunk.text)
                elif isinstance(chunk, FinalChunk):
                    self.stats = chunk.stats
                yield chunk
            if self.stats is None and not (self.cancelled or stream.cancelled):
                raise StreamBroken(_("the stream ended without its final record"))
            if self.stats is None:
                self.cancelled = True
                writer.fail(STOPPED_BY_USER, interrupted=True)
            else:
                self.code_files = writer.finish(self.stats)
                if writer.save_error is not None:
                    raise writer.save_error
        except IAError as exc:
            self.error = exc
            self._fail(writer, str(exc), interrupted=bool(self.text))
        except GeneratorExit:  # the caller stopped iterating: that is a cancel
            self.cancel()
            self.cancelled = True
            self._fail(writer, STOPPED_BY_USER, interrupted=True)
            raise
        except BaseException as exc:  # a bug or KeyboardInterrupt: keep what we have, then let it through
            self.cancel()
            self._fail(writer, f"{type(exc).__name__}: {exc}", interrupted=True)
            raise
        finally:
            with self._lock:
                stream_left = self._stream
            if stream_left is not None:
                stream_left.close()
            self._finish_records(prompt_chars, time.monotonic() - t0)
            self._done.set()

    def _first(self, t0: float) -> None:
        if self.ttft_s is None:
            self.ttft_s = time.monotonic() - t0

    def _fail(self, writer: ReplyWriter | _UnsavedReply | None, reason: str, *, interrupted: bool) -> None:
        if writer is None or writer.message.status != "streaming":
            return
        try:
            writer.fail(reason, interrupted=interrupted)
        except IAError as exc:
            log.warning("could not save the end of a failed reply: %s", exc)
            if self.error is None:
                self.error = exc

    def _finish_records(self, prompt_chars: int, elapsed: float) -> None:
        if self.user_message is None:
            return  # nothing was asked: the user message itself could not be saved
        if not self.save:
            return  # -n/--no-log: no session log, no DEV record
        svc = self.service
        status = self.message.status if self.message is not None else "error"
        if self.message is None and self.error is None:
            return
        svc._session_log(
            self.conv,
            "assistant",
            self.text,
            model=self.model,
            status=status,
            error=str(self.error) if self.error else (STOPPED_BY_USER if self.cancelled else None),
        )
        svc._dev_record(self, self._options, prompt_chars, elapsed)


class _UnsavedReply:
    """The reply of an exchange that is not saved: ReplyWriter's interface, in memory only."""

    save_error: IAError | None = None

    def __init__(self, conv: Conversation, model: str, *, new_version: bool = False) -> None:
        from core import versions
        from core.sav_manager import Message

        self.message = Message("assistant", "", datetime.now(UTC), model=model, status="streaming")
        if new_version:
            versions.with_versions(self.message, versions.keep_reply_as_version(conv))
        conv.messages.append(self.message)

    def append(self, text: str) -> None:
        self.message.content += text

    def append_thinking(self, text: str) -> None:
        self.message.thinking += text

    def finish(self, stats: StreamStats | None) -> list[Path]:
        """The reply is complete; no code file is written (there is no session folder)."""
        self.message.status = "complete"
        self.message.stats = stats.to_dict() if stats is not None else None
        return []

    def fail(self, error: str, *, interrupted: bool = True) -> None:
        self.message.status = "interrupted" if interrupted else "error"
        self.message.error = error
