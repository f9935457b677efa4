"""The chat zone's model: messages turned into the items the chat view shows, without a widget or a window.

One message becomes several items: a header, its images, the thinking toggle (and text when expanded), one
or more items per Markdown block, and a status line. No Label ever holds a whole long reply (Kivy draws a
Label into one texture and shows nothing past the GPU's texture size): long text blocks are cut into
pieces of LIMITS["chunk_chars"] characters / ["chunk_lines"] lines, code blocks into pieces of
["chunk_lines"] lines (["stream_code_lines"] in a streamed reply, so each update redraws a few lines).

While a reply streams, only its unfinished tail is parsed and rendered again (MarkdownStream): the blocks
that ended keep their items, the very same dict objects, and every change is reported as a Splice of the
flat item list starting at the first item that differs. A streaming update therefore touches only the
items of the block being written (and of the blocks that just ended), whatever the length of the reply.

    model = ChatModel(palette=theme.hex, code_style="friendly", limits=LIMITS, session_dir="sav/x")
    model.load(messages) / append(message) / begin_reply(model_name) -> list[Splice]
    model.update_reply(text, thinking="") -> list[Splice]    # the accumulated reply so far
    model.end_reply(status, stats, error) -> list[Splice]
    model.toggle_thinking(index) / toggle_file(index, n) / restyle(palette, code_style) -> list[Splice]
    model.items                       # every item, in order: the splices applied, in order, to a list
    model.messages, model.streaming, model.code(key), model.last_code_block()
    model.item_text(i) -> str         # the plain text item i shows (what a selection copies)
    model.separator(i) -> str         # what joins item i's text to the next item's ("\\n\\n" between blocks)

A user message is shown as typed, except the text files attached to it (core.attachments): each is a FileItem,
"notes.py · 42 lines", collapsed; toggle_file shows its content below it as code items.

Every item is a dict with "viewclass" (HeaderItem, ImagesItem, ThinkingItem, TextItem, CodeItem, FileItem,
RuleItem, StatusItem), "msg_index", "role", "bubble_first"/"bubble_last" (the item opens/closes its message's
bubble), "joined" (the next item continues the same block, no gap between them) and the fields of its
class: HeaderItem role_text, meta_text, can_edit, can_regenerate, version_text ("2/3", "" for a message with
one version), can_prev, can_next; ImagesItem sources; ThinkingItem title,
expanded; FileItem title (markup), file_index, expanded; TextItem markup, style (p, h1-h6, list, quote, table, thinking); CodeItem markup, lang, code_key,
show_header, code_first, code_last, copied; StatusItem markup. Items are never edited once made: a change
makes a new dict. Sizes in pixels are the view's business (ui/chat_view.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core import i18n
from core.attachments import Attachment, split_attachments
from core.conversation import Message
from core.i18n import N_
from core.sav_manager import extract_code_blocks
from ui.fonts import logical_text, markup_text
from ui.highlight import highlight_markup
from ui.markdown_render import Block, MarkdownStream, markup_plain, render_blocks, split_lines, split_markup

__all__ = ["ChatModel", "Splice"]  # i18n: names of this module

_ROLE_TEXT = {"user": N_("You"), "assistant": N_("Assistant"), "system": N_("System")}
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
SELECTABLE = ("TextItem", "CodeItem", "StatusItem")


@dataclass
class Splice:
    """items[start:start + removed] = new. Items of `new` that did not change are the very objects the list
    held before, so a view can skip them with an identity test."""

    start: int
    removed: int
    new: list[dict[str, Any]]


@dataclass
class _Msg:
    """What the model keeps per message: the record, its current items and the streaming progress."""

    message: Message
    items: list[dict[str, Any]] = field(default_factory=list)
    expanded: bool = False
    files_open: set[int] = field(default_factory=set)  # attached files shown expanded (by their index)
    content: list[dict[str, Any]] | None = None  # content items of a finished message (cached)
    stream: MarkdownStream | None = None
    final: list[dict[str, Any]] = field(default_factory=list)  # items of the blocks that ended, placed
    final_codes: int = 0


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return a is b or a == b


class ChatModel:
    """The items of one conversation, and the splices that keep a view of them up to date."""

    def __init__(
        self,
        palette: Mapping[str, str],
        code_style: str,
        limits: Mapping[str, float],
        session_dir: str = "",
    ) -> None:
        self.palette = palette
        self.code_style = code_style
        self.limits = limits
        self.session_dir = session_dir
        self.items: list[dict[str, Any]] = []
        self._msgs: list[_Msg] = []
        self._codes: dict[str, str] = {}

    # ----- reading ------------------------------------------------------------------------------------------

    @property
    def messages(self) -> list[Message]:
        """The messages shown, in order (the streaming reply included)."""
        return [m.message for m in self._msgs]

    @property
    def streaming(self) -> bool:
        return bool(self._msgs) and self._msgs[-1].stream is not None

    def code(self, key: str) -> str | None:
        """The whole code of the code block whose items carry this code_key (what Copy copies)."""
        return self._codes.get(key)

    def last_code_block(self) -> str | None:
        """The code of the last code block in the last assistant message that has one."""
        for m in reversed(self._msgs):
            if m.message.role == "assistant":
                blocks = extract_code_blocks(m.message.content)
                if blocks:
                    return blocks[-1].code.rstrip("\n")
        return None

    def item_text(self, index: int) -> str:
        """The plain text item `index` shows ("" for items without text)."""
        item = self.items[index]
        if item["viewclass"] not in SELECTABLE:
            return ""
        return logical_text(markup_plain(item["markup"]))

    def separator(self, index: int) -> str:
        """What joins the text of item `index` to the next item's: the character a long block was cut at,
        else a blank line between blocks."""
        item = self.items[index]
        return item.get("sep", "\n\n") if item.get("joined") else "\n\n"

    # ----- changes --------------------------------------------------------------------------------------------

    def load(self, messages: Sequence[Message]) -> list[Splice]:
        """Show these messages (finished ones) instead of whatever was shown."""
        self._codes.clear()
        self._msgs = [_Msg(message=m) for m in messages]
        new: list[dict[str, Any]] = []
        for i, m in enumerate(self._msgs):
            m.items = self._build(i, m)
            new.extend(m.items)
        return [self._apply(Splice(0, len(self.items), new))]

    def append(self, message: Message) -> list[Splice]:
        """Add a finished message (e.g. the user message just sent) at the end."""
        self._msgs.append(_Msg(message=message))
        return self._refresh_actions() + self._refresh(len(self._msgs) - 1)

    def begin_reply(
        self, model: str, created: Any = None, earlier: Sequence[list[Message]] = ()
    ) -> list[Splice]:
        """Add an assistant reply in streaming state; update_reply/end_reply fill it. ``earlier``: the versions
        a regenerated reply comes after (its header shows ‹ n/n ›)."""
        from datetime import UTC, datetime

        message = Message(
            role="assistant",
            content="",
            created=created or datetime.now(UTC),
            model=model,
            status="streaming",
            version=len(earlier),
            versions=list(earlier),
        )
        self._msgs.append(_Msg(message=message, stream=MarkdownStream(self.palette)))
        return self._refresh_actions() + self._refresh(len(self._msgs) - 1)

    def update_reply(self, text: str, thinking: str = "") -> list[Splice]:
        """The reply so far (the whole accumulated text): only the items from the tail block on change."""
        if not self.streaming:
            return []
        message = self._msgs[-1].message
        if text == message.content and thinking == message.thinking:
            return []
        message.content, message.thinking = text, thinking
        return self._refresh(len(self._msgs) - 1)

    def end_reply(
        self, status: str = "complete", stats: dict[str, Any] | None = None, error: str | None = None
    ) -> list[Splice]:
        """Finish the streaming reply: its tail rendered as finished, the status line added. The blocks that
        ended while streaming keep their items (code pieces stay short)."""
        if not self.streaming:
            return []
        m = self._msgs[-1]
        m.message.status, m.message.stats, m.message.error = status, stats, error
        assert m.stream is not None
        new_final, tail = m.stream.update(m.message.content)
        i = len(self._msgs) - 1
        content = list(m.final)
        if new_final:
            made, m.final_codes = self._blocks_items(i, new_final, m.final_codes, streamed=True)
            content.extend(made)
        made, _ = self._blocks_items(i, tail, m.final_codes, streamed=True)
        content.extend(made)
        m.content = content
        m.stream = None
        m.final = []
        return self._refresh(i)

    def toggle_thinking(self, index: int) -> list[Splice]:
        if not 0 <= index < len(self._msgs):
            return []
        self._msgs[index].expanded = not self._msgs[index].expanded
        return self._refresh(index)

    def toggle_file(self, index: int, file_index: int) -> list[Splice]:
        """Show or hide the content of the attached file `file_index` of message `index`."""
        if not 0 <= index < len(self._msgs):
            return []
        m = self._msgs[index]
        m.files_open ^= {file_index}
        m.content = None
        return self._refresh(index)

    def restyle(self, palette: Mapping[str, str], code_style: str) -> list[Splice]:
        """Colors changed (theme switch): every item made again; a streaming reply is re-parsed."""
        self.palette, self.code_style = palette, code_style
        for m in self._msgs:
            m.content = None
            if m.stream is not None:
                m.stream = MarkdownStream(palette)
                m.final = []
                m.final_codes = 0
        return self.load_current()

    def load_current(self) -> list[Splice]:
        """Every item made again from the current messages (keeping a streaming reply streaming)."""
        self._codes.clear()
        new: list[dict[str, Any]] = []
        for i, m in enumerate(self._msgs):
            m.items = self._build(i, m)
            new.extend(m.items)
        return [self._apply(Splice(0, len(self.items), new))]

    # ----- internals ------------------------------------------------------------------------------------

    def _start(self, index: int) -> int:
        return sum(len(m.items) for m in self._msgs[:index])

    def _apply(self, splice: Splice) -> Splice:
        self.items[splice.start : splice.start + splice.removed] = splice.new
        return splice

    def _refresh_actions(self) -> list[Splice]:
        """Only the last reply offers Regenerate: update the previous last one."""
        splices: list[Splice] = []
        for i in range(len(self._msgs) - 2, -1, -1):
            m = self._msgs[i]
            if m.items and m.items[0].get("can_regenerate"):
                splices.extend(self._refresh(i))
            if m.message.role == "assistant":
                break
        return splices

    def _refresh(self, index: int) -> list[Splice]:
        """Make message `index`'s items again and report what changed as one splice (none if nothing)."""
        m = self._msgs[index]
        old = m.items
        new, hint = self._build_with_hint(index, m)
        k = min(hint, len(old), len(new))
        new[:k] = old[:k]  # known to be equal: keep the objects the view has
        # Items equal to the old ones are the old objects: the view keeps their widgets and textures.
        first = None
        for j in range(k, min(len(old), len(new))):
            if new[j] is old[j]:
                continue
            if _same(new[j], old[j]):
                new[j] = old[j]
            elif first is None:
                first = j
        if first is None:
            first = min(len(old), len(new))
            if len(old) == len(new):
                m.items = new
                return []
        m.items = new
        return [self._apply(Splice(self._start(index) + first, len(old) - first, new[first:]))]

    def _build(self, index: int, m: _Msg) -> list[dict[str, Any]]:
        return self._build_with_hint(index, m)[0]

    def _build_with_hint(self, index: int, m: _Msg) -> tuple[list[dict[str, Any]], int]:
        """The message's items, and the position before which they are known to be the old ones."""
        msg = m.message
        role = msg.role if msg.role in _ROLE_TEXT else "assistant"
        prefix = self._prefix(index, m, role)
        if m.stream is not None:
            done_before = len(m.final)
            new_final, tail = m.stream.update(msg.content)
            if new_final:
                made, m.final_codes = self._blocks_items(index, new_final, m.final_codes, streamed=True)
                m.final.extend(self._place(made, index, role, first=False, last=False))
            made, _ = self._blocks_items(index, tail, m.final_codes, growing=True)
            items = prefix + m.final + self._place(made, index, role, first=False, last=True)
            old = m.items
            same_prefix = len(old) >= len(prefix) and all(
                _same(p, q) for p, q in zip(prefix, old, strict=False)
            )
            hint = len(prefix) + max(0, done_before - 1) if same_prefix else 0
            return self._close(items), hint
        if m.content is None:
            if msg.role == "user":  # what the user typed is shown as typed, not as Markdown
                m.content = self._user_items(index, m)
            else:
                m.content, _ = self._blocks_items(index, render_blocks(msg.content, self.palette), 0)
        status = self._status(msg, role)
        content = self._place(m.content, index, role, first=False, last=not status)
        return self._close(prefix + content + self._place(status, index, role, first=False, last=True)), 0

    @staticmethod
    def _close(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The last item closes the bubble (the header, when nothing follows it yet)."""
        if items and not items[-1]["bubble_last"]:
            items[-1] = dict(items[-1], bubble_last=True)
        return items

    @staticmethod
    def _place(
        items: list[dict[str, Any]], index: int, role: str, first: bool, last: bool
    ) -> list[dict[str, Any]]:
        """Copies of `items` with their message, role and place in the bubble."""
        end = len(items) - 1
        return [
            dict(
                item, msg_index=index, role=role, bubble_first=first and j == 0, bubble_last=last and j == end
            )
            for j, item in enumerate(items)
        ]

    def _prefix(self, index: int, m: _Msg, role: str) -> list[dict[str, Any]]:
        """Header, images and thinking of a message, placed (the header opens the bubble)."""
        msg = m.message
        local = msg.created.astimezone() if msg.created.tzinfo else msg.created
        meta = i18n.format_time(local)
        if msg.model and role == "assistant":
            meta += f"  ·  {msg.model}"
        if msg.status == "streaming":
            meta += "  ·  " + i18n._(N_("generating…"))
        last_assistant = index == len(self._msgs) - 1 and role == "assistant"
        items: list[dict[str, Any]] = [
            {
                "viewclass": "HeaderItem",
                "role_text": i18n._(_ROLE_TEXT[role]),
                "meta_text": meta,
                "can_edit": role == "user",
                "can_regenerate": last_assistant and msg.status != "streaming",
                "version_text": f"{msg.version + 1}/{len(msg.versions) + 1}" if msg.versions else "",
                "can_prev": bool(msg.versions) and msg.version > 0 and msg.status != "streaming",
                "can_next": msg.version < len(msg.versions) and msg.status != "streaming",
            }
        ]
        if msg.images:
            base = Path(self.session_dir) if self.session_dir else None
            sources = [str(base / p) if base and not Path(p).is_absolute() else str(p) for p in msg.images]
            items.append({"viewclass": "ImagesItem", "sources": sources})
        if msg.thinking:
            title = i18n._(N_("Thinking ({count} characters)")).format(
                count=i18n.format_number(len(msg.thinking))
            )
            items.append({"viewclass": "ThinkingItem", "title": title, "expanded": m.expanded})
            if m.expanded:
                seps: list[str] = []
                pieces = split_markup(
                    markup_text(msg.thinking),
                    int(self.limits["chunk_chars"]),
                    int(self.limits["chunk_lines"]),
                    seps,
                )
                for j, piece in enumerate(pieces):
                    item = {
                        "viewclass": "TextItem",
                        "markup": piece,
                        "style": "thinking",
                        "joined": j < len(seps),
                    }
                    if j < len(seps):
                        item["sep"] = seps[j]
                    items.append(item)
        placed = self._place(items, index, role, first=True, last=False)
        return placed

    def _status(self, msg: Message, role: str) -> list[dict[str, Any]]:
        """The status line of a finished reply: interruption, error, speed and size."""
        if role != "assistant" or msg.status == "streaming":
            return []
        if msg.status == "complete" and not msg.stats and not msg.error:
            return []
        h = self.palette
        parts: list[str] = []
        if msg.status == "interrupted":
            parts.append("[color={c}]{t}[/color]".format(c=h["warning"], t=i18n._(N_("Interrupted"))))
        elif msg.status == "error":
            parts.append("[color={c}]{t}[/color]".format(c=h["danger"], t=i18n._(N_("Error"))))
        stats = msg.stats or {}
        tps = stats.get("gen_tps")
        if tps is None and stats.get("eval_count") and stats.get("eval_duration_ns"):
            tps = stats["eval_count"] / (stats["eval_duration_ns"] / 1e9)
        if tps:
            parts.append(i18n._(N_("{rate} tok/s")).format(rate=i18n.format_decimal(tps, 1)))
        elif stats.get("counts_from") == "":
            parts.append(i18n._(N_("tok/s not reported")))
        if stats.get("eval_count"):
            parts.append(
                i18n.ngettext("{count} token", "{count} tokens", stats["eval_count"]).format(
                    count=i18n.format_number(stats["eval_count"])
                )
            )
        if stats.get("ttft_s") is not None:
            parts.append(
                i18n._(N_("first token {seconds} s")).format(seconds=i18n.format_decimal(stats["ttft_s"], 2))
            )
        if stats.get("total_s") is not None:
            parts.append(i18n._(N_("{seconds} s")).format(seconds=i18n.format_decimal(stats["total_s"], 1)))
        line = "  ·  ".join(parts)
        if msg.error:
            line += ("\n" if line else "") + f"[color={h['danger']}]{markup_text(msg.error)}[/color]"
        return [{"viewclass": "StatusItem", "markup": line}]

    def _user_items(self, index: int, m: _Msg) -> list[dict[str, Any]]:
        """A user message's text as typed, and each attached file as a FileItem (its code below when open)."""
        items: list[dict[str, Any]] = []
        n = 0
        for part in split_attachments(m.message.content):
            if not isinstance(part, Attachment):
                items.extend(self._text_items(Block("text", markup=markup_text(part))))
                continue
            expanded = n in m.files_open
            title = markup_text(part.label)
            items.append({"viewclass": "FileItem", "title": title, "file_index": n, "expanded": expanded})
            if expanded:
                block = Block("code", code=part.text, lang=part.lang)
                items.extend(self._code_items(block, f"{index}:file{n}", growing=False, streamed=False))
            n += 1
        return items

    def _text_items(self, block: Block) -> list[dict[str, Any]]:
        if block.kind == "rule":
            return [{"viewclass": "RuleItem"}]
        style = "table" if block.kind == "table" else block.style
        markup = f"[b]{block.markup}[/b]" if style in _HEADINGS else block.markup
        seps: list[str] = []
        pieces = split_markup(markup, int(self.limits["chunk_chars"]), int(self.limits["chunk_lines"]), seps)
        items = []
        for j, piece in enumerate(pieces):
            item = {"viewclass": "TextItem", "markup": piece, "style": style, "joined": j < len(seps)}
            if j < len(seps):
                item["sep"] = seps[j]
            items.append(item)
        return items

    def _code_items(self, block: Block, key: str, growing: bool, streamed: bool) -> list[dict[str, Any]]:
        self._codes[key] = block.code
        # A block of a streamed reply is cut into short pieces so each update redraws only a few lines; it
        # keeps them once finished, so its finished pieces (same markup) are never drawn again.
        lines = int(self.limits["stream_code_lines" if growing or streamed else "chunk_lines"])
        pieces = split_lines(block.code, int(self.limits["chunk_chars"]), lines)
        style = self.code_style
        markups = [highlight_markup(piece, block.lang, style) for piece in pieces[:-1]]
        if growing:
            # The piece still growing: each complete line highlighted on its own (cached), the line being
            # received as plain text; lexing the whole piece at every update would cost O(lines^2).
            # Once the block is finished its last piece is highlighted as a whole.
            *done, partial = pieces[-1].split("\n")
            markups.append(
                "".join(highlight_markup(f"{line}\n", block.lang, style) for line in done)
                + markup_text(partial, "mono")
            )
        else:
            markups.append(highlight_markup(pieces[-1], block.lang, style))
        last = len(pieces) - 1
        return [
            {
                "viewclass": "CodeItem",
                "markup": markups[j],
                "lang": block.lang,
                "code_key": key,
                "show_header": j == 0,
                "code_first": j == 0,
                "code_last": j == last,
                "copied": False,
                "joined": j < last,
                "sep": "\n",
            }
            for j in range(len(pieces))
        ]

    def _blocks_items(
        self, index: int, blocks: list[Block], first_code: int, growing: bool = False, streamed: bool = False
    ) -> tuple[list[dict[str, Any]], int]:
        """Items of `blocks` (code blocks numbered from first_code + 1); growing: the last block is the
        unfinished tail of a streaming reply; streamed: the blocks belong to a streamed reply."""
        items: list[dict[str, Any]] = []
        n = first_code
        for j, block in enumerate(blocks):
            if block.kind == "code":
                n += 1
                last_growing = growing and j == len(blocks) - 1
                items.extend(self._code_items(block, f"{index}:{n}", last_growing, streamed or growing))
            else:
                items.extend(self._text_items(block))
        return items, n
