"""The chat's RecycleView: Kivy's RecycleView driven so that a streaming update costs the same whatever the
length of the conversation. Every workaround of Kivy's RecycleView internals lives here.

Kivy's RecycleBoxLayout lays out every item again on any change (a Python loop over all of them, twice per
refresh) and finds the visible items by a linear scan, and any data event moves every view to a shared
cache and hands them back in any order, so the Labels that stayed on screen re-render different texts.
Here instead:

- ``ChatLayout`` keeps each item's height and its offset from the top; a change recomputes offsets from the
  first changed item only (the end of the list, while a reply streams), finds the visible items by
  bisection, and places only those. Items appended or removed at the end need no full refresh.
- ``StickyDataAdapter`` gives each index back the widget that showed it after a full refresh (a theme
  switch, a new width), so an unchanged item keeps its texture.
- ``ChatData.apply(splice)`` applies a ChatModel splice to ``rv.data``: an item replaced by one of the same
  class is swapped in place without a data event and only its widget, if shown, is refreshed; items added
  at the end are one "appended" event; anything else is one ordinary data change.
- ``ChatRecycleView`` keeps the scroll bar at rest while a streaming reply grows under a view that follows
  it (Kivy lights it up and fades it out, a 0.5 s animation, after every content change).

    rv.data = ...; rv.layout_manager is a ChatLayout (chat_view.kv)
    chat_data = ChatData(rv, decorate)             # decorate(model_item) -> the dict the RecycleView shows
    chat_data.apply(splice); chat_data.view_at(index) -> the widget showing item index, or None
    chat_data.reestimate(estimate)                 # new width: every height estimated again
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from typing import Any

from kivy.animation import Animation
from kivy.factory import Factory
from kivy.properties import NumericProperty, ObjectProperty, VariableListProperty
from kivy.uix.layout import Layout
from kivy.uix.recycleview import RecycleView
from kivy.uix.recycleview.layout import RecycleLayoutManagerBehavior
from kivy.uix.recycleview.views import RecycleDataAdapter, _cached_views

from ui.chat_model import Splice
from ui.clip import ScissorClip

__all__ = ["ChatData", "ChatLayout", "ChatRecycleView", "StickyDataAdapter"]


def _height(item: dict[str, Any]) -> float:
    return float(item.get("item_size", (0, 40))[1])


class _ViewClasses:
    """What RecycleDataAdapter.set_visible_views asks per index: {"viewclass": the class}."""

    def __init__(self) -> None:
        self.data: Any = []
        self._classes: dict[str, dict[str, Any]] = {}

    def __getitem__(self, index: int) -> dict[str, Any]:
        name = self.data[index]["viewclass"]
        found = self._classes.get(name)
        if found is None:
            found = self._classes[name] = {"viewclass": getattr(Factory, name)}
        return found


class ChatLayout(RecycleLayoutManagerBehavior, Layout):
    """A vertical RecycleView layout whose work per change is proportional to what changed and what is
    shown, not to the number of items. Item heights come from each data dict's "item_size" (an estimate)
    until the item's widget measures itself."""

    padding = VariableListProperty([0, 0, 0, 0])
    minimum_height = NumericProperty(0)

    def __init__(self, **kwargs: Any) -> None:
        self.view_indices: dict[Any, int] = {}
        self._heights: list[float] = []
        self._tops: list[float] = []  # offset of each item from the top of the first one
        self._dirty = 0  # offsets from this index on must be recomputed
        self._classes = _ViewClasses()
        self._trigger_layout = self._catch_layout_trigger
        super().__init__(**kwargs)
        self.fbind("height", self._moved)
        self.fbind("width", self._resized)
        self.fbind("padding", self._resized)

    # ----- what RecycleView asks ----------------------------------------------------------------------

    def compute_sizes_from_data(self, data: Any, flags: list[dict[str, Any]]) -> None:
        heights = self._heights
        full = not flags or any(not f for f in flags)
        if not full:
            for flag in flags:
                for kind, value in flag.items():
                    if kind == "appended" and value.start == len(heights):
                        heights.extend([0.0] * (value.stop - value.start))
                        self._touch(range(value.start, value.stop))
                    elif kind == "removed" and isinstance(value, slice):
                        start, stop, _ = value.indices(len(heights))
                        if stop != len(heights):
                            full = True
                            break
                        del heights[start:]
                        self._forget_from(start)
                        self._dirty = min(self._dirty, start)
                    elif kind == "modified" and isinstance(value, slice):
                        start, stop, _ = value.indices(len(heights))
                        self._touch(range(start, stop))
                        for index in range(start, stop):
                            self._forget(index)
                    else:
                        full = True
                        break
                if full:
                    break
        if full or len(heights) != len(data):
            self._heights = [_height(item) for item in data]
            self._dirty = 0
            self.clear_layout()
            return
        for index in self._touched:
            if index < len(data):
                heights[index] = _height(data[index])
        self._touched = []

    def compute_layout(self, data: Any, flags: Any) -> None:
        heights = self._heights
        for widget, index in self.view_indices.items():
            if index < len(heights) and widget.height != heights[index]:
                heights[index] = widget.height
                self._dirty = min(self._dirty, index)
        n = len(heights)
        if self._dirty < n or len(self._tops) != n:
            start = min(self._dirty, len(self._tops), n)
            tops = self._tops
            del tops[start:]
            offset = tops[-1] + heights[start - 1] if start else 0.0
            for index in range(start, n):
                tops.append(offset)
                offset += heights[index]
            self._dirty = n
        total = (self._tops[-1] + heights[-1]) if n else 0.0
        self.minimum_height = self.padding[1] + self.padding[3] + total

    def compute_visible_views(self, data: Any, viewport: Any) -> list[int]:
        n = len(self._tops)
        if not n or not data:
            return []
        _, y, _, h = viewport
        top = self.height - self.padding[1]
        first = max(0, bisect_right(self._tops, top - (y + h)) - 1)
        last = min(n - 1, max(first, bisect_left(self._tops, top - y) - 1))
        return list(range(first, last + 1))

    def set_visible_views(self, indices: list[int], data: Any, viewport: Any) -> None:
        rv = self.recycleview
        self._classes.data = data
        new, remaining, old = rv.view_adapter.set_visible_views(indices, data, self._classes)
        for _, widget in old:
            self.remove_widget(widget)
            del self.view_indices[widget]
        x = self.padding[0]
        width = max(0.0, self.width - self.padding[0] - self.padding[2])
        top = self.height - self.padding[1]
        for index, widget in new:
            y = top - self._tops[index] - self._heights[index]
            self.refresh_view_layout(
                index,
                {"size": (width, self._heights[index]), "pos": (x, y), "size_hint": (None, None)},
                widget,
                viewport,
            )
        for index, widget in new:
            self.view_indices[widget] = index
            if widget.parent is None:
                self.add_widget(widget)
        for index, widget in remaining:
            y = top - self._tops[index] - self._heights[index]
            if widget.y != y or widget.x != x:
                widget.pos = (x, y)
            if widget.width != width:
                widget.width = width
        # A view may measure itself while it is placed, before add_widget binds its size to this layout (a
        # new width makes a text item re-wrap at once): such a height went unseen and the items below kept
        # the old offsets, leaving a gap. Any height that differs from the layout's is taken next frame.
        heights = self._heights
        if any(i < len(heights) and w.height != heights[i] for w, i in self.view_indices.items()):
            rv.refresh_from_layout(view_size=True)

    def get_view_index_at(self, pos: Any) -> int:
        if not self._tops:
            return 0
        offset = self.height - self.padding[1] - pos[1]
        return min(len(self._tops) - 1, max(0, bisect_right(self._tops, offset) - 1))

    def clear_layout(self) -> None:
        super().clear_layout()
        self.clear_widgets()
        self.view_indices = {}

    def remove_views(self) -> None:
        super().remove_views()
        self.clear_widgets()
        self.view_indices = {}

    def do_layout(self, *_: Any) -> None:
        """Views are placed by set_visible_views."""

    # ----- what ChatData tells ---------------------------------------------------------------------------

    _touched: list[int] = []

    def set_estimate(self, index: int, height: float) -> None:
        """Item `index` was replaced in place (no data event): take its new estimated height unless its
        widget is shown (it measures itself)."""
        shown = self.recycleview.view_adapter.get_visible_view(index) is not None
        if index < len(self._heights) and height != self._heights[index] and not shown:
            self._heights[index] = height
            self._dirty = min(self._dirty, index)
            self.recycleview.refresh_from_layout()

    # ----- internals ------------------------------------------------------------------------------------

    def _touch(self, indices: range) -> None:
        self._touched = [*self._touched, *indices]
        self._dirty = min(self._dirty, indices.start)

    def _forget(self, index: int) -> None:
        """The data at `index` changed: its widget (shown or dirty) goes back to the cache."""
        adapter = self.recycleview.view_adapter
        view = adapter.views.pop(index, None)
        if view is not None:
            self.remove_widget(view)
            self.view_indices.pop(view, None)
            _cached_views[view.__class__].append(view)
        for views in adapter.dirty_views.values():
            view = views.pop(index, None)
            if view is not None:
                _cached_views[view.__class__].append(view)

    def _forget_from(self, start: int) -> None:
        adapter = self.recycleview.view_adapter
        for index in [i for i in adapter.views if i >= start]:
            self._forget(index)
        for views in adapter.dirty_views.values():
            for index in [i for i in views if i >= start]:
                _cached_views[views[index].__class__].append(views.pop(index))

    def _catch_layout_trigger(self, instance: Any = None, value: Any = None) -> None:
        rv = self.recycleview
        if rv is None:
            return
        index = self.view_indices.get(instance)
        if index is not None:
            if index < len(self._heights) and instance.height != self._heights[index]:
                rv.refresh_from_layout(view_size=True)
            return
        rv.refresh_from_layout()

    def _moved(self, *_: Any) -> None:
        """A new height moves every shown item (offsets are from the top): place them again."""
        if self.recycleview is not None:
            self.recycleview.refresh_from_layout()

    def _resized(self, *_: Any) -> None:
        if self.recycleview is not None:
            self.recycleview.refresh_from_layout()


class StickyDataAdapter(RecycleDataAdapter):
    """Gives each index back the widget that showed it before a full data refresh.

    Kivy's RecycleView moves every view to a shared cache on a full data change and hands them out in any
    order, so every visible Label would re-render a different text. Keeping the widget of each index means
    an unchanged item keeps its texture.
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


class ChatData:
    """Applies ChatModel splices to a RecycleView's data with as little work as the change needs.

    `decorate(item)` turns a model item into the dict the RecycleView shows (sizes, estimated height);
    an item the model kept (same object) keeps its dict, so its widget keeps its texture.
    """

    def __init__(self, rv: Any, decorate: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
        self.rv = rv
        self.decorate = decorate
        self.sources: list[dict[str, Any]] = []  # the model item behind each data dict

    def view_at(self, index: int) -> Any:
        """The widget showing item `index`, or None when it is not on screen."""
        adapter = self.rv.view_adapter
        return adapter.get_visible_view(index) if adapter is not None else None

    def apply(self, splice: Splice) -> None:
        rv = self.rv
        data = rv.data
        start, removed = splice.start, splice.removed
        old_sources = self.sources[start : start + removed]
        old_dicts = data[start : start + removed]
        pool = {id(src): d for src, d in zip(old_sources, old_dicts, strict=True)}
        new_dicts = [pool.get(id(item)) or self.decorate(item) for item in splice.new]
        self.sources[start : start + removed] = splice.new
        common = min(removed, len(new_dicts))
        at_end = start + removed == len(data)
        in_place = (len(new_dicts) == removed or at_end) and all(
            new_dicts[j] is old_dicts[j] or new_dicts[j]["viewclass"] == old_dicts[j]["viewclass"]
            for j in range(common)
        )
        if not in_place:
            if removed == 0 and start > 0:
                # Kivy's RecycleView misreads an assignment to an empty slice (an insertion) as "nothing
                # changed": include the previous item so the slice is never empty.
                data[start - 1 : start] = [data[start - 1], *new_dicts]
            else:
                data[start : start + removed] = new_dicts
            return
        layout = rv.layout_manager
        for j in range(common):
            new = new_dicts[j]
            if new is old_dicts[j]:
                continue
            index = start + j
            # No data event: Kivy would refresh (and re-layout) the whole list for one changed item.
            list.__setitem__(data, index, new)
            view = self.view_at(index)
            if view is not None:
                view.refresh_view_attrs(rv, index, new)
                if getattr(view, "content_height", 0) > 0:
                    view._update_height()  # keep the measured height in the new dict
            else:
                layout._forget(index)
                layout.set_estimate(index, _height(new))
        if len(new_dicts) > removed:
            data.extend(new_dicts[removed:])
        elif removed > len(new_dicts):
            del data[start + len(new_dicts) :]

    def reestimate(self, estimate: Callable[[dict[str, Any]], float]) -> None:
        """Every item's height estimated again (a new width): measured heights belong to the old width."""
        for item in self.rv.data:
            item["item_size"] = [0, round(estimate(item))]
        self.rv.refresh_from_data()


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
