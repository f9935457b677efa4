"""The chat zone: message bubbles rendered from Markdown in a RecycleView, a streaming reply at the end.

Public API (used by ui/app.py; see docs/INTERFACES.md "ui (chat zone)"):

    view = ChatView(session_dir="")                    # session_dir: where Message.images paths live
    view.show_conversation(conv)                       # core.sav_manager.Conversation; replaces the view
    view.append_message(msg)                           # core.sav_manager.Message, e.g. the user message just sent
    view.begin_reply(model, earlier=())                # adds an assistant bubble in streaming state
    view.update_reply(text, thinking)                  # accumulated text so far (StreamPump calls it)
    view.end_reply(status, stats, error)               # "complete" | "interrupted" | "error"; stats = StreamStats.to_dict()
    view.last_code_block() -> str | None               # code of the last code block of the last reply
    view.scroll_to_end(); view.following               # following: the view sticks to the end while True
    view.selected_text() -> str; view.clear_selection()   # the text selected with the mouse
    events: on_copy_message(index), on_regenerate(), on_edit_resend(index, text), on_copy_code(code),
            on_switch_version(index, target): ‹ › on a message with versions asks for version ``target``
            (from 0) of message ``index``; the app switches the conversation and shows it again
            (index = position in conv.messages; copying to the clipboard is done by the default handlers)

What to show comes from ui/chat_model.py (messages -> items, without a window); ui/chat_recycle.py applies
its changes to the RecycleView. This module adds what needs the window: sizes, the pace of a streaming
reply (shown again at a fixed cadence of LIMITS["stream_interval"] while text arrives: each update
re-renders only the block being written, so the pace holds however long the reply; the chat's CachedLayer is
live meanwhile, drawn straight into the window), scrolling, text selection with the mouse
(drag, double-click for a word; Ctrl+C copies it), links (opened in the browser) and the actions of the
bubbles' buttons.
"""

from __future__ import annotations

import os
import re
import time
import webbrowser
from collections.abc import Sequence
from typing import Any

from kivy.clock import Clock
from kivy.core.clipboard import Clipboard
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.popup import Popup
from kivy.uix.textinput import TextInput
from kivy.uix.widget import Widget

from core.conversation import Conversation, Message
from core.i18n import N_
from ui import chat_recycle, i18n, message_widgets  # noqa: F401  (classes the kv rules name; _() in them)
from ui.chat_model import SELECTABLE, ChatModel, Splice
from ui.config_ui import FONTS, LIMITS, SIZES, theme
from ui.fonts import logical_text
from ui.highlight import warm_up
from ui.layer import CachedLayer
from ui.markdown_render import markup_plain

__all__ = ["ChatView"]

Builder.load_file(os.path.join(os.path.dirname(__file__), "chat_view.kv"))

_FONT_KEY = {
    "h1": "font_h1",
    "h2": "font_h2",
    "h3": "font_h3",
    "h4": "font_h4",
    "h5": "font_h5",
    "h6": "font_h6",
}
_VIEW_ONLY = ("joined", "sep")  # model keys the widgets do not take
_WORD = re.compile(r"\w+", re.UNICODE)


class ChatView(FloatLayout):
    """Message bubbles of one conversation; follows the end while streaming unless the user scrolled up."""

    following = BooleanProperty(True)
    streaming = BooleanProperty(False)
    session_dir = StringProperty("")

    __events__ = ("on_copy_message", "on_regenerate", "on_edit_resend", "on_copy_code", "on_switch_version")

    def __init__(self, **kwargs: Any) -> None:
        self.model = ChatModel(theme.hex, theme.code_style, LIMITS)
        self._pending: tuple[str, str] | None = None
        self._next_render = 0.0  # perf_counter when the next streaming update is due (a fixed cadence)
        self._render_event: Any = None
        self._last_width = 0.0
        self._natural: dict[tuple[int, str], float] = {}
        self._selection: tuple[tuple[int, int], tuple[int, int]] | None = None  # (anchor, focus)
        self.render_count = 0  # streaming updates shown (for benchmarks and tests)
        self.render_times: list[float] = []  # perf_counter of each of them
        self._live_layer: CachedLayer | None = None  # the layer drawn live while this view streams
        super().__init__(**kwargs)
        rv = self.ids.rv
        rv.owner = self
        rv.view_adapter = chat_recycle.StickyDataAdapter()
        self.chat_data = chat_recycle.ChatData(rv, self._decorate)
        rv.fbind("scroll_y", self._on_scroll)
        self.ids.layout.fbind("height", self._on_content_height)
        rv.fbind("height", self._on_content_height)
        self._width_trigger = Clock.create_trigger(self._on_width, 0.1)
        rv.fbind("width", self._width_trigger)
        theme.fbind("name", self._on_theme)
        self.fbind("parent", self._on_parent)
        warm_up()

    # ----- public API -----------------------------------------------------------------------------------

    def show_conversation(self, conv: Conversation) -> None:
        """Replace the view with every message of `conv` and go to its end."""
        self._cancel_render()
        self._pending = None
        self.streaming = False
        self._natural.clear()
        self.model.session_dir = self.session_dir
        self._apply(self.model.load(conv.messages))
        self.following = True
        self.scroll_to_end()

    def append_message(self, message: Message) -> None:
        """Add one finished message (e.g. the user message just sent) at the end."""
        self.model.session_dir = self.session_dir
        self._apply(self.model.append(message))

    def begin_reply(self, model: str, earlier: Sequence[list[Message]] = ()) -> None:
        """Add an assistant bubble in streaming state; update_reply/end_reply fill it. ``earlier``: the versions
        a regenerated reply follows (its header shows ‹ n/n ›)."""
        self._cancel_render()
        self._pending = None
        self._next_render = 0.0
        self.render_times = []
        self._apply(self.model.begin_reply(model, earlier=earlier))
        self.streaming = True
        if self.following:
            self.scroll_to_end()

    def update_reply(self, text: str, thinking: str = "") -> None:
        """Show the reply so far (the whole accumulated text), at most every LIMITS["stream_interval"]: text
        arriving sooner is shown with the next update. Each update re-renders only the block being written
        (and the blocks that just ended), so its cost does not grow with the length of the reply."""
        if not self.streaming:
            return
        self._pending = (text, thinking)
        now = time.perf_counter()
        due = self._next_render
        if now >= due:
            self._render_pending()
        elif self._render_event is None:
            self._render_event = Clock.schedule_once(self._render_pending, due - now)

    def end_reply(
        self, status: str = "complete", stats: dict[str, Any] | None = None, error: str | None = None
    ) -> None:
        """Finish the streaming bubble: the last text shown, the status/stats/error line added."""
        if not self.streaming:
            return
        self._cancel_render()
        if self._pending is not None:
            message = self.model.messages[-1]
            message.content, message.thinking = self._pending  # rendered once, as finished, just below
            self._pending = None
        self._apply(self.model.end_reply(status, stats, error))
        self.streaming = False

    def last_code_block(self) -> str | None:
        """The code of the last code block in the last assistant message that has one (as Copy copies it)."""
        return self.model.last_code_block()

    def scroll_to_end(self, *_: Any) -> None:
        """Jump to the newest message and follow the end again."""
        self.following = True
        rv = self.ids.rv
        rv.scroll_y = 0 if self.ids.layout.height > rv.height else 1

    @property
    def messages(self) -> list[Message]:
        """The messages shown, in order (the streaming reply included)."""
        return self.model.messages

    # ----- actions from the items ----------------------------------------------------------------------

    def copy_message(self, index: int) -> None:
        self.dispatch("on_copy_message", index)

    def copy_code(self, code_key: str) -> None:
        code = self.model.code(code_key)
        if code is not None:
            self.dispatch("on_copy_code", code)

    def regenerate(self) -> None:
        if not self.streaming:
            self.dispatch("on_regenerate")

    def show_version(self, index: int, step: int) -> None:
        """‹ (step -1) or › (+1) on message ``index``: dispatches on_switch_version(index, target)."""
        messages = self.model.messages
        if self.streaming or not 0 <= index < len(messages):
            return
        msg = messages[index]
        target = msg.version + step
        if msg.versions and 0 <= target <= len(msg.versions):
            self.dispatch("on_switch_version", index, target)

    def edit_message(self, index: int) -> None:
        """Open an editor on a user message; Resend dispatches on_edit_resend(index, text)."""
        messages = self.model.messages
        if not 0 <= index < len(messages) or self.streaming:
            return
        box = BoxLayout(orientation="vertical", spacing=SIZES["bar_padding"], padding=SIZES["bar_padding"])
        editor = TextInput(text=messages[index].content, font_size=SIZES["font"])
        buttons = BoxLayout(size_hint_y=None, height=SIZES["input_min_height"], spacing=SIZES["bar_padding"])
        cancel = Button(text=i18n.tr(N_("Cancel")))
        resend = Button(text=i18n.tr(N_("Resend")))
        buttons.add_widget(cancel)
        buttons.add_widget(resend)
        box.add_widget(editor)
        box.add_widget(buttons)
        popup = Popup(title=i18n.tr(N_("Edit and resend")), content=box, size_hint=(0.8, 0.7))
        cancel.bind(on_release=popup.dismiss)

        def _resend(*_: Any) -> None:
            if editor.text.strip():
                popup.dismiss()
                self.dispatch("on_edit_resend", index, editor.text)

        resend.bind(on_release=_resend)
        popup.open()
        editor.focus = True
        self.edit_popup = popup

    def toggle_thinking(self, index: int) -> None:
        self._apply(self.model.toggle_thinking(index))

    def toggle_file(self, index: int, file_index: int) -> None:
        """Show or hide the content of a file attached to message `index`."""
        self._apply(self.model.toggle_file(index, file_index))

    def open_link(self, ref: str) -> None:
        """A link in a message was clicked: open it in the browser (web and mail links only)."""
        if ref.startswith(("http://", "https://", "mailto:")):
            webbrowser.open(ref)

    # ----- default event handlers ----------------------------------------------------------------------

    def on_copy_message(self, index: int) -> None:
        messages = self.model.messages
        if 0 <= index < len(messages):
            Clipboard.copy(messages[index].content)

    def on_regenerate(self) -> None:
        pass

    def on_edit_resend(self, index: int, text: str) -> None:
        pass

    def on_switch_version(self, index: int, target: int) -> None:
        pass

    def on_copy_code(self, code: str) -> None:
        Clipboard.copy(code)

    # ----- selecting text with the mouse ----------------------------------------------------------------

    def selection_of(self, index: int) -> list[int]:
        """[start, end] of the selected characters of item `index` (as its Label shows them), or []."""
        if self._selection is None or index >= len(self.model.items):
            return []
        (ai, ao), (bi, bo) = sorted(self._selection)
        if not ai <= index <= bi or self.model.items[index]["viewclass"] not in SELECTABLE:
            return []
        length = len(markup_plain(self.model.items[index]["markup"]))
        start = ao if index == ai else 0
        end = bo if index == bi else length
        return [start, end] if end > start else []

    def selected_text(self) -> str:
        """The selected text, as the messages say it (blocks separated by a blank line)."""
        if self._selection is None:
            return ""
        (ai, _), (bi, _) = sorted(self._selection)
        parts: list[str] = []
        previous = ai
        for index in range(ai, bi + 1):
            span = self.selection_of(index)
            if not span:
                continue
            shown = markup_plain(self.model.items[index]["markup"])
            if parts:
                parts.append(self.model.separator(previous))
            parts.append(logical_text(shown[span[0] : span[1]]))
            previous = index
        return "".join(parts)

    def clear_selection(self) -> None:
        if self._selection is not None:
            self._selection = None
            self._show_selection()

    def _show_selection(self) -> None:
        for widget in self.ids.layout.children:
            if isinstance(widget, message_widgets.ChatItem):
                widget.selection = self.selection_of(widget.index)

    def _hit(self, touch_pos: tuple[float, float]) -> tuple[int, int] | None:
        """(item index, character offset) under a touch (in this view's parent's coordinates); the nearest
        shown item when the point falls between items or outside the view (a drag that left it)."""
        pos = self.to_window(*touch_pos)
        views = [w for w in self.ids.layout.children if isinstance(w, message_widgets.ChatItem)]
        if not views:
            return None
        best = None
        for widget in views:
            x, y = widget.to_widget(*pos, relative=True)
            distance = 0.0 if 0 <= y < widget.height else min(abs(y), abs(y - widget.height))
            if best is None or distance < best[0] or (distance == best[0] and widget.index > best[1].index):
                best = (distance, widget)
        assert best is not None
        widget = best[1]
        x, y = widget.to_widget(*pos, relative=True)
        label = widget.text_label
        if label is None or widget.index >= len(self.model.items):
            return widget.index, 0
        text = widget.shown_text()
        if y >= label.top:
            return widget.index, 0
        if y < label.y:
            return widget.index, len(text)
        return widget.index, message_widgets.text_offset(label, text, x, y)

    def on_touch_down(self, touch: Any) -> bool:
        if not self.collide_point(*touch.pos):
            return super().on_touch_down(touch)
        if super().on_touch_down(touch):  # buttons, links, the scroll bar and the wheel come first
            return True
        if touch.is_mouse_scrolling or getattr(touch, "button", None) not in (None, "left"):
            return False
        hit = self._hit(touch.pos)
        if hit is None:
            self.clear_selection()
            return False
        if touch.is_double_tap and self.model.items[hit[0]]["viewclass"] in SELECTABLE:
            text = markup_plain(self.model.items[hit[0]]["markup"])
            for match in _WORD.finditer(text):
                if match.start() <= hit[1] <= match.end():
                    self._selection = ((hit[0], match.start()), (hit[0], match.end()))
                    self._show_selection()
                    return True
        self._selection = (hit, hit)
        self._show_selection()
        touch.grab(self)
        return True

    def on_touch_move(self, touch: Any) -> bool:
        if touch.grab_current is self:
            if self._selection is not None:
                hit = self._hit(touch.pos)
                if hit is not None and hit != self._selection[1]:
                    self._selection = (self._selection[0], hit)
                    self._show_selection()
                self._scroll_while_selecting(touch)
            return True
        return super().on_touch_move(touch)

    def on_touch_up(self, touch: Any) -> bool:
        if touch.grab_current is self:
            touch.ungrab(self)
            if self._selection is not None and self._selection[0] == self._selection[1]:
                self.clear_selection()  # a click, not a drag
            return True
        return super().on_touch_up(touch)

    def _scroll_while_selecting(self, touch: Any) -> None:
        """A drag past the top or bottom edge scrolls the messages under it."""
        rv = self.ids.rv
        layout = self.ids.layout
        extra = layout.height - rv.height
        if extra <= 0:
            return
        step = SIZES["font"] * 2 / extra
        if touch.y > self.top:
            rv.scroll_y = min(1.0, rv.scroll_y + step)
        elif touch.y < self.y:
            rv.scroll_y = max(0.0, rv.scroll_y - step)

    def _on_parent(self, *_: Any) -> None:
        self.on_streaming(self, self.streaming)  # a view moved while streaming: its old layer caches again
        # Ctrl+C copies the selection while the view is in the window.
        if self.parent is not None:
            Window.fbind("on_key_down", self._on_key_down)
        else:
            Window.funbind("on_key_down", self._on_key_down)

    def _on_key_down(
        self, _window: Any, key: int, _scancode: int, _codepoint: Any, modifiers: list[str]
    ) -> bool:
        """Ctrl+C (Cmd+C) copies the selected text, unless a text box with its own selection has the
        keyboard."""
        ctrl = "ctrl" in modifiers or "meta" in modifiers
        if key != ord("c") or not ctrl or "shift" in modifiers or "alt" in modifiers:
            return False
        text = self.selected_text()
        if not text:
            return False
        target = getattr(Window._system_keyboard, "target", None)
        if target is not None and getattr(target, "focus", False) and getattr(target, "selection_text", ""):
            return False
        Clipboard.copy(text)
        return True

    # ----- streaming ---------------------------------------------------------------------------------------

    def on_streaming(self, _view: Any, streaming: bool) -> None:
        """While a reply streams the chat changes at nearly every frame: its CachedLayer (ui/layer.py) draws
        it straight into the window instead of into its texture first."""
        if self._live_layer is not None:
            self._live_layer.live = False
            self._live_layer = None
        node = self.parent
        while isinstance(node, Widget) and not isinstance(node, CachedLayer):  # the window is its own parent
            node = node.parent
        if streaming and isinstance(node, CachedLayer):
            node.live = True
            self._live_layer = node

    def _cancel_render(self) -> None:
        if self._render_event is not None:
            self._render_event.cancel()
            self._render_event = None

    def _render_pending(self, *_: Any) -> None:
        self._render_event = None
        if self._pending is None or not self.streaming:
            return
        text, thinking = self._pending
        self._pending = None
        self._apply(self.model.update_reply(text, thinking))
        now = time.perf_counter()
        # A fixed cadence: the next update is due one interval after this one was, not after it was shown,
        # so a late frame does not slow the pace down (the rate stays 1/interval on a loaded machine); it is
        # never sooner than half an interval after this one, whatever the delays.
        interval = float(LIMITS["stream_interval"])
        self._next_render = max(self._next_render + interval, now + interval / 2)
        self.render_count += 1
        self.render_times.append(now)

    # ----- items -------------------------------------------------------------------------------------------

    def _apply(self, splices: list[Splice]) -> None:
        for splice in splices:
            if self._selection is not None and splice.start <= max(self._selection)[0]:
                self._selection = None  # the selected items changed
            self.chat_data.apply(splice)

    def _content_width(self, role: str) -> float:
        frac = SIZES["bubble_user_max_frac"] if role == "user" else SIZES["bubble_assistant_max_frac"]
        width = self.ids.rv.width - 2 * SIZES["chat_padding"]
        return max(100.0, width * frac - 2 * SIZES["bubble_padding"])

    def _estimate(self, item: dict[str, Any]) -> float:
        """Approximate height of an item before its Label has measured it (exact once it is shown)."""
        kind = item["viewclass"]
        if kind == "TextItem":
            size = item.get("font_size", SIZES["font"])
            char_w = size * (0.6 if item.get("font_name") == FONTS["mono"] else 0.5)
        elif kind == "CodeItem":
            size = SIZES["font_code"]
            char_w = size * 0.6
        else:
            base = {
                "HeaderItem": SIZES["header_height"],
                "ThinkingItem": SIZES["button_height"],
                "FileItem": SIZES["button_height"],
                "ImagesItem": SIZES["thumb_size"],
                "RuleItem": 12.0,
            }.get(kind, SIZES["font_small"] * 1.4)
            return base + item["pad_top"] + item["pad_bottom"] + item["gap_bottom"]
        per_line = max(1, int(self._content_width(item["role"]) / char_w))
        # markup tags inflate the count a little; good enough for an estimate
        lines = sum(1 + len(line) // per_line for line in item["markup"].split("\n"))
        extra = SIZES["code_header_height"] if item.get("show_header") else 0
        return lines * size * 1.2 + extra + item["pad_top"] + item["pad_bottom"] + item["gap_bottom"]

    def _natural_width(self, index: int, role: str) -> float:
        """Width a short user message needs, so small messages get small bubbles."""
        if role != "user":
            return 0.0
        text = self.model.messages[index].content
        key = (index, text)
        found = self._natural.get(key)
        if found is not None:
            return found
        if len(text) > 400:
            width = 0.0
        else:
            from kivy.core.text import Label as CoreLabel

            widest = 0.0
            for line in text.split("\n")[:20]:
                label = CoreLabel(text=line or " ", font_size=SIZES["font"], font_name=FONTS["text"])
                widest = max(widest, label.get_extents(line or " ")[0])
            width = max(widest + 4, 260.0)
        self._natural[key] = width
        return width

    def _decorate(self, item: dict[str, Any]) -> dict[str, Any]:
        """The dict the RecycleView shows for a model item: sizes, bubble padding, estimated height."""
        d = {k: v for k, v in item.items() if k not in _VIEW_ONLY}
        role = item["role"]
        first, last = item["bubble_first"], item["bubble_last"]
        if item["viewclass"] == "TextItem":
            style = item["style"]
            d["font_size"] = (
                SIZES["font_small"] if style == "thinking" else SIZES[_FONT_KEY.get(style, "font")]
            )
            d["font_name"] = FONTS["mono"] if style == "table" else FONTS["text"]
        d.update(
            side="right" if role == "user" else "left",
            natural_w=self._natural_width(item["msg_index"], role),
            pad_top=SIZES["bubble_padding"] * 0.6 if first else 0,
            pad_bottom=SIZES["bubble_padding"] if last else 0 if item.get("joined") else SIZES["block_gap"],
            gap_bottom=SIZES["message_gap"] if last else 0,
        )
        d["item_size"] = [0, round(self._estimate(d))]
        return d

    # ----- scrolling, resizing, theme ------------------------------------------------------------------------

    def _on_scroll(self, *_: Any) -> None:
        rv = self.ids.rv
        fits = self.ids.layout.height <= rv.height
        self.following = fits or rv.scroll_y <= LIMITS["follow_epsilon"]

    def _on_content_height(self, *_: Any) -> None:
        if self.following:
            self.scroll_to_end()

    def _on_width(self, *_: Any) -> None:
        width = self.ids.rv.width
        if abs(width - self._last_width) < 1:
            return
        self._last_width = width
        # Measured heights belong to the old width: start again from estimates for the new one.
        self.chat_data.reestimate(self._estimate)

    def _on_theme(self, *_: Any) -> None:
        self._apply(self.model.restyle(theme.hex, theme.code_style))
