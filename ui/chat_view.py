"""The chat zone: a RecycleView of message bubbles rendered from Markdown, with a streaming reply at the end.

Public API (used by ui/app.py; see docs/INTERFACES.md "ui (chat zone)"):

    view = ChatView(session_dir="")                    # session_dir: where Message.images paths live
    view.show_conversation(conv)                       # core.sav_manager.Conversation; replaces the view
    view.append_message(msg)                           # core.sav_manager.Message, e.g. the user message just sent
    view.begin_reply(model)                            # adds an assistant bubble in streaming state
    view.update_reply(text, thinking)                  # accumulated text so far (StreamPump calls it <= once a frame)
    view.end_reply(status, stats, error)               # "complete" | "interrupted" | "error"; stats = StreamStats.to_dict()
    view.last_code_block() -> str | None               # code of the last code block of the last reply
    view.scroll_to_end(); view.following               # following: the view sticks to the end while True
    events: on_copy_message(index), on_regenerate(), on_edit_resend(index, text), on_copy_code(code)
            (index = position in conv.messages; copying to the clipboard is done by the default handlers)

Each message becomes several items (header, images, thinking, one per Markdown block, status), so no Label
ever holds a whole long reply (Kivy draws a Label into one texture and shows nothing past the GPU limit).
While streaming, only the unfinished tail of the reply is parsed and re-rendered, preferably when a block
has just ended, at most every LIMITS["stream_min_interval"] and at least every stream_max_interval (see
update_reply); finished blocks keep their items (and textures), long ones cut into pieces of a few lines.
"""

from __future__ import annotations

import os
import time
import webbrowser
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.core.clipboard import Clipboard
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.floatlayout import FloatLayout
from kivy.uix.popup import Popup
from kivy.uix.textinput import TextInput
from kivy.utils import escape_markup

from core.conversation import Conversation, Message
from core.sav_manager import extract_code_blocks
from ui import message_widgets  # also registers the item classes with the Factory
from ui.config_ui import FONTS, LIMITS, SIZES, theme
from ui.highlight import highlight_markup, warm_up
from ui.markdown_render import Block, MarkdownStream, render_blocks, split_lines, split_markup

__all__ = ["ChatView"]

Builder.load_file(os.path.join(os.path.dirname(__file__), "chat_view.kv"))

_ROLE_TEXT = {"user": "You", "assistant": "Assistant", "system": "System"}
_FONT_KEY = {
    "h1": "font_h1",
    "h2": "font_h2",
    "h3": "font_h3",
    "h4": "font_h4",
    "h5": "font_h5",
    "h6": "font_h6",
}


@dataclass
class _MessageState:
    """What the view keeps per message: the record, its current items, and streaming progress."""

    message: Message
    items: list[dict[str, Any]] = field(default_factory=list)
    expanded: bool = False
    content_items: list[dict[str, Any]] | None = None  # cached items of the finished content
    stream: MarkdownStream | None = None
    final_items: list[dict[str, Any]] = field(default_factory=list)  # items of the tail that became final
    final_codes: int = 0
    decorated: dict[int, tuple[Any, tuple[Any, ...], dict[str, Any]]] = field(default_factory=dict)
    natural_w: float | None = None


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Items equal apart from their measured size."""
    if a.keys() != b.keys():
        return False
    return all(a[k] is b[k] or a[k] == b[k] for k in a if k != "item_size")


class ChatView(FloatLayout):
    """Message bubbles of one conversation; follows the end while streaming unless the user scrolled up."""

    following = BooleanProperty(True)
    streaming = BooleanProperty(False)
    session_dir = StringProperty("")

    __events__ = ("on_copy_message", "on_regenerate", "on_edit_resend", "on_copy_code")

    def __init__(self, **kwargs: Any) -> None:
        self._states: list[_MessageState] = []
        self._codes: dict[str, str] = {}
        self._pending: tuple[str, str] | None = None
        self._last_render = 0.0  # perf_counter of the last streaming re-render
        self._not_before = 0.0
        self._render_cpu = 0.0  # thread_time at the start of the last streaming re-render
        self._rendered_chars = 0
        self._rendered_len = 0  # characters of the reply text at the last re-render
        self._render_due = 0.0
        self._render_event: Any = None
        self._last_width = 0.0
        self.render_count = 0  # stream re-renders done (for benchmarks and tests)
        super().__init__(**kwargs)
        rv = self.ids.rv
        rv.owner = self
        rv.view_adapter = message_widgets.StickyDataAdapter()
        rv.fbind("scroll_y", self._on_scroll)
        self.ids.layout.fbind("height", self._on_content_height)
        rv.fbind("height", self._on_content_height)
        self._width_trigger = Clock.create_trigger(self._on_width, 0.1)
        rv.fbind("width", self._width_trigger)
        theme.fbind("name", self._on_theme)
        warm_up()

    # ----- public API -----------------------------------------------------------------------------------

    def show_conversation(self, conv: Conversation) -> None:
        """Replace the view with every message of `conv` and go to its end."""
        self._cancel_render()
        self.streaming = False
        self._codes.clear()
        self._states = [_MessageState(message=m) for m in conv.messages]
        self._rebuild_all()
        self.following = True
        self.scroll_to_end()

    def append_message(self, message: Message) -> None:
        """Add one finished message (e.g. the user message just sent) at the end."""
        self._states.append(_MessageState(message=message))
        self._refresh_actions()
        self._set_items(len(self._states) - 1)

    def begin_reply(self, model: str) -> None:
        """Add an assistant bubble in streaming state; update_reply/end_reply fill it."""
        self._cancel_render()
        msg = Message(
            role="assistant", content="", created=datetime.now(UTC), model=model, status="streaming"
        )
        self._states.append(_MessageState(message=msg, stream=MarkdownStream(theme.hex)))
        self._rendered_chars = 0
        self._rendered_len = 0
        self._last_render = 0.0
        self.streaming = True
        self._refresh_actions()
        self._set_items(len(self._states) - 1)
        if self.following:
            self.scroll_to_end()

    def update_reply(self, text: str, thinking: str = "") -> None:
        """Show the reply so far (whole accumulated text); re-renders at a bounded rate.

        A re-render happens stream_min_interval after the last one once a block ended (a blank line arrived)
        or LIMITS["stream_chars_per_render"] new characters arrived, else stream_max_interval after the last
        one. Re-rendering when a block ends draws each finished block once, with the new block just started,
        rather than a nearly whole paragraph and then the same paragraph again; each re-render costs about a
        frame's layout and drawing, so the cadence bounds the work done while streaming to near that of
        rendering the reply once (bench/ui_stream.py), and slow models still update a few times a second.
        """
        if not self.streaming:
            return
        self._pending = (text, thinking)
        grown = len(text) + len(thinking) - self._rendered_chars
        block_ended = "\n\n" in text[max(0, self._rendered_len - 1) :]
        wait = (
            LIMITS["stream_min_interval"]
            if block_ended or grown >= LIMITS["stream_chars_per_render"]
            else LIMITS["stream_max_interval"]
        )
        due = max(self._last_render + wait, self._not_before)
        now = time.perf_counter()
        if now >= due:
            self._render_pending()
            return
        if self._render_event is not None and self._render_due <= due:
            return
        self._cancel_render()
        self._render_due = due
        self._render_event = Clock.schedule_once(self._render_pending, due - now)

    def end_reply(
        self, status: str = "complete", stats: dict[str, Any] | None = None, error: str | None = None
    ) -> None:
        """Finish the streaming bubble: final text rendered in full, status/stats/error line shown."""
        if not self.streaming or not self._states:
            return
        self._cancel_render()
        state = self._states[-1]
        if self._pending is not None:
            state.message.content, state.message.thinking = self._pending
            self._pending = None
        state.message.status = status
        state.message.stats = stats
        state.message.error = error
        if state.stream is not None:
            # Finish incrementally: the blocks already final stay as they are (same dicts, same textures);
            # only the tail is rendered once more, as finished. Re-rendering a long reply whole here
            # would freeze the window for a moment at the end of every long answer.
            new_final, tail = state.stream.update(state.message.content)
            if new_final:
                items, state.final_codes = self._blocks_items(
                    len(self._states) - 1, new_final, state.final_codes, streamed=True
                )
                state.final_items.extend(items)
            tail_items, _ = self._blocks_items(len(self._states) - 1, tail, state.final_codes, streamed=True)
            state.content_items = state.final_items + tail_items
        else:
            state.content_items = None
        state.stream = None
        state.final_items = []
        self.streaming = False
        self._refresh_actions()
        self._set_items(len(self._states) - 1)

    def last_code_block(self) -> str | None:
        """The code of the last code block in the last assistant message that has one (as Copy copies it)."""
        for state in reversed(self._states):
            if state.message.role == "assistant":
                blocks = extract_code_blocks(state.message.content)
                if blocks:
                    return blocks[-1].code.rstrip("\n")
        return None

    def scroll_to_end(self, *_: Any) -> None:
        """Jump to the newest message and follow the end again."""
        self.following = True
        rv = self.ids.rv
        if self.ids.layout.height > rv.height:
            rv.scroll_y = 0
        else:
            rv.scroll_y = 1

    @property
    def messages(self) -> list[Message]:
        """The messages shown, in order (the streaming reply included)."""
        return [s.message for s in self._states]

    # ----- actions from the items ----------------------------------------------------------------------

    def copy_message(self, index: int) -> None:
        self.dispatch("on_copy_message", index)

    def copy_code(self, code_key: str) -> None:
        code = self._codes.get(code_key)
        if code is not None:
            self.dispatch("on_copy_code", code)

    def regenerate(self) -> None:
        if not self.streaming:
            self.dispatch("on_regenerate")

    def edit_message(self, index: int) -> None:
        """Open an editor on a user message; Resend dispatches on_edit_resend(index, text)."""
        if not 0 <= index < len(self._states) or self.streaming:
            return
        box = BoxLayout(orientation="vertical", spacing=SIZES["bar_padding"], padding=SIZES["bar_padding"])
        editor = TextInput(text=self._states[index].message.content, font_size=SIZES["font"])
        buttons = BoxLayout(size_hint_y=None, height=SIZES["input_min_height"], spacing=SIZES["bar_padding"])
        cancel = Button(text="Cancel")
        resend = Button(text="Resend")
        buttons.add_widget(cancel)
        buttons.add_widget(resend)
        box.add_widget(editor)
        box.add_widget(buttons)
        popup = Popup(title="Edit and resend", content=box, size_hint=(0.8, 0.7))
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
        if 0 <= index < len(self._states):
            self._states[index].expanded = not self._states[index].expanded
            self._set_items(index)

    def open_link(self, ref: str) -> None:
        if ref.startswith(("http://", "https://", "mailto:")):
            webbrowser.open(ref)

    # ----- default event handlers ----------------------------------------------------------------------

    def on_copy_message(self, index: int) -> None:
        if 0 <= index < len(self._states):
            Clipboard.copy(self._states[index].message.content)

    def on_regenerate(self) -> None:
        pass

    def on_edit_resend(self, index: int, text: str) -> None:
        pass

    def on_copy_code(self, code: str) -> None:
        Clipboard.copy(code)

    # ----- streaming ---------------------------------------------------------------------------------------

    def _cancel_render(self) -> None:
        if self._render_event is not None:
            self._render_event.cancel()
            self._render_event = None

    def _render_pending(self, *_: Any) -> None:
        self._cancel_render()  # a render now makes a scheduled one pointless
        if self._pending is None or not self.streaming:
            return
        now = time.perf_counter()
        if now < self._not_before:  # the cost of the last re-render became known after this was scheduled
            self._render_due = self._not_before
            self._render_event = Clock.schedule_once(self._render_pending, self._not_before - now)
            return
        self._render_cpu = time.thread_time()
        state = self._states[-1]
        state.message.content, state.message.thinking = self._pending
        self._rendered_chars = len(state.message.content) + len(state.message.thinking)
        self._rendered_len = len(state.message.content)
        self._pending = None
        self._set_items(len(self._states) - 1)
        self.render_count += 1
        self._last_render = time.perf_counter()
        self._not_before = self._last_render
        Clock.schedule_once(self._render_measured, 0)  # runs next frame: after this one's layout and drawing

    def _render_measured(self, *_: Any) -> None:
        """Never spend more than a small share of the main thread on re-rendering a streaming reply.

        The cost counted is the main thread's CPU time from the re-render to the next frame (parsing, items,
        Label textures, layout, drawing), so the cadence adapts: a fast machine re-renders more often.
        """
        cost = time.thread_time() - self._render_cpu
        self._not_before = self._last_render + LIMITS["stream_cost_factor"] * cost

    # ----- items -------------------------------------------------------------------------------------------

    def _content_width(self, role: str) -> float:
        frac = SIZES["bubble_user_max_frac"] if role == "user" else SIZES["bubble_assistant_max_frac"]
        width = self.ids.rv.width - 2 * SIZES["chat_padding"]
        return max(100.0, width * frac - 2 * SIZES["bubble_padding"])

    def _estimate(self, item: dict[str, Any], width: float) -> float:
        """Approximate height of an item before its Label has measured it (exact once it is shown)."""
        kind = item["viewclass"]
        if kind == "TextItem":
            size = item.get("font_size", SIZES["font"])
            text = item["markup"]
            char_w = size * (0.6 if item.get("font_name") == FONTS["mono"] else 0.5)
        elif kind == "CodeItem":
            size = SIZES["font_code"]
            text = item["markup"]
            char_w = size * 0.6
        else:
            return {
                "HeaderItem": SIZES["header_height"],
                "ThinkingItem": SIZES["button_height"],
                "ImagesItem": SIZES["thumb_size"],
                "RuleItem": 12.0,
            }.get(kind, SIZES["font_small"] * 1.4)
        per_line = max(1, int(width / char_w))
        # markup tags inflate the count a little; good enough for an estimate
        lines = sum(1 + len(line) // per_line for line in text.split("\n"))
        extra = SIZES["code_header_height"] if item.get("show_header") else 0
        return lines * size * 1.2 + extra

    def _text_items(self, block: Block) -> list[dict[str, Any]]:
        if block.kind == "rule":
            return [{"viewclass": "RuleItem"}]
        style = "table" if block.kind == "table" else block.style
        font_size = SIZES[_FONT_KEY.get(style, "font")]
        font_name = FONTS["mono"] if style == "table" else FONTS["text"]
        markup = block.markup
        if style in _FONT_KEY:
            markup = f"[b]{markup}[/b]"
        pieces = split_markup(markup, int(LIMITS["chunk_chars"]), int(LIMITS["chunk_lines"]))
        return [
            {
                "viewclass": "TextItem",
                "markup": piece,
                "style": style,
                "font_size": font_size,
                "font_name": font_name,
                "joined": i < len(pieces) - 1,
            }
            for i, piece in enumerate(pieces)
        ]

    def _code_items(
        self, block: Block, key: str, growing: bool = False, streamed: bool = False
    ) -> list[dict[str, Any]]:
        self._codes[key] = block.code
        # A block of a streamed reply is cut into short pieces so each update re-draws only a few lines; it
        # keeps them once finished, so its finished pieces (same markup) are never drawn again.
        lines = int(LIMITS["stream_code_lines" if growing or streamed else "chunk_lines"])
        pieces = split_lines(block.code, int(LIMITS["chunk_chars"]), lines)
        style = theme.code_style
        markups = [highlight_markup(piece, block.lang, style) for piece in pieces[:-1]]
        markups.append("" if growing else highlight_markup(pieces[-1], block.lang, style))
        if growing:
            # The piece still growing: each complete line highlighted on its own (cached), the line being
            # received as plain text; lexing the whole piece at every update would cost O(lines^2).
            # Once the block is finished its last piece is highlighted as a whole.
            *lines, partial = pieces[-1].split("\n")
            markups[-1] = "".join(highlight_markup(f"{line}\n", block.lang, style) for line in lines)
            markups[-1] += escape_markup(partial)
        return [
            {
                "viewclass": "CodeItem",
                "markup": markups[i],
                "lang": block.lang,
                "code_key": key,
                "show_header": i == 0,
                "code_first": i == 0,
                "code_last": i == len(pieces) - 1,
                "copied": False,
                "joined": i < len(pieces) - 1,
            }
            for i, piece in enumerate(pieces)
        ]

    def _blocks_items(
        self, index: int, blocks: list[Block], first_code: int, growing: bool = False, streamed: bool = False
    ) -> tuple[list[dict[str, Any]], int]:
        """Items of `blocks` (code blocks numbered from first_code + 1); growing: the last block is the
        unfinished tail of a streaming reply; streamed: the blocks belong to a streamed reply."""
        items: list[dict[str, Any]] = []
        n = first_code
        for i, block in enumerate(blocks):
            if block.kind == "code":
                n += 1
                last_growing = growing and i == len(blocks) - 1
                items.extend(self._code_items(block, f"{index}:{n}", last_growing, streamed or growing))
            else:
                items.extend(self._text_items(block))
        return items, n

    def _content(self, index: int, state: _MessageState) -> list[dict[str, Any]]:
        msg = state.message
        if state.stream is not None:  # streaming: final part cached, tail re-rendered
            new_final, tail = state.stream.update(msg.content)
            if new_final:
                items, state.final_codes = self._blocks_items(
                    index, new_final, state.final_codes, streamed=True
                )
                state.final_items.extend(items)
            tail_items, _ = self._blocks_items(index, tail, state.final_codes, growing=True)
            return state.final_items + tail_items
        if state.content_items is None:
            if msg.role == "user":  # what the user typed is shown as typed, not as Markdown
                blocks = [Block("text", markup=escape_markup(msg.content))] if msg.content else []
            else:
                blocks = render_blocks(msg.content, theme.hex)
            state.content_items, _ = self._blocks_items(index, blocks, 0)
        return state.content_items

    def _status_markup(self, msg: Message) -> str:
        h = theme.hex
        parts: list[str] = []
        if msg.status == "interrupted":
            parts.append(f"[color={h['warning']}]Interrupted[/color]")
        elif msg.status == "error":
            parts.append(f"[color={h['danger']}]Error[/color]")
        stats = msg.stats or {}
        tps = stats.get("gen_tps")
        if tps is None and stats.get("eval_count") and stats.get("eval_duration_ns"):
            tps = stats["eval_count"] / (stats["eval_duration_ns"] / 1e9)
        if tps:
            parts.append(f"{tps:.1f} tok/s")
        elif stats.get("counts_from") == "":
            parts.append("tok/s not reported")
        if stats.get("eval_count"):
            parts.append(f"{stats['eval_count']} tokens")
        if stats.get("ttft_s") is not None:
            parts.append(f"first token {stats['ttft_s']:.2f} s")
        if stats.get("total_s") is not None:
            parts.append(f"{stats['total_s']:.1f} s")
        line = "  ·  ".join(parts)
        if msg.error:
            line += ("\n" if line else "") + f"[color={h['danger']}]{escape_markup(msg.error)}[/color]"
        return line

    def _message_items(self, index: int, state: _MessageState) -> list[dict[str, Any]]:
        msg = state.message
        role = msg.role if msg.role in _ROLE_TEXT else "assistant"
        local = msg.created.astimezone() if msg.created.tzinfo else msg.created
        meta = local.strftime("%H:%M")
        if msg.model and role == "assistant":
            meta += f"  ·  {msg.model}"
        if msg.status == "streaming":
            meta += "  ·  generating…"
        last_assistant = index == len(self._states) - 1 and role == "assistant"
        items: list[dict[str, Any]] = [
            {
                "viewclass": "HeaderItem",
                "role_text": _ROLE_TEXT[role],
                "meta_text": meta,
                "can_edit": role == "user",
                "can_regenerate": last_assistant and msg.status != "streaming",
            }
        ]
        if msg.images:
            base = Path(self.session_dir) if self.session_dir else None
            sources = [str(base / p) if base and not Path(p).is_absolute() else str(p) for p in msg.images]
            items.append({"viewclass": "ImagesItem", "sources": sources})
        if msg.thinking:
            title = f"Thinking ({len(msg.thinking):,} characters)"
            items.append({"viewclass": "ThinkingItem", "title": title, "expanded": state.expanded})
            if state.expanded:
                for piece in split_markup(
                    escape_markup(msg.thinking), int(LIMITS["chunk_chars"]), int(LIMITS["chunk_lines"])
                ):
                    items.append(
                        {
                            "viewclass": "TextItem",
                            "markup": piece,
                            "style": "thinking",
                            "font_size": SIZES["font_small"],
                            "font_name": FONTS["text"],
                        }
                    )
        items.extend(self._content(index, state))
        # No status line while streaming ("generating…" is in the header), so new blocks are appended at
        # the very end of the data, which the RecycleView handles without rebuilding its whole layout.
        if (
            role == "assistant"
            and msg.status != "streaming"
            and (msg.status != "complete" or msg.stats or msg.error)
        ):
            items.append({"viewclass": "StatusItem", "markup": self._status_markup(msg)})
        return self._decorate(index, state, items)

    def _decorate(
        self, index: int, state: _MessageState, items: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Give every item its bubble position, padding and estimated height.

        Copies, so cached content items stay clean; an unchanged item gets back the very dict it had, so
        streaming only re-decorates the tail (and the RecycleView keeps that dict's measured height).
        """
        msg = state.message
        role = msg.role if msg.role in _ROLE_TEXT else "assistant"
        if state.natural_w is None:
            state.natural_w = self._natural_width(msg.content) if role == "user" else 0.0
        width = self._content_width(role)
        memo = state.decorated
        new_memo: dict[int, tuple[Any, tuple[Any, ...], dict[str, Any]]] = {}
        out: list[dict[str, Any]] = []
        last = len(items) - 1
        for i, item in enumerate(items):
            params = (index, role, state.natural_w, i == 0, i == last)
            hit = memo.get(id(item))
            if hit is not None and hit[0] is item and hit[1] == params:
                d = hit[2]
            else:
                d = dict(item)
                joined = d.pop("joined", False)  # the next item continues this block: no gap between them
                d.update(
                    msg_index=index,
                    role=role,
                    side="right" if role == "user" else "left",
                    natural_w=state.natural_w,
                    bubble_first=i == 0,
                    bubble_last=i == last,
                    pad_top=SIZES["bubble_padding"] * 0.6 if i == 0 else 0,
                    pad_bottom=SIZES["bubble_padding"] if i == last else 0 if joined else SIZES["block_gap"],
                    gap_bottom=SIZES["message_gap"] if i == last else 0,
                )
                h = self._estimate(d, width) + d["pad_top"] + d["pad_bottom"] + d["gap_bottom"]
                d["item_size"] = [0, round(h)]
            new_memo[id(item)] = (item, params, d)
            out.append(d)
        state.decorated = new_memo
        return out

    def _natural_width(self, text: str) -> float:
        """Width a short user message needs, so small messages get small bubbles."""
        if len(text) > 400:
            return 0.0
        from kivy.core.text import Label as CoreLabel

        widest = 0.0
        for line in text.split("\n")[:20]:
            label = CoreLabel(text=line or " ", font_size=SIZES["font"], font_name=FONTS["text"])
            widest = max(widest, label.get_extents(line or " ")[0])
        return max(widest + 4, 260.0)

    def _start_of(self, index: int) -> int:
        return sum(len(s.items) for s in self._states[:index])

    def _set_items(self, index: int) -> None:
        """Recompute one message's items and replace only the changed ones in the RecycleView data."""
        state = self._states[index]
        old = state.items
        new = self._message_items(index, state)
        kept: dict[int, dict[str, Any]] = {}
        k = 0
        while k < len(old) and k < len(new) and (old[k] is new[k] or _same(old[k], new[k])):
            if new[k] is not old[k]:
                kept[id(new[k])] = old[k]
                new[k] = old[k]  # keep the dict the RecycleView has (with the measured height)
            k += 1
        # also keep equal items after a change at the same position (e.g. only the status line changed)
        for j in range(k, min(len(old), len(new))):
            if old[j] is not new[j] and _same(old[j], new[j]):
                kept[id(new[j])] = old[j]
                new[j] = old[j]
        if kept:  # the decoration cache must hand out the kept dicts next time
            for key, (src, params, d) in list(state.decorated.items()):
                if id(d) in kept:
                    state.decorated[key] = (src, params, kept[id(d)])
        state.items = new
        if k == len(old) == len(new):
            return
        start = self._start_of(index)
        rv = self.ids.rv
        data = rv.data
        at_end = start + len(old) == len(data)
        if (len(old) == len(new) or (at_end and len(new) > len(old))) and all(
            new[j] is old[j] or new[j]["viewclass"] == old[j]["viewclass"] for j in range(k, len(old))
        ):
            # Same items with new content (a streaming tail), maybe more items at the end: swap the dicts
            # without a data event, which would make the RecycleView rebuild its whole layout, refresh the
            # widgets that show them (one whose height changes re-lays out the view itself), and append
            # the new items.
            if len(new) > len(old):
                data.extend(new[len(old) :])
            for j in range(k, len(old)):
                if new[j] is old[j]:
                    continue
                list.__setitem__(data, start + j, new[j])
                view = rv.view_adapter.get_visible_view(start + j) if rv.view_adapter else None
                if view is not None:
                    view.refresh_view_attrs(rv, start + j, new[j])
                    if view.content_height > 0:
                        view._update_height()  # keep the measured height in the new dict
            return
        if not old and start == len(data):
            data.extend(new)
            return
        if k == len(old) and k > 0:
            # Kivy's RecycleView misreads an assignment to an empty slice (an insertion) as "nothing
            # changed"; include the previous item so the slice is never empty.
            k -= 1
        data[start + k : start + len(old)] = new[k:]

    def _rebuild_all(self) -> None:
        for state in self._states:
            state.content_items = None
            state.items = []
        data: list[dict[str, Any]] = []
        for i, state in enumerate(self._states):
            state.items = self._message_items(i, state)
            data.extend(state.items)
        self.ids.rv.data = data

    def _refresh_actions(self) -> None:
        """Only the last reply offers Regenerate: update the previous last one."""
        for i in range(len(self._states) - 2, -1, -1):
            state = self._states[i]
            if state.items and state.items[0].get("can_regenerate"):
                self._set_items(i)
            if state.message.role == "assistant":
                break

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
        for state in self._states:
            width = self._content_width(state.message.role)
            for item in state.items:
                pads = item["pad_top"] + item["pad_bottom"] + item["gap_bottom"]
                item["item_size"] = [0, round(self._estimate(item, width) + pads)]
        self.ids.rv.refresh_from_data()

    def _on_theme(self, *_: Any) -> None:
        for state in self._states:
            state.content_items = None
            if state.stream is not None:
                state.stream = MarkdownStream(theme.hex)
                state.final_items = []
                state.final_codes = 0
        self._rebuild_all()
