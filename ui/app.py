"""The IA_V3 desktop app: the zones laid out, keyboard shortcuts, window/theme/last-conversation memory, and
the chat flow between the input bar, the chat view and the core (through the controller, off the main thread).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.config import Config
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from config import EMBEDDED_DEFAULT_MODEL, Settings, load_settings, save_settings
from core.errors import IAError, ModelNotFound, ServerUnreachable, StreamBroken
from ui import benchmark_screen, conversation_list, info_panel  # noqa: F401  (kv rules by class name)
from ui.banner import ErrorBanner  # noqa: F401
from ui.config_ui import theme
from ui.controller import Controller, Problem, describe_error
from ui.icons import APP_ICON
from ui.stream_pump import PumpResult, StreamPump

__all__ = ["IAApp", "RootLayout", "window_size"]

log = logging.getLogger("ia.ui")
DEFAULT_SIZE = (1280, 800)
MIN_SIZE = (820, 520)
HEALTH_INTERVAL_S = 2.0


def window_size(ui: dict[str, Any]) -> tuple[int, int]:
    """The remembered window size from settings.ui, at least MIN_SIZE; DEFAULT_SIZE when absent or bad."""
    try:
        width, height = int(ui.get("width", DEFAULT_SIZE[0])), int(ui.get("height", DEFAULT_SIZE[1]))
    except (TypeError, ValueError):
        return DEFAULT_SIZE
    return max(MIN_SIZE[0], width), max(MIN_SIZE[1], height)


class RootLayout(BoxLayout):
    """The window's root: top bar, then the chat screen (list | chat | panel) or the benchmark screen."""


Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class IAApp(App):
    """The desktop app. ``settings`` and ``engine`` (a scripted embedded engine) can be injected by tests."""

    conv = ObjectProperty(None, allownone=True)  # the Conversation on screen; None = a new, unsaved chat
    conversation_title = StringProperty("New chat")
    model = StringProperty("")
    backend_status = StringProperty("connecting")
    status_text = StringProperty("Connecting…")
    streaming = BooleanProperty(False)
    panel_open = BooleanProperty(True)
    screen = StringProperty("chat")
    empty_chat = BooleanProperty(True)  # no message on screen: the welcome text shows
    backend_label = StringProperty("server")

    def __init__(self, settings: Settings | None = None, *, engine: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings or load_settings()
        self.controller = Controller(self.settings, engine=engine)
        self.turn: Any = None
        self.pump: StreamPump | None = None
        self.draft_system = self.settings.system_prompt
        self.draft_options: dict[str, Any] = {}
        self.sessions_cache: list[Any] = []
        self.speed_history: list[float | None] = []
        self.last_stats: Any = None
        self.bench_cancel: Any = None
        self.pull_cancel: Any = None
        self.pending_send: tuple[str, list[Any]] | None = None  # sent while still connecting
        self._health = None
        self.icon = str(APP_ICON)
        self.title = "IA_V3"

    # -- building -------------------------------------------------------------------------------------
    def build(self) -> RootLayout:
        Config.set("kivy", "exit_on_escape", "0")  # Esc stops a reply; it must never close the window
        ui = self.settings.ui
        theme.name = self.settings.theme if self.settings.theme in ("light", "dark") else "light"
        Window.clearcolor = theme.colors["window_bg"]
        Window.minimum_height = MIN_SIZE[1]
        Window.minimum_width = MIN_SIZE[0]
        wanted = window_size(ui)
        if tuple(Window.size) != wanted:
            Window.size = wanted
        Window.set_icon(str(APP_ICON))
        self.panel_open = bool(ui.get("panel_open", True))
        root = RootLayout()
        self._build_chat_zone(root)
        self._bind_zones(root)
        Window.bind(
            on_key_down=self._on_keyboard,
            on_textinput=self._on_textinput,
            on_request_close=self._on_request_close,
        )
        theme.bind(name=self._on_theme)
        self.bind(conversation_title=self._update_title)
        self._update_title()
        return root

    def _build_chat_zone(self, root: RootLayout) -> None:
        from ui.chat_view import ChatView
        from ui.input_bar import InputBar

        self.chat_view = ChatView()
        self.input_bar = InputBar()
        root.ids.chat_zone.add_widget(
            self.chat_view, index=len(root.ids.chat_zone.children)
        )  # below the welcome
        root.ids.input_zone.add_widget(self.input_bar)
        # on_copy_message / on_copy_code keep the chat view's own handlers (they copy to the clipboard).
        self.chat_view.bind(
            on_regenerate=lambda _w: self.regenerate(),
            on_edit_resend=lambda _w, index, text: self.edit_resend(index, text),
        )
        self.input_bar.bind(
            on_send=lambda _w, text, images: self.send(text, images), on_stop=lambda _w: self.stop()
        )

    def _bind_zones(self, root: RootLayout) -> None:
        ids = root.ids
        ids.conv_list.bind(
            on_select=lambda _w, slug: self.open_conversation(slug),
            on_new=lambda _w: self.new_chat(),
            on_rename=lambda _w, slug, title: self.rename(slug, title),
            on_delete=lambda _w, slug: self.delete(slug),
            on_search=lambda _w, query: self.search(query),
        )
        ids.info.bind(
            on_reconnect=lambda _w: self.connect(),
            on_pick_model=lambda _w, name: self.pick_model(name),
            on_chat_settings=lambda _w, system, options, think: self.apply_chat_settings(
                system, options, think
            ),
            on_pull=lambda _w, name: self.pull(name),
            on_cancel_pull=lambda _w: self.pull_cancel and self.pull_cancel.set(),
            on_delete_model=lambda _w, name: self.delete_model(name),
            on_unload=lambda _w, name: self.unload(name),
            on_refresh=lambda _w: self.refresh_models(),
            on_dev_switch=lambda _w, on: self.set_dev_mode(on),
        )
        ids.info.dev_mode = self.settings.dev_mode
        ids.banner.bind(on_action=lambda _w, action: self.banner_action(action))
        ids.bench.bind(
            on_back=lambda _w: self.show_screen("chat"),
            on_run=lambda _w: self.run_benchmark(),
            on_cancel_run=lambda _w: self.bench_cancel and self.bench_cancel.set(),
        )

    def on_start(self) -> None:
        self.connect()
        self.reload_sessions(open_last=True)
        self._load_dev_history()
        self.new_chat(focus=True)
        self._health = Clock.schedule_interval(lambda _dt: self._check_health(), HEALTH_INTERVAL_S)

    def on_stop(self) -> None:
        if self.pump is not None:
            self.pump.stop()
        for event in (self.pull_cancel, self.bench_cancel):
            if event is not None:
                event.set()
        if self._health is not None:
            self._health.cancel()
        Window.unbind(
            on_key_down=self._on_keyboard,
            on_textinput=self._on_textinput,
            on_request_close=self._on_request_close,
        )
        theme.unbind(name=self._on_theme)
        self.remember()
        self.controller.close()

    def _on_request_close(self, *_: Any) -> bool:
        self.remember()
        return False

    # -- window state ---------------------------------------------------------------------------------
    @property
    def ids(self) -> Any:
        return self.root.ids

    def remember(self) -> None:
        """Save window size, panel state and the last conversation into settings.ui (config.toml)."""
        ui = dict(self.settings.ui)
        ui.update(
            width=int(Window.width),
            height=int(Window.height),
            panel_open=bool(self.panel_open),
            last_conversation=self.conv.slug if self.conv is not None else "",
        )
        self.settings.ui = ui
        self._save_settings("ui")

    def _save_settings(self, *keys: str) -> None:
        try:
            save_settings(self.settings, keys)
        except IAError as exc:
            self.show_problem(describe_error(exc))

    def _update_title(self, *_: Any) -> None:
        Window.set_title(f"IA_V3 — {self.conversation_title}")
        self.title = f"IA_V3 — {self.conversation_title}"

    def toggle_theme(self) -> None:
        theme.name = "dark" if theme.name == "light" else "light"

    def _on_theme(self, *_: Any) -> None:
        Window.clearcolor = theme.colors["window_bg"]
        self.settings.theme = theme.name
        self._save_settings("theme")

    def show_screen(self, name: str) -> None:
        if name == self.screen:
            return
        self.screen = name
        self.root.ids.sm.current = name
        if name == "bench":
            self.ids.bench.model = self.model
            self.reload_board()
        else:
            self.focus_input()

    def on_panel_open(self, *_: Any) -> None:
        if self.root is not None:
            self.remember()

    # -- keyboard -------------------------------------------------------------------------------------
    def _on_keyboard(
        self, _window: Any, key: int, _scancode: int, _codepoint: str, modifiers: list[str]
    ) -> bool:
        ctrl = "ctrl" in modifiers or "meta" in modifiers
        shift = "shift" in modifiers
        if key == 27:  # Esc
            if self.streaming:
                self.stop()
            return True  # never let Esc close the window
        if not ctrl:
            return False
        char = chr(key) if 0 < key < 0x110000 else ""
        if char == "n" and not shift:
            self.new_chat()
        elif char in ("k", "f") and not shift:
            self.show_screen("chat")
            self.ids.conv_list.focus_search()
        elif char == "c" and shift:
            self.copy_last_code()
        elif char == "l" and not shift:
            self.show_screen("chat")
            self.focus_input(force=True)
        elif char == "q" and not shift:
            self.stop_app()
        else:
            return False
        return True

    def _on_textinput(self, _window: Any, text: str) -> bool:
        """Typing while no text field has the keyboard (e.g. right after the window opens, or after a click
        elsewhere) goes into the message box instead of being lost."""
        from kivy.uix.modalview import ModalView
        from kivy.uix.textinput import TextInput

        target = getattr(Window._system_keyboard, "target", None)
        if isinstance(target, TextInput) and target.focus and target.get_root_window():
            return False
        if self.screen != "chat" or any(isinstance(w, ModalView) for w in Window.children):
            return False
        box = self.input_bar.ids.input
        box.focus = True
        box.insert_text(text)
        return True

    def stop_app(self, *args: Any) -> None:
        self.remember()
        super().stop(*args)

    def focus_input(self, force: bool = False) -> None:
        """Give the message box the keyboard at the next frame, unless (without ``force``) another text
        field took it since (the search box, a rename, a panel field)."""

        def focus(_dt: float) -> None:
            from kivy.uix.textinput import TextInput

            target = getattr(Window._system_keyboard, "target", None)
            mine = self.input_bar.ids.input
            busy = isinstance(target, TextInput) and target is not mine and target.focus
            if busy and target.get_root_window() and not force:
                return
            self.input_bar.focus_input()

        Clock.schedule_once(focus, 0)

    def copy_last_code(self) -> bool:
        """Ctrl+Shift+C: the last code block of the conversation goes to the clipboard."""
        from kivy.core.clipboard import Clipboard

        code = self.chat_view.last_code_block()
        if not code:
            self.show_problem(Problem("There is no code block in this conversation yet.", kind="warning"))
            return False
        Clipboard.copy(code)
        return True

    # -- problems -------------------------------------------------------------------------------------
    def show_problem(self, problem: Problem) -> None:
        log.warning("shown to the user: %s", problem.message)
        self.ids.banner.show(problem)

    def banner_action(self, action: str) -> None:
        self.ids.banner.hide()
        if action == "reconnect":
            self.connect()
        elif action == "regenerate":
            self.regenerate()
        elif action == "pull":
            self.panel_open = True
            self.ids.info.ids.pull_input.text = self.model
            self.pull(self.model)

    # -- backend --------------------------------------------------------------------------------------
    def connect(self) -> None:
        """(Re)connect in the background; the window says "Connecting…" at once."""
        self.backend_status = "connecting"
        self.status_text = "Connecting…"
        info = self.ids.info
        info.status, info.note = "connecting", "Looking for Ollama, else starting the embedded backend…"
        self.controller.connect(self._connected)

    def _connected(self, backend: Any, error: BaseException | None) -> None:
        info = self.ids.info
        if error is not None:
            self.backend_status = info.status = "offline"
            self.status_text = "Offline"
            info.note = str(error)
            self.show_problem(describe_error(error))
            self._flush_pending_send(False)
            return
        self.backend_status = info.status = "ready"
        info.note = backend.note
        self.ids.banner.hide()
        self._set_status_text()
        self.refresh_models()

    def _set_status_text(self) -> None:
        backend = self.controller.backend
        if backend is None:
            return
        kind = "Ollama" if backend.kind == "ollama" else "Embedded"
        self.backend_label = "Ollama server" if backend.kind == "ollama" else "embedded llama.cpp backend"
        self.status_text = f"{kind}  ·  {self.model}" if self.model else kind

    def _check_health(self) -> None:
        """While a backend is set, ping it: a server that went away or came back updates status and banner."""
        if self.controller.backend is None or self.streaming or self.backend_status == "connecting":
            return
        self.controller.check_alive(self._health_result)

    def _health_result(self, alive: bool) -> None:
        if self.controller.backend is None:
            return
        info = self.ids.info
        if alive and self.backend_status == "offline":
            self.backend_status = info.status = "ready"
            info.note = self.controller.backend.note
            self._set_status_text()
            if self.ids.banner.action_id in ("reconnect", "regenerate"):
                self.ids.banner.hide()
            self.refresh_models()
        elif not alive and self.backend_status == "ready":
            self.backend_status = info.status = "offline"
            self.status_text = "Server not answering"
            host = self.controller.backend.host
            info.note = f"The server at {host} stopped answering."
            self.show_problem(describe_error(ServerUnreachable(host, "it stopped answering")))

    def refresh_models(self) -> None:
        self.controller.list_models(self._models_listed, self._backend_failed)
        self.controller.running(self.ids.info.set_running, lambda _e: None)

    def _flush_pending_send(self, connected: bool) -> None:
        pending, self.pending_send = self.pending_send, None
        if pending is None:
            return
        self.input_bar.show_notice("")
        if connected:
            self.send(*pending)
        else:
            self.input_bar_restore(pending[0])

    def _models_listed(self, infos: list[Any]) -> None:
        names = [i.name for i in infos]
        model = self.model or (self.conv.model if self.conv is not None else "") or self.settings.model
        if not model:
            backend = self.controller.backend
            if backend is not None and backend.kind == "embedded" and EMBEDDED_DEFAULT_MODEL in names:
                model = EMBEDDED_DEFAULT_MODEL
            elif names:
                model = names[0]
        self.ids.info.set_models(infos, model)
        self._select_model(model)
        self._flush_pending_send(True)
        if model and names and model not in names:
            self.show_problem(describe_error(ModelNotFound(model)))

    def _select_model(self, name: str) -> None:
        self.model = name
        self.ids.bench.model = name
        self._set_status_text()
        if name and self.controller.backend is not None:
            self.controller.show_model(
                name,
                self._details_shown,
                lambda exc: self.ids.info.set_details(None, str(exc)),
            )

    def _details_shown(self, details: Any) -> None:
        info = self.ids.info
        info.set_details(details)
        if not info.can_think:
            self.settings.think = None  # a model that cannot think refuses think=true
        info.think = bool(self.settings.think)

    def pick_model(self, name: str) -> None:
        """The picker chose a model: it is used for this chat from now on and remembered for new chats."""
        self._select_model(name)
        self.settings.ui = {**self.settings.ui, "last_model": name}
        if self.conv is not None and self.conv.model != name and not self.streaming:
            self.conv.model = name
            conv = self.conv
            self.controller.run(lambda: self.controller.sessions.save(conv), None, self._storage_failed)

    def _backend_failed(self, exc: BaseException) -> None:
        self.show_problem(describe_error(exc))
        self._flush_pending_send(self.controller.backend is not None)
        if isinstance(exc, ServerUnreachable):
            self.backend_status = self.ids.info.status = "offline"
            self.status_text = "Offline"

    def _storage_failed(self, exc: BaseException) -> None:
        self.show_problem(describe_error(exc))

    # -- model management -----------------------------------------------------------------------------
    def pull(self, name: str) -> None:
        info = self.ids.info
        if self.pull_cancel is not None:
            return
        info.pull_progress(f"Pulling {name}…", 0.0)

        def progress(p: Any) -> None:
            info.pull_progress(f"{name}: {p.status}", p.fraction)

        def done(error: BaseException | None, cancelled: bool) -> None:
            self.pull_cancel = None
            if cancelled:
                info.pull_finished(f"Pull of {name} cancelled.")
            elif error is not None:
                info.pull_finished(str(error))
                self.show_problem(describe_error(error))
            else:
                info.pull_finished(f"{name} is ready.")
                self.refresh_models()

        self.pull_cancel = self.controller.pull(name, progress, done)

    def delete_model(self, name: str) -> None:
        def deleted(_r: Any) -> None:
            self.ids.info.pull_status = f"Deleted {name}."
            if self.model == name:
                self.model = ""
            self.refresh_models()

        self.controller.delete_model(name, deleted, self._backend_failed)

    def unload(self, name: str) -> None:
        self.controller.unload(name, lambda _r: self.refresh_models(), self._backend_failed)

    def set_dev_mode(self, on: bool) -> None:
        self.ids.info.dev_mode = on
        if self.settings.dev_mode != on:
            self.settings.dev_mode = on
            self._save_settings("dev_mode")

    def _load_dev_history(self) -> None:
        def read() -> list[Any]:
            return self.controller.devlog.read()[-20:]

        def show(records: list[Any]) -> None:
            self.speed_history = [r.gen_tps for r in records if r.gen_tps is not None]
            self.ids.info.set_stats(self.last_stats, self.speed_history)

        self.controller.run(read, show, lambda _e: None)

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
            self.stop()
        self.conv = None
        self.conversation_title = "New chat"
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

        from core.sav_manager import Conversation

        self.empty_chat = conv is None or not conv.messages
        if conv is None:
            now = datetime.now(UTC)
            conv = Conversation(title="New chat", slug="", created=now, updated=now)
            self.chat_view.session_dir = ""
        else:
            self.chat_view.session_dir = str(self.settings.sav_dir / conv.slug)
        self.chat_view.show_conversation(conv)

    def open_conversation(self, slug: str) -> None:
        if self.conv is not None and self.conv.slug == slug:
            return
        if self.streaming:
            self.stop()
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
                    "Connecting… your message will be sent as soon as the model is ready.", False
                )
                return
            self.input_bar_restore(text)
            self.show_problem(describe_error(ServerUnreachable(self.settings.ollama_host, "not connected")))
            return
        try:
            if self.conv is None:
                title = " ".join(text.split())[:60] or "Image"
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
        self._run_turn(turn)

    def input_bar_restore(self, text: str) -> None:
        """Text that could not be sent stays in (or goes back into) the input box: nothing typed is lost."""
        if not self.input_bar.message_text().strip():
            self.input_bar.ids.input.text = text

    def regenerate(self) -> None:
        if self.streaming or self.conv is None or self.controller.backend is None:
            return
        turn = self.controller.chat.regenerate(self.conv, model=self.model or None)
        if turn.error is not None and turn.user_message is None:
            self.show_problem(describe_error(turn.error))
            return
        self._run_turn(turn)

    def edit_resend(self, index: int, text: str) -> None:
        """A sent message was edited: the conversation is cut back to before it, then the new text is sent."""
        conv = self.conv
        if self.streaming or conv is None or not 0 <= index < len(conv.messages):
            return
        kept = conv.messages[:index]
        try:
            conv.messages = kept
            self.controller.sessions.save(conv)
        except IAError as exc:
            self.show_problem(describe_error(exc))
            return
        self.chat_view.show_conversation(conv)
        self.send(text, [])

    def stop(self) -> None:
        """Esc / Stop: cancel the reply; the partial text is kept and saved as interrupted."""
        if self.pump is not None:
            self.pump.stop()

    def _run_turn(self, turn: Any) -> None:
        self.empty_chat = False
        self.turn = turn
        self.streaming = True
        self.input_bar.streaming = True
        self.ids.banner.hide()
        # A full refresh in the same frame as begin_reply: appending through an empty-slice assignment
        # (ChatView._set_items) trips Kivy's RecycleLayout assertion (kivy datamodel recondition_slice_assign).
        self.chat_view.show_conversation(self.conv)
        self.chat_view.begin_reply(turn.model or self.model)
        self.pump = StreamPump(lambda: turn, self.chat_view.update_reply, self._turn_ended).start()
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
        self.controller.running(self.ids.info.set_running, lambda _e: None)
        self.focus_input()

    # -- benchmark ------------------------------------------------------------------------------------
    def reload_board(self) -> None:
        from ui.benchmark_screen import load_board

        self.controller.run(
            lambda: load_board(self.settings.home), self.ids.bench.show_board, self._storage_failed
        )

    def run_benchmark(self) -> None:
        import threading

        from ui.benchmark_screen import QUICK_PROBLEMS, run_builtin_suite

        bench = self.ids.bench
        backend = self.controller.backend
        if backend is None or not self.model or self.bench_cancel is not None:
            bench.run_finished("Connect to a server and pick a model first.")
            return
        cancel = threading.Event()
        self.bench_cancel = cancel
        bench.run_progress(0, 1)
        bench.status = f"Starting the built-in suite on {self.model}…"
        model, home = self.model, self.settings.home

        def progress(done: int, total: int) -> None:
            Clock.schedule_once(lambda _dt: bench.run_progress(done, total), 0)

        def finished(outcome: Any) -> None:
            self.bench_cancel = None
            if outcome.status == "complete":
                p1 = (outcome.summary or {}).get("pass_at_k", {}).get("1", {}).get("value")
                score = f"pass@1 {100 * p1:.0f}%" if p1 is not None else "scored"
                bench.run_finished(f"Run complete on {model}: {score}. Reports written to data/benchmarks/.")
            elif outcome.status == "interrupted":
                bench.run_finished(
                    "Run cancelled; it can be resumed with `python main_benchmark.py run --resume`."
                )
            else:
                bench.run_finished(str(outcome.error))
            self.reload_board()

        def failed(exc: BaseException) -> None:
            self.bench_cancel = None
            bench.run_finished(describe_error(exc).message)

        limit = QUICK_PROBLEMS if bench.quick else None
        self.controller.run(
            lambda: run_builtin_suite(backend, home, model, progress, cancel, limit), finished, failed
        )
