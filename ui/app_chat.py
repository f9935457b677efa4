"""The app's conversation and chat actions: new/open/rename/delete/search, per-chat settings, and one
exchange (send, regenerate, edit and resend, stop) streamed through StreamPump; ‹ › between versions. A mixin of IAApp (ui/app.py)."""

from __future__ import annotations

import copy
from typing import Any

from core import versions
from core.attachments import summary
from core.errors import IAError, ServerUnreachable, StreamBroken
from core.i18n import _
from ui.controller import Problem, describe_error
from ui.stream_pump import PumpResult, StreamPump

__all__ = ["ChatActions"]


class ChatActions:
    """Conversations in the list and the chat view; replies streamed off the main thread."""

    # -- conversations --------------------------------------------------------------------------------
    def reload_sessions(self, open_last: bool = False) -> None:
        def listed(infos: list[Any]) -> None:
            self.sessions_cache = infos
            self.ids.conv_list.set_sessions(infos)
            last = self.settings.ui.get("last_conversation")
            if open_last and last and any(i.slug == last for i in infos):
                self.open_conversation(last)

        self.controller.list_sessions(listed, self._storage_failed)

    def new_chat(self, focus: bool = True) -> None:
        """Ctrl+N: an empty chat; it is saved when its first message is sent."""
        if self.streaming:
            self.stop_reply()
        self.conv = None
        self.conversation_title = _("New chat")
        self.draft_system, self.draft_options = self.settings.system_prompt, {}
        self._show(None)
        self.ids.conv_list.current = ""
        self.ids.info.set_chat(None, bool(self.settings.think))
        self.ids.info.has_chat = True
        self.show_screen("chat")
        if focus:
            self.focus_input()

    def _show(self, conv: Any) -> None:
        """Show a conversation, or an empty page for a new chat."""
        from datetime import UTC, datetime

        from core.conversation import Conversation

        self.empty_chat = conv is None or not conv.messages
        if conv is None:
            now = datetime.now(UTC)
            conv = Conversation(title=_("New chat"), slug="", created=now, updated=now)
            self.chat_view.session_dir = ""
        else:
            self.chat_view.session_dir = str(self.settings.sav_dir / conv.slug)
        self.chat_view.show_conversation(conv)

    def open_conversation(self, slug: str) -> None:
        if self.conv is not None and self.conv.slug == slug:
            return
        if self.streaming:
            self.stop_reply()
        self.controller.load(slug, self._opened, self._storage_failed)

    def _opened(self, conv: Any) -> None:
        self.conv = conv
        self.conversation_title = conv.title
        self._show(conv)
        self.ids.conv_list.current = conv.slug
        self.ids.info.set_chat(conv, bool(self.settings.think))
        if conv.model and conv.model != self.model:
            self.ids.info.selected_model = conv.model
            self._select_model(conv.model)
        self.remember()
        self.focus_input()

    def rename(self, slug: str, title: str) -> None:
        def renamed(conv: Any) -> None:
            if self.conv is not None and self.conv.slug == slug:
                self.conv = conv
                self.conversation_title = conv.title
                self.ids.conv_list.current = conv.slug
            self.reload_sessions()

        self.controller.run(
            lambda: self.controller.sessions.rename(slug, title), renamed, self._storage_failed
        )

    def delete(self, slug: str) -> None:
        def deleted(_r: Any) -> None:
            if self.conv is not None and self.conv.slug == slug:
                self.new_chat()
            self.reload_sessions()

        self.controller.run(lambda: self.controller.sessions.delete(slug), deleted, self._storage_failed)

    def search(self, query: str) -> None:
        self.controller.search(
            query, lambda hits: self.ids.conv_list.show_search_results(query, hits), self._storage_failed
        )

    def apply_chat_settings(self, system: str, options: dict[str, Any], think: bool) -> None:
        """The panel's "Apply": this chat's system prompt and Ollama options; thinking (offered only for a model
        that can think) is the request's `think` flag for this window's requests."""
        merged = dict(options)
        self.settings.think = True if think else None
        self.focus_input(force=True)
        if self.conv is None:
            self.draft_system, self.draft_options = system, merged
            return
        self.conv.system_prompt, self.conv.options = system, merged
        conv = self.conv
        self.controller.run(lambda: self.controller.sessions.save(conv), None, self._storage_failed)

    # -- chat flow ------------------------------------------------------------------------------------
    def send(self, text: str, images: list[Any]) -> None:
        """The input bar sent a message: save it (creating the chat if new), then stream the reply."""
        if self.streaming:
            return
        if self.controller.backend is None:
            if self.backend_status == "connecting":
                # Still starting (e.g. the embedded backend): keep it and send it once connected.
                self.pending_send = (text, list(images))
                self.input_bar.clear()
                self.input_bar.show_notice(
                    lambda: _("Connecting… your message will be sent as soon as the model is ready."), False
                )
                return
            self.input_bar_restore(text)
            self.show_problem(
                describe_error(ServerUnreachable(self.settings.ollama_host, _("not connected")))
            )
            return
        try:
            if self.conv is None:
                title = " ".join(summary(text).split())[:60] or _("Image")
                self.conv = self.controller.sessions.create(
                    title, model=self.model, system_prompt=self.draft_system, options=self.draft_options
                )
                self.conversation_title = self.conv.title
                self.ids.conv_list.current = self.conv.slug
                self.chat_view.session_dir = str(self.settings.sav_dir / self.conv.slug)
            turn = self.controller.chat.send(self.conv, text, images=images, model=self.model or None)
        except IAError as exc:
            self.input_bar_restore(text)
            self.show_problem(describe_error(exc))
            return
        if turn.error is not None and turn.user_message is None:
            self.input_bar_restore(text)
            self.show_problem(describe_error(turn.error))
            return
        self.input_bar.clear()
        # The message is saved: list the conversation now (a new one appears, an old one moves to the top),
        # not when the reply ends.
        self.reload_sessions()
        self._run_turn(turn)

    def input_bar_restore(self, text: str) -> None:
        """Text that could not be sent stays in (or goes back into) the input box, its files as chips: nothing
        typed or attached is lost."""
        if not self.input_bar.message_text().strip():
            self.input_bar.restore(text)

    def regenerate(self) -> None:
        if self.streaming or self.conv is None or self.controller.backend is None:
            return
        turn = self.controller.chat.regenerate(self.conv, model=self.model or None)
        if turn.error is not None and turn.user_message is None:
            self.show_problem(describe_error(turn.error))
            return
        self._run_turn(turn)

    def edit_resend(self, index: int, text: str) -> None:
        """A sent message was edited: the new text, with the message's images, becomes its newest version and
        is sent; the old text and the replies that followed it stay as the previous version (‹ 1/2 ›)."""
        conv = self.conv
        if self.streaming or conv is None or not 0 <= index < len(conv.messages):
            return
        if self.controller.backend is None:  # nothing is changed; the edited text waits in the input box
            self.input_bar_restore(text)
            self.show_problem(
                describe_error(ServerUnreachable(self.settings.ollama_host, _("not connected")))
            )
            return
        turn = self.controller.chat.edit(conv, index, text, model=self.model or None)
        if turn.error is not None:  # not saved, nothing changed: the edited text waits in the input box
            self.input_bar_restore(text)
            self.show_problem(describe_error(turn.error))
            return
        self.chat_view.show_conversation(conv)
        self.reload_sessions()
        self._run_turn(turn)

    def switch_version(self, index: int, target: int) -> None:
        """‹ or › on a message: show version ``target`` of message ``index`` and what followed it; the choice
        is saved and is the context of the next message."""
        conv = self.conv
        if self.streaming or conv is None or not 0 <= index < len(conv.messages):
            return
        try:
            self.controller.sessions.switch_version(conv, index, target)
        except (IAError, IndexError) as exc:
            self.show_problem(describe_error(exc) if isinstance(exc, IAError) else Problem(str(exc)))
            return
        following = self.chat_view.ids.rv.scroll_y
        self.chat_view.show_conversation(conv)
        if index < len(conv.messages) - 1:  # stay near the message switched rather than at the end
            self.chat_view.ids.rv.scroll_y = following
            self.chat_view.following = False
        self.focus_input()

    def stop_reply(self) -> None:
        """Esc / Stop: cancel the reply; the partial text is kept and saved as interrupted."""
        if self.pump is not None:
            self.pump.stop()

    def _run_turn(self, turn: Any) -> None:
        self.empty_chat = False
        self.turn = turn
        self.streaming = True
        self.input_bar.streaming = True
        self.ids.banner.hide()
        shown = self.chat_view.messages
        earlier: list[Any] = []
        if turn.new_version:  # regenerate: the last reply becomes an earlier version of the new one
            earlier = versions.kept_on_regenerate(self.conv)
            path = self.conv.messages
            on_screen = copy.copy(self.conv)
            on_screen.messages = path[:-1] if path and path[-1].role == "assistant" else list(path)
            self.chat_view.show_conversation(on_screen)
        elif turn.user_message is not None and (not shown or shown[-1] is not turn.user_message):
            if len(shown) == len(self.conv.messages) - 1:
                self.chat_view.append_message(turn.user_message)  # a send: only the new message is added
            else:
                self.chat_view.show_conversation(self.conv)
        self.chat_view.begin_reply(turn.model or self.model, earlier=earlier)
        self.pump = StreamPump(
            lambda: turn, self.chat_view.update_reply, self._turn_ended, post=self.controller.post
        ).start()
        self.focus_input()

    def _turn_ended(self, result: PumpResult) -> None:
        turn = self.turn
        self.turn = self.pump = None
        self.streaming = False
        self.input_bar.streaming = False
        self.chat_view.end_reply(result.status, result.stats, result.error)
        if turn is None:
            return
        if result.exception is not None and turn.error is None:
            turn.error = result.exception
        if turn.model and turn.model != self.model:
            self._select_model(turn.model)
        for note in turn.notes:
            self.show_problem(Problem(note, kind="warning"))
        if turn.error is not None:
            self.show_problem(describe_error(turn.error))
            if isinstance(turn.error, ServerUnreachable | StreamBroken):
                self._check_health()
        if turn.stats is not None:
            self.last_stats = turn.stats
            self.speed_history = (self.speed_history + [turn.stats.gen_tps])[-20:]
        self.ids.info.set_stats(self.last_stats, self.speed_history)
        self.reload_sessions()
        self.refresh_running()
        self.focus_input()

    def _flush_pending_send(self, connected: bool) -> None:
        pending, self.pending_send = self.pending_send, None
        if pending is None:
            return
        self.input_bar.show_notice("")
        if connected:
            self.send(*pending)
        else:
            self.input_bar_restore(pending[0])
