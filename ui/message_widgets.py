"""The RecycleView item widgets of the chat: bubble headers, text blocks, code blocks, thinking, status.

One message is several consecutive items drawn as one bubble (first item rounds the top corners, last the
bottom). Each item measures its own height from its Label texture and writes it back into its data dict, so
the RecycleView keeps exact heights for items scrolled out of view. Looks live in chat_view.kv.

Text items can be selected with the mouse: the chat view keeps the selection (item index and character
offsets) and each item shown draws its part of it over its Label, from the Label's own line layout
(``text_offset`` finds the character under a point, ``text_rects`` the rectangles of a range).
"""

from __future__ import annotations

from typing import Any

from kivy.graphics import Color, InstructionGroup, Rectangle
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.recycleview.views import RecycleDataViewBehavior
from kivy.uix.relativelayout import RelativeLayout

from ui.clip import FlatImage
from ui.config_ui import SIZES, theme

__all__ = [
    "ChatItem",
    "CodeItem",
    "FileItem",
    "HeaderItem",
    "ImagesItem",
    "RuleItem",
    "StatusItem",
    "TextItem",
    "ThinkingItem",
    "text_offset",
    "text_rects",
]


def _measure(options: dict[str, Any], text: str) -> float:
    """Width of `text` drawn with a word's font options (as the Label laid it out)."""
    from kivy.core.text import Label as CoreLabel

    key = (options.get("font_name"), options.get("font_size"), options.get("bold"), options.get("italic"))
    label = _MEASURERS.get(key)
    if label is None:
        label = _MEASURERS[key] = CoreLabel(
            font_name=key[0] or "Roboto", font_size=key[1] or 15, bold=bool(key[2]), italic=bool(key[3])
        )
    return float(label.get_extents(text)[0]) if text else 0.0


_MEASURERS: dict[tuple[Any, ...], Any] = {}
_EXTENTS: dict[tuple[Any, ...], dict[str, tuple[int, int]]] = {}
_EXTENTS_MAX = 50_000  # words remembered per font before that font's memory starts again


def _cached_extents(self: Any) -> Any:
    """LabelBase.get_cached_extents that remembers the size of every word per font.

    Kivy lays out a markup Label by measuring each word (SDL_ttf, plus a font lookup in Python per call):
    half the cost of re-rendering a paragraph. A streaming reply re-renders the paragraph being written at
    every update, with the same words again and again; remembering their sizes halves that cost.
    Kivy documents the function returned as valid for the font settings at the time of the call.
    """
    options = self.options
    key = (
        options["font_size"],
        options["font_name_r"],
        options["bold"],
        options["italic"],
        options["underline"],
        options["strikethrough"],
        options.get("font_hinting"),
        options.get("font_kerning"),
    )
    sizes = _EXTENTS.get(key)
    if sizes is None:
        sizes = _EXTENTS[key] = {}
    measure = self.get_extents

    def extents(text: str) -> tuple[int, int]:
        size = sizes.get(text)
        if size is None:
            if len(sizes) >= _EXTENTS_MAX:
                sizes.clear()
            size = sizes[text] = measure(text)
        return size

    return extents


def _install_extents_cache() -> None:
    from kivy.core.text import Label as CoreLabel

    if "font_name_r" in CoreLabel(font_size=12).options:  # the options the key is made of (Kivy 2.x)
        CoreLabel.get_cached_extents = _cached_extents


_install_extents_cache()


def _layout(label: Any, text: str) -> list[tuple[float, float, list[tuple[int, int, float, Any]]]]:
    """The Label's lines as (top offset, height, words), each word (start, end, x, LayoutWord) with its
    place in `text` (the text the Label shows, tags removed)."""
    core = getattr(label, "_label", None)
    lines = getattr(core, "_cached_lines", None) or []
    out: list[tuple[float, float, list[tuple[int, int, float, Any]]]] = []
    pos = 0
    for line in lines:  # line.x and line.y (from the top) are where the Label's render drew the line
        words: list[tuple[int, int, float, Any]] = []
        x = float(line.x)
        for word in line.words:
            found = text.find(word.text, pos) if word.text else -1
            if found < 0 or text[pos:found].strip():
                found = pos  # a word the Label changed (shaped text): keep the cursor going
            end = min(len(text), found + len(word.text))
            words.append((found, end, x, word))
            x += word.lw
            pos = end
        out.append((float(line.y), float(line.h), words))
    return out


def text_offset(label: Any, text: str, x: float, y: float) -> int:
    """The character of `text` (what `label` shows) nearest to (x, y), in the label's parent coordinates."""
    lines = _layout(label, text)
    if not lines:
        return 0
    from_top = label.top - y
    if from_top < 0:
        return 0
    k = next((k for k, (top, height, _) in enumerate(lines) if from_top < top + height), len(lines) - 1)
    words = lines[k][2]
    if not words:
        return lines[k - 1][2][-1][1] if k and lines[k - 1][2] else 0
    lx = x - label.x
    for start, end, wx, word in words:
        if lx < wx + word.lw:
            if lx <= wx:
                return start
            # the boundary between characters nearest to the point
            best, best_distance = start, lx - wx
            for i in range(start + 1, end + 1):
                distance = abs(wx + _measure(word.options, word.text[: i - start]) - lx)
                if distance > best_distance:
                    break
                best, best_distance = i, distance
            return best
    return words[-1][1]


def text_rects(label: Any, text: str, start: int, end: int) -> list[tuple[float, float, float, float]]:
    """Rectangles (x, y, width, height, in the label's parent coordinates) covering characters
    [start, end) of `text` as `label` lays them out."""
    rects: list[tuple[float, float, float, float]] = []
    if end <= start:
        return rects
    for top, height, words in _layout(label, text):
        if not words:
            continue
        line_start, line_end = words[0][0], words[-1][1]
        if line_end <= start or line_start >= end:
            continue
        x0 = x1 = None
        for w_start, w_end, wx, word in words:
            if w_end <= start or w_start >= end:
                continue
            a = max(start, w_start) - w_start
            b = min(end, w_end) - w_start
            left = wx + _measure(word.options, word.text[:a])
            right = wx + _measure(word.options, word.text[:b]) if b < len(word.text) else wx + word.lw
            x0 = left if x0 is None else min(x0, left)
            x1 = right if x1 is None else max(x1, right)
        if x0 is None or x1 is None:
            continue
        rects.append((label.x + x0, label.top - top - height, max(1.0, x1 - x0), height))
    return rects


class ChatItem(RecycleDataViewBehavior, RelativeLayout):
    """Base of every chat row: one horizontal slice of a message bubble.

    A RelativeLayout so its children are placed relative to the row: when rows move (the reply grows at
    the bottom, the view scrolls) only each row's translation changes, not every child's bindings.
    Children are placed by the kv rules, so the layout's own sizing is switched off.
    """

    index = NumericProperty(-1)
    msg_index = NumericProperty(-1)
    role = StringProperty("assistant")
    side = OptionProperty("left", options=["left", "right"])
    natural_w = NumericProperty(0)  # width the content wants (0: as wide as allowed)
    bubble_first = BooleanProperty(False)
    bubble_last = BooleanProperty(False)
    pad_top = NumericProperty(0)
    pad_bottom = NumericProperty(0)
    gap_bottom = NumericProperty(0)
    item_size = ListProperty([0, 0])
    content_height = NumericProperty(0)
    bubble_x = NumericProperty(0)
    bubble_w = NumericProperty(0)
    inner_x = NumericProperty(0)
    inner_w = NumericProperty(100)
    bubble_color = ColorProperty([1, 1, 1, 1])
    radii = ListProperty([0, 0, 0, 0])
    owner = ObjectProperty(None, allownone=True)  # the ChatView, for actions
    selection = ListProperty([])  # [start, end] of the selected characters of this item's text, or []

    text_label_id = ""  # the id of the Label whose text can be selected ("" for items without text)

    def __init__(self, **kwargs: Any) -> None:
        self._rv: Any = None
        self._shown: dict[str, Any] | None = None  # the data dict this widget shows
        self._selection_group = InstructionGroup()
        super().__init__(**kwargs)
        # inside the RelativeLayout's transform (canvas.after ends with its PopMatrix): item coordinates
        self.canvas.after.insert(0, self._selection_group)
        label = self.text_label
        if label is not None:
            label.fbind("texture_size", self._draw_selection)
            label.fbind("pos", self._draw_selection)
        self.fbind("selection", self._draw_selection)
        self.size_hint_y = None
        for name in ("width", "natural_w", "side", "role"):
            self.fbind(name, self._update_geometry)
        for name in ("bubble_first", "bubble_last"):
            self.fbind(name, self._update_radii)
        for name in ("content_height", "pad_top", "pad_bottom", "gap_bottom"):
            self.fbind(name, self._update_height)
        theme.fbind("colors", self._update_color)
        self._update_geometry()
        self._update_radii()
        self._update_color()

    def refresh_view_attrs(self, rv: Any, index: int, data: dict[str, Any]) -> None:
        if data is self._shown and index == self.index and rv is self._rv:
            # The same dict at the same place (a data event elsewhere, e.g. a block appended while
            # streaming): nothing to set. Dicts are replaced, never edited, except their measured height.
            return
        self._shown = data
        self._rv = rv
        self.index = index
        self.owner = getattr(rv, "owner", None)
        super().refresh_view_attrs(rv, index, data)
        self._update_color()
        self.selection = self.owner.selection_of(index) if self.owner is not None else []

    @property
    def text_label(self) -> Any:
        """The Label showing this item's selectable text, or None."""
        return self.ids.get(self.text_label_id) if self.text_label_id else None

    def shown_text(self) -> str:
        """The text this item's Label shows (tags removed): what offsets in `selection` count."""
        from ui.markdown_render import markup_plain

        label = self.text_label
        return markup_plain(label.text) if label is not None else ""

    def _draw_selection(self, *_: Any) -> None:
        group = self._selection_group
        group.clear()
        label = self.text_label
        if not self.selection or label is None or not label.text:
            return
        start, end = self.selection
        group.add(Color(*theme.colors["text_selection"]))
        for x, y, w, h in text_rects(label, self.shown_text(), start, end):
            group.add(Rectangle(pos=(x, y), size=(w, h)))

    def refresh_view_layout(self, rv: Any, index: int, layout: Any, viewport: Any) -> None:
        super().refresh_view_layout(rv, index, layout, viewport)
        # The layout applied the stored (maybe estimated) height; when the new content measures the same
        # as this recycled widget's previous one no property changes, so re-apply the measured height here.
        if self.content_height > 0:
            self._update_height()

    def _update_geometry(self, *_: Any) -> None:
        frac_key = "bubble_user_max_frac" if self.role == "user" else "bubble_assistant_max_frac"
        max_w = self.width * SIZES[frac_key]
        pad = SIZES["bubble_padding"]
        w = min(max_w, self.natural_w + 2 * pad) if self.natural_w > 0 else max_w
        self.bubble_w = w
        self.bubble_x = self.width - w if self.side == "right" else 0
        self.inner_x = self.bubble_x + pad
        self.inner_w = max(10, w - 2 * pad)

    def do_layout(self, *_: Any) -> None:
        """Children keep the places the kv rules give them."""

    def _update_radii(self, *_: Any) -> None:
        r = SIZES["bubble_radius"]
        top = r if self.bubble_first else 0
        bottom = r if self.bubble_last else 0
        self.radii = [top, top, bottom, bottom]

    def _update_color(self, *_: Any) -> None:
        key = {"user": "bubble_user_bg", "system": "bubble_system_bg"}.get(self.role, "bubble_assistant_bg")
        self.bubble_color = theme.colors[key]

    def _update_height(self, *_: Any) -> None:
        h = round(self.pad_top + self.content_height + self.pad_bottom + self.gap_bottom)
        if h != self.height:
            self.height = h
        rv = self._rv
        if rv is not None and 0 <= self.index < len(rv.data) and self.content_height > 0:
            item = rv.data[self.index]
            if item.get("item_size", [0, 0])[1] != h:
                # In place on purpose: no data event, but the layout reuses the measured height later.
                item["item_size"] = [0, h]


class TextItem(ChatItem):
    """A paragraph, heading, list, quote, table or thinking text as one markup Label."""

    text_label_id = "lbl"

    markup = StringProperty("")
    style = StringProperty("p")
    font_size = NumericProperty(SIZES["font"])
    font_name = StringProperty("Roboto")


class CodeItem(ChatItem):
    """One piece of a code block (monospace, highlighted); the first piece has the language and Copy."""

    text_label_id = "code_lbl"

    markup = StringProperty("")
    lang = StringProperty("")
    code_key = StringProperty("")
    show_header = BooleanProperty(False)
    code_first = BooleanProperty(False)
    code_last = BooleanProperty(False)
    copied = BooleanProperty(False)

    def copy_code(self) -> None:
        if self.owner is not None:
            self.owner.copy_code(self.code_key)
            self.copied = True


class RuleItem(ChatItem):
    """A horizontal rule (Markdown `---`)."""


class HeaderItem(ChatItem):
    """The top of a bubble: who, when, which model, and the message's actions."""

    role_text = StringProperty("")
    meta_text = StringProperty("")
    can_edit = BooleanProperty(False)
    can_regenerate = BooleanProperty(False)
    version_text = StringProperty("")  # "2/3" between ‹ and › when the message has other versions
    can_prev = BooleanProperty(False)
    can_next = BooleanProperty(False)


class ThinkingItem(ChatItem):
    """The collapsible thinking section's toggle (collapsed by default)."""

    title = StringProperty("")
    expanded = BooleanProperty(False)


class FileItem(ChatItem):
    """A text file attached to a user message: "notes.py · 42 lines", a click shows or hides its content."""

    title = StringProperty("")  # markup
    file_index = NumericProperty(0)
    expanded = BooleanProperty(False)


class StatusItem(ChatItem):
    """The bottom line of a reply: streaming, stats, interruption or error."""

    text_label_id = "status_lbl"

    markup = StringProperty("")


class ImagesItem(ChatItem):
    """Thumbnails of the images sent with a user message."""

    sources = ListProperty([])

    def on_sources(self, *_: Any) -> None:
        box = self.ids.thumbs
        box.clear_widgets()
        side = SIZES["thumb_size"]
        for source in self.sources:
            box.add_widget(
                FlatImage(source=source, size_hint=(None, None), size=(side, side), fit_mode="contain")
            )
