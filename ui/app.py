"""The IA_V3 desktop app: the zones laid out, keyboard shortcuts, window/theme/last-conversation memory and the
error banner. Conversation and chat actions live in ui/app_chat.py, import and export in ui/app_import_export.py,
model-server actions in ui/app_backend.py.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.config import Config
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ObjectProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

import ui.i18n  # noqa: F401  (first: _() in every kv rule loaded below)
from config import Settings, load_settings, save_settings
from core import i18n
from core.errors import IAError
from core.i18n import N_, _
from ui import benchmark_screen, clip, conversation_list, info_panel, layer  # noqa: F401  (kv rules by class name)
from ui.app_backend import BackendActions, remembered_host
from ui.app_chat import ChatActions
from ui.app_import_export import ImportExportActions
from ui.banner import ErrorBanner  # noqa: F401
from ui.config_ui import theme
from ui.controller import Controller, Problem, describe_error
from ui.graphics import DEFAULT_SIZE, MIN_SIZE, renderer, window_size
from ui.icons import APP_ICON
from ui.notify import describe_method, notification_method, reply_notice, send_notification

__all__ = ["DEFAULT_SIZE", "MIN_SIZE", "IAApp", "RootLayout", "window_size"]

log = logging.getLogger("ia.ui")
HEALTH_INTERVAL_S = 2.0


class RootLayout(BoxLayout):
    """The window's root: top bar, then the chat screen (list | chat | panel) or the benchmark screen."""


Builder.load_file(str(Path(__file__).with_suffix(".kv")))


class IAApp(ChatActions, ImportExportActions, BackendActions, App):
    """The desktop app. ``settings`` and ``engine`` (a scripted embedded engine) can be injected by tests.

    The server chosen in the backend panel is remembered (settings.ui["host"]) and used at the next start
    instead of OLLAMA_HOST or config.toml's ollama_host, unless ``use_remembered_host`` is False (main_ui.py
    passes False when --host is given: the command line wins for that run)."""

    conv = ObjectProperty(None, allownone=True)  # the Conversation on screen; None = a new, unsaved chat
    conversation_title = StringProperty(N_("New chat"))  # translated by new_chat
    model = StringProperty("")
    backend_status = StringProperty("connecting")
    status_text = StringProperty(N_("Connecting…"))  # translated by connect
    streaming = BooleanProperty(False)
    panel_open = BooleanProperty(True)
    list_open = BooleanProperty(True)  # the conversation list; collapsed, the chat zone takes its width
    fullscreen = BooleanProperty(False)  # F11; not remembered: the app always starts in a window
    screen = StringProperty("chat")
    empty_chat = BooleanProperty(True)  # no message on screen: the welcome text shows
    backend_label = StringProperty("server")
    notify_method = StringProperty("")  # how a reply that ends in the background is announced (ui/notify.py)
    notify_text = StringProperty("")

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        engine: Any = None,
        use_remembered_host: bool = True,
        language: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.settings = settings or load_settings()
        # The interface's language: ``language`` (main_ui.py's --lang, for this run only), else the settings'
        # choice ("auto": the system locale's). Before any text is made.
        i18n.set_language(language or self.settings.language)
        self._status_source: Callable[[], str] = lambda: _("Connecting…")
        self._note_source: Callable[[], str] | None = None
        self._problem_source: Callable[[], Problem] | None = None
        self._recommended: tuple[str, list[Any]] | None = None
        self.default_host = self.settings.ollama_host  # what an empty host box means: OLLAMA_HOST or config
        self.chosen_host = remembered_host(self.settings) if use_remembered_host else ""
        if self.chosen_host:
            self.settings.ollama_host = self.chosen_host
        self._switched = False  # set by switch_host until the new server's models are listed
        self.controller = Controller(self.settings, engine=engine)
        self.turn: Any = None
        self.pump: Any = None  # the StreamPump of the reply in progress
        self.draft_system = self.settings.system_prompt
        self.draft_options: dict[str, Any] = {}
        self.sessions_cache: list[Any] = []
        self.speed_history: list[float | None] = []
        self.last_stats: Any = None
        self.bench_cancel: Any = None
        self.pull_cancel: Any = None
        self.pending_send: tuple[str, list[Any]] | None = None  # sent while still connecting
        self._health = None
        self.notify_method = notification_method()
        self.notify_text = describe_method(self.notify_method)
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
        self.list_open = bool(ui.get("list_open", True))
        self._windowed_size: tuple[int, int] | None = None  # the window's size before F11, remembered instead
        # After leaving fullscreen: the size to keep and until when. SDL applies fullscreen asynchronously, so
        # the screen-sized resize of an F11 pressed twice quickly can arrive after the second press.
        self._hold_size: tuple[tuple[int, int], float] | None = None
        root = RootLayout()
        self._build_chat_zone(root)
        self._bind_zones(root)
        Window.bind(
            on_key_down=self._on_keyboard,
            on_textinput=self._on_textinput,
            on_request_close=self._on_request_close,
            on_resize=self._on_window_resize,
        )
        theme.bind(name=self._on_theme)
        i18n.add_listener(self._on_language)
        self.bind(conversation_title=self._update_title)
        self._update_title()
        return root

    def _build_chat_zone(self, root: RootLayout) -> None:
        from ui.chat_view import ChatView
        from ui.context_meter import ContextMeter, ContextWatch
        from ui.input_bar import InputBar

        self.chat_view = ChatView()
        folder = self._dialog_folder()
        self.input_bar = InputBar(
            dialog_mode=self._dialog_mode(), dialog_folder=str(folder) if folder else ""
        )
        root.ids.chat_zone.add_widget(
            self.chat_view, index=len(root.ids.chat_zone.children)
        )  # below the welcome
        self.context_meter = ContextMeter()
        root.ids.input_zone.add_widget(self.context_meter)  # above the message box
        root.ids.input_zone.add_widget(self.input_bar)
        self.context_watch = ContextWatch(self, self.context_meter)
        # on_copy_message / on_copy_code keep the chat view's own handlers (they copy to the clipboard).
        self.chat_view.bind(
            on_regenerate=lambda _w: self.regenerate(),
            on_edit_resend=lambda _w, index, text: self.edit_resend(index, text),
            on_switch_version=lambda _w, index, target: self.switch_version(index, target),
        )
        self.input_bar.bind(
            on_send=lambda _w, text, images: self.send(text, images), on_stop=lambda _w: self.stop_reply()
        )

    def _bind_zones(self, root: RootLayout) -> None:
        ids = root.ids
        # Before the panel's events are bound: a saved DEV mode turns the switch on, which raises on_dev_switch,
        # and the app has no root to answer it yet.
        ids.info.dev_mode = self.settings.dev_mode
        ids.conv_list.bind(
            on_select=lambda _w, slug: self.open_conversation(slug),
            on_new=lambda _w: self.new_chat(),
            on_rename=lambda _w, slug, title: self.rename(slug, title),
            on_delete=lambda _w, slug: self.delete(slug),
            on_search=lambda _w, query: self.search(query),
            on_export=lambda _w, slug, fmt: self.ask_export(slug, fmt),
            on_import=lambda _w: self.ask_import(),
        )
        ids.info.bind(
            on_reconnect=lambda _w: self.connect(),
            on_switch_host=lambda _w, host: self.switch_host(host),
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
        ids.info.bind(
            on_chat_settings=lambda *_args: self.context_watch.schedule()
        )  # num_ctx may have changed
        ids.info.host_text = self.chosen_host
        ids.info.host_hint = _("default: {host}").format(host=self.default_host)
        ids.banner.bind(on_action=lambda _w, action: self.banner_action(action))
        ids.bench.bind(
            on_back=lambda _w: self.show_screen("chat"),
            on_run=lambda _w: self.run_benchmark(),
            on_cancel_run=lambda _w: self.bench_cancel and self.bench_cancel.set(),
        )

    def on_start(self) -> None:
        log.info(
            "window %sx%s, OpenGL renderer %r, %s multisamples",
            *Window.size,
            renderer() or "unknown",
            Config.getdefault("graphics", "multisamples", "2"),
        )
        self.connect()
        self.reload_sessions(open_last=True)
        self.profiles_changed()
        self._load_dev_history()
        self.new_chat(focus=True)
        self._health = Clock.schedule_interval(lambda _dt: self._check_health(), HEALTH_INTERVAL_S)

    def profiles_changed(self) -> None:
        """The profiles folder changed (or the app starts): the panel's profiles section lists it again."""
        self.ids.info.profiles_changed()

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
        i18n.remove_listener(self._on_language)
        self.remember()
        self.controller.close()

    def _on_request_close(self, *_args: Any) -> bool:
        self.remember()
        return False

    # -- window state ---------------------------------------------------------------------------------
    @property
    def ids(self) -> Any:
        return self.root.ids

    def remember(self) -> None:
        """Save window size (the windowed one while fullscreen), panel and list state and the last conversation
        into settings.ui (config.toml)."""
        ui = dict(self.settings.ui)
        width, height = self._windowed_size or (int(Window.width), int(Window.height))
        ui.update(
            width=int(width),
            height=int(height),
            panel_open=bool(self.panel_open),
            list_open=bool(self.list_open),
            last_conversation=self.conv.slug if self.conv is not None else "",
        )
        self.settings.ui = ui
        self._save_settings("ui")

    def _save_settings(self, *keys: str) -> None:
        try:
            save_settings(self.settings, keys)
        except IAError as exc:
            self.show_problem(describe_error(exc))

    # -- language -------------------------------------------------------------------------------------
    def set_language(self, lang: str) -> None:
        """The settings' choice of interface language: "auto" (the system locale's), "en" or "fr". It applies
        at once (kv texts follow by themselves, texts set from Python are made again: status, notes, banner,
        list rows, the chat's labels) and is saved in config.toml for the next start. ValueError for another
        value."""
        choice = (lang or "auto").strip().lower()
        if choice not in ("auto", *i18n.LANGUAGES):
            raise ValueError(
                _("No interface language {value!r}: choose one of {choices}.").format(
                    value=lang, choices=", ".join(("auto", *i18n.LANGUAGES))
                )
            )
        i18n.set_language(choice)  # tells _on_language when the language changes
        if self.settings.language != choice:
            self.settings.language = choice
            self._save_settings("language")

    def _on_language(self, _lang: str) -> None:
        if self.root is not None:
            self.refresh_texts()

    def refresh_texts(self) -> None:
        """Make again, in the current language, every text this app set from Python."""
        if self.conv is None:
            self.conversation_title = _("New chat")
        self.status_text = self._status_source()
        if self._note_source is not None:
            self.ids.info.note = self._note_source()
        self.ids.info.host_hint = _("default: {host}").format(host=self.default_host)
        self.notify_text = describe_method(self.notify_method)
        self.backend_label = self._backend_label()
        if self._recommended is not None:
            self._recommended_listed(self._recommended)
        if self.controller.backend is not None and self.backend_status == "ready":
            # the models' fit verdicts and this machine's summary are sentences made when judged: judge again
            self.refresh_models()
        self.ids.conv_list.retranslate()
        self.input_bar.retranslate()
        self.context_watch.schedule()
        if self.ids.banner.shown and self._problem_source is not None:
            self.ids.banner.show(self._problem_source())
        else:
            self.ids.banner.retranslate()
        if not self.streaming:  # the chat's labels (You, Assistant, speeds); a reply in progress keeps them
            view = self.chat_view
            scroll, following = view.ids.rv.scroll_y, view.following
            self._show(self.conv)
            if not following:
                view.ids.rv.scroll_y = scroll
                view.following = False

    def _update_title(self, *_args: Any) -> None:
        Window.set_title(f"IA_V3 — {self.conversation_title}")
        self.title = f"IA_V3 — {self.conversation_title}"

    def toggle_theme(self) -> None:
        # Every kv rule that reads theme.colors is re-run: widgets already dropped but not yet collected (in a
        # reference cycle) would run theirs against a root that is gone. Collect them first.
        gc.collect()
        theme.name = "dark" if theme.name == "light" else "light"

    def _on_theme(self, *_args: Any) -> None:
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

    def on_panel_open(self, *_args: Any) -> None:
        if self.root is not None:
            self.remember()

    def on_streaming(self, _app: Any, streaming: bool) -> None:
        """A reply ended while another window has the keyboard: a desktop notification (once it is final)."""
        if not streaming and self.root is not None and not Window.focus and self.notify_method:
            Clock.schedule_once(lambda _dt: self._announce_reply(), 0)

    def _announce_reply(self) -> None:
        shown = self.chat_view.messages
        if not shown or shown[-1].role != "assistant" or shown[-1].status == "interrupted":
            return
        title, body = reply_notice(self.conversation_title, shown[-1])
        method = self.notify_method
        log.info("reply ended in the background: notified through %s", method)
        self.controller.run(lambda: send_notification(title, body, method))

    def on_list_open(self, *_args: Any) -> None:
        if self.root is not None:
            self.remember()

    def toggle_fullscreen(self) -> None:
        """F11: fill the screen, or go back to the window's previous size. The message box keeps the keyboard."""
        if not self.fullscreen:
            self._windowed_size = (int(Window.width), int(Window.height))
        self.fullscreen = not self.fullscreen
        Window.fullscreen = "auto" if self.fullscreen else False
        if not self.fullscreen:
            size, self._windowed_size = self._windowed_size, None
            if size is not None:
                self._hold_size = (size, time.monotonic() + 2.0)
                if tuple(Window.size) != size:
                    Window.size = size
        else:
            self._hold_size = None
        if self.screen == "chat":
            self.focus_input()

    def _on_window_resize(self, _window: Any, width: int, height: int) -> None:
        """A late screen-sized resize from a fullscreen just left is undone (for 2 s after leaving it)."""
        if self._hold_size is None or self.fullscreen:
            return
        size, until = self._hold_size
        if time.monotonic() > until:
            self._hold_size = None
        elif (int(width), int(height)) != size:
            Clock.schedule_once(lambda _dt: setattr(Window, "size", size), 0)

    # -- keyboard -------------------------------------------------------------------------------------
    def _on_keyboard(
        self, _window: Any, key: int, _scancode: int, _codepoint: str, modifiers: list[str]
    ) -> bool:
        ctrl = "ctrl" in modifiers or "meta" in modifiers
        shift = "shift" in modifiers
        if key == 27:  # Esc: stops a reply, else leaves fullscreen
            if self.streaming:
                self.stop_reply()
            elif self.fullscreen:
                self.toggle_fullscreen()
            return True  # never let Esc close the window (nor reach the message box, which would lose focus)
        if key == 292 and not modifiers:  # F11
            self.toggle_fullscreen()
            return True
        if not ctrl:
            return False
        char = chr(key) if 0 < key < 0x110000 else ""
        if char == "n" and not shift:
            self.new_chat()
        elif char in ("k", "f") and not shift:
            self.show_screen("chat")
            self.list_open = True  # the search box is in the list
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
        """Ctrl+Q: remember the window, then quit (App.stop; stop_reply is the one that stops a reply)."""
        self.remember()
        App.stop(self, *args)

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
            self.show_problem(
                lambda: Problem(_("There is no code block in this conversation yet."), kind="warning")
            )
            return False
        Clipboard.copy(code)
        return True

    # -- problems -------------------------------------------------------------------------------------
    def show_problem(self, problem: Problem | Callable[[], Problem]) -> None:
        """Show a problem in the banner. Given as a function that makes it, it is made again in the new
        language when the language changes (a core error's message stays in the language it was made in)."""
        self._problem_source = problem if callable(problem) else None
        shown = problem() if callable(problem) else problem
        log.warning("shown to the user: %s", shown.message)
        self.ids.banner.show(shown)

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
