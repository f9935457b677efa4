"""The RecycleView item widgets of the chat: bubble headers, text blocks, code blocks, thinking, status.

One message is several consecutive items drawn as one bubble (first item rounds the top corners, last the
bottom). Each item measures its own height from its Label texture and writes it back into its data dict, so
the RecycleView keeps exact heights for items scrolled out of view. Looks live in chat_view.kv.
"""

from __future__ import annotations

from typing import Any

from kivy.animation import Animation
from kivy.properties import (
    BooleanProperty,
    ColorProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.recycleboxlayout import RecycleBoxLayout
from kivy.uix.recycleview import RecycleView
from kivy.uix.recycleview.views import RecycleDataAdapter, RecycleDataViewBehavior, _cached_views
from kivy.uix.relativelayout import RelativeLayout

from ui.clip import FlatImage, ScissorClip
from ui.config_ui import SIZES, theme

__all__ = [
    "ChatBoxLayout",
    "ChatItem",
    "ChatRecycleView",
    "CodeItem",
    "HeaderItem",
    "ImagesItem",
    "RuleItem",
    "StatusItem",
    "StickyDataAdapter",
    "TextItem",
    "ThinkingItem",
]


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

    def __init__(self, **kwargs: Any) -> None:
        self._rv: Any = None
        self._shown: dict[str, Any] | None = None  # the data dict this widget shows
        super().__init__(**kwargs)
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

    markup = StringProperty("")
    style = StringProperty("p")
    font_size = NumericProperty(SIZES["font"])
    font_name = StringProperty("Roboto")


class CodeItem(ChatItem):
    """One piece of a code block (monospace, highlighted); the first piece has the language and Copy."""

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


class ThinkingItem(ChatItem):
    """The collapsible thinking section's toggle (collapsed by default)."""

    title = StringProperty("")
    expanded = BooleanProperty(False)


class StatusItem(ChatItem):
    """The bottom line of a reply: streaming, stats, interruption or error."""

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


class StickyDataAdapter(RecycleDataAdapter):
    """Gives each index back the widget that showed it before a data change.

    Kivy's RecycleView moves every view to a shared cache on any data change and hands them out in any
    order, so each streamed update made every visible Label re-render a different text. Keeping the widget
    of each index means an unchanged item keeps its texture; only the changed tail is drawn again.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._previous: dict[int, Any] = {}

    def invalidate(self) -> None:
        # Called more than once per refresh (the later calls find no views): remember the first.
        for views in self.dirty_views.values():
            self._previous.update(views)
        self._previous.update(self.views)
        super().invalidate()

    def set_visible_views(self, indices: Any, data: Any, viewclasses: Any) -> Any:
        result = super().set_visible_views(indices, data, viewclasses)
        self._previous = {}
        return result

    def get_view(self, index: int, data_item: dict[str, Any], viewclass: Any) -> Any:
        if viewclass is None:
            return None
        view = self._previous.pop(index, None)
        cache = _cached_views[viewclass]
        if view is not None and view.__class__ is viewclass and view in cache:
            cache.remove(view)
            self.refresh_view_attrs(index, data_item, view)
            return view
        if view is not None:
            self._previous[index] = view  # not reusable here; leave it for nobody else either
        if index not in self.dirty_views.get(viewclass, {}):
            reserved = {id(v) for v in self._previous.values()}
            for i in range(len(cache) - 1, -1, -1):
                if id(cache[i]) not in reserved:
                    view = cache.pop(i)
                    self.refresh_view_attrs(index, data_item, view)
                    return view
            if not self.dirty_views.get(viewclass):
                return self.create_view(index, data_item, viewclass)
        return super().get_view(index, data_item, viewclass)


class ChatRecycleView(ScissorClip, RecycleView):
    """The chat's RecycleView: while a reply streams and the view follows its end, the scroll bar stays in
    its resting color instead of lighting up and fading out (a 0.5 s animation, so several redraws of the
    window) after every update that grows the content."""

    owner = ObjectProperty(None, allownone=True)  # the ChatView

    def update_from_scroll(self, *largs: Any) -> None:
        super().update_from_scroll(*largs)
        owner = self.owner
        if owner is not None and owner.streaming and owner.following:
            if self._bind_inactive_bar_color_ev is not None:
                self._bind_inactive_bar_color_ev.cancel()
            Animation.stop_all(self, "_bar_color")
            self.funbind("bar_color", self._change_bar_color)
            self.fbind("bar_inactive_color", self._change_bar_color)
            self._bar_color = self.bar_inactive_color


class ChatBoxLayout(RecycleBoxLayout):
    """The chat's RecycleBoxLayout, without its second full layout pass per refresh.

    Laying out sets the layout's minimum height, which resizes it and asks for another full pass over every
    item although the positions just computed already used the new height. That pass is skipped when the
    data, the layout's geometry and every shown item's size are as they were after the last full pass.
    """

    def __init__(self, **kwargs: Any) -> None:
        self._laid_out_for: tuple[Any, ...] | None = None
        super().__init__(**kwargs)

    def _layout_key(self, data: Any) -> tuple[Any, ...]:
        return (len(data), tuple(self.size), tuple(self.pos), tuple(self.padding), self.spacing)

    def compute_sizes_from_data(self, data: Any, flags: Any) -> None:
        self._laid_out_for = None
        super().compute_sizes_from_data(data, flags)

    def _views_as_laid_out(self) -> bool:
        """True when every shown item has the size and hints the last layout gave it."""
        opts = self.view_opts
        for widget, index in self.view_indices.items():
            opt = opts[index]
            if (
                list(widget.size) != opt["size"]
                or list(widget.size_hint) != opt["size_hint"]
                or list(widget.size_hint_min) != opt["size_hint_min"]
                or list(widget.size_hint_max) != opt["size_hint_max"]
                or dict(widget.pos_hint) != opt["pos_hint"]
            ):
                return False
        return True

    def compute_layout(self, data: Any, flags: Any) -> None:
        if self._laid_out_for == self._layout_key(data) and self._views_as_laid_out():
            self._size_needs_update = False
            self._changed_views = None
            return
        super().compute_layout(data, flags)
        self._laid_out_for = self._layout_key(data)
