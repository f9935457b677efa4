"""Clipping without the stencil buffer: scroll views cut their content with a scissor rectangle.

Kivy's ScrollView and ScreenManager are StencilViews: every frame they fill their whole area twice into the
stencil buffer (push and pop) and every fragment drawn inside is stencil-tested. With OpenGL rendered in
software that is most of a frame's cost: in the app window those passes covered 3.5 times the window's area
out of 7.3 drawn in all. A rectangular clip needs no buffer: ``glScissor`` costs nothing per pixel.

    class ChatRecycleView(ScissorClip, RecycleView): ...   # clips with a scissor that follows the widget
    ClipScrollView, ClipRecycleView                        # ScrollView and RecycleView with that clip (kv)
    PlainScreenManager                                     # a ScreenManager that does not clip at all (its
                                                           # screens fill it and it never animates them)
    FlatImage                                              # an Image without Kivy 2.3's per-image stencil
    strip_stencil(widget) -> bool                          # remove a StencilView's stencil instructions

The scissor is set in window pixels (or in the pixels of the CachedLayer it is drawn into, ui/layer.py), so it
is recomputed when the widget or any ancestor moves or resizes (a RelativeLayout ancestor moving shifts the
widget on screen without changing its own pos).
"""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock
from kivy.graphics import BindTexture, ScissorPop, ScissorPush
from kivy.graphics.stencil_instructions import StencilPop, StencilPush, StencilUnUse, StencilUse
from kivy.uix.image import Image
from kivy.uix.recycleview import RecycleView
from kivy.uix.screenmanager import ScreenManager
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from ui.layer import CachedLayer, layer_offset

__all__ = [
    "ClipRecycleView",
    "ClipScrollView",
    "FlatImage",
    "PlainScreenManager",
    "ScissorClip",
    "strip_stencil",
]


def _cut(group: Any, first: type, last: type) -> int | None:
    """Remove the instructions from the first `first` to the next `last` (inclusive); their index, or None."""
    children = list(group.children)
    start = next((i for i, ins in enumerate(children) if isinstance(ins, first)), None)
    if start is None:
        return None
    end = next((i for i in range(start, len(children)) if isinstance(children[i], last)), None)
    if end is None:
        return None
    for ins in children[start : end + 1]:
        if not isinstance(ins, BindTexture):  # a Rectangle removes the BindTexture it added itself
            group.remove(ins)
    return start


def strip_stencil(widget: Widget, group: str = "before/after") -> bool:
    """Remove the push/mask/use and unuse/mask/pop stencil instructions a kv rule drew: in canvas.before and
    canvas.after (StencilView), or both in the main canvas (group="canvas", Image); True when both were found."""
    first, second = (
        (widget.canvas, widget.canvas) if group == "canvas" else (widget.canvas.before, widget.canvas.after)
    )
    before = _cut(first, StencilPush, StencilUse)
    after = _cut(second, StencilUnUse, StencilPop)
    return before is not None and after is not None


class ScissorClip:
    """Mixin for a StencilView subclass (ScrollView, RecycleView): the same clip, with a scissor."""

    def on_kv_post(self, base_widget: Any) -> None:
        """Once the kv rules (StencilView's among them) have drawn their instructions, swap the clip."""
        super().on_kv_post(base_widget)  # type: ignore[misc]
        if getattr(self, "_scissor", None) is not None:
            return
        strip_stencil(self)  # type: ignore[arg-type]
        self._scissor = ScissorPush(x=0, y=0, width=1, height=1)
        self.canvas.before.insert(0, self._scissor)  # type: ignore[attr-defined]
        self.canvas.after.insert(0, ScissorPop())  # type: ignore[attr-defined]
        self._watched: list[Widget] = []
        self._trigger_clip = Clock.create_trigger(self._update_clip, -1)  # before this frame is drawn
        self.bind(parent=self._watch, pos=self._trigger_clip, size=self._trigger_clip)  # type: ignore[attr-defined]
        self._watch()

    @property
    def clip_rect(self) -> tuple[int, int, int, int]:
        """The scissor rectangle: x, y, width, height in window pixels (in the pixels of the enclosing
        CachedLayer when drawn into one)."""
        return self._scissor.x, self._scissor.y, self._scissor.width, self._scissor.height

    def _watch(self, *_: Any) -> None:
        """Follow every ancestor's position, size and parent (a re-parenting anywhere changes the chain)."""
        for widget in self._watched:
            widget.unbind(pos=self._trigger_clip, size=self._trigger_clip, parent=self._watch)
            if isinstance(widget, CachedLayer):
                widget.unbind(live=self._trigger_clip)
        self._watched = []
        node = self.parent  # type: ignore[attr-defined]
        while node is not None and isinstance(node, Widget):
            node.bind(pos=self._trigger_clip, size=self._trigger_clip, parent=self._watch)
            if isinstance(node, CachedLayer):  # live or not: window pixels or the layer's
                node.bind(live=self._trigger_clip)
            self._watched.append(node)
            node = node.parent
        self._trigger_clip()

    def _update_clip(self, *_: Any) -> None:
        x0, y0 = self.to_window(self.x, self.y)  # type: ignore[attr-defined]
        x1, y1 = self.to_window(self.right, self.top)  # type: ignore[attr-defined]
        offset = layer_offset(self)  # type: ignore[arg-type]
        if offset is not None:  # drawn into a CachedLayer's texture: its pixels, not the window's
            x0, x1, y0, y1 = x0 - offset[0], x1 - offset[0], y0 - offset[1], y1 - offset[1]
        x, y = int(round(x0)), int(round(y0))
        width, height = max(0, int(round(x1)) - x), max(0, int(round(y1)) - y)
        scissor = self._scissor
        if (scissor.x, scissor.y, scissor.width, scissor.height) != (x, y, width, height):
            scissor.x, scissor.y, scissor.width, scissor.height = x, y, width, height


class PlainScreenManager(ScreenManager):
    """A ScreenManager without its stencil clip, for one whose screens switch with NoTransition: a screen
    always fills the manager exactly, so there is nothing to cut and the two full-area stencil passes
    per frame are pure cost."""

    def on_kv_post(self, base_widget: Any) -> None:
        super().on_kv_post(base_widget)
        strip_stencil(self)


class ClipScrollView(ScissorClip, ScrollView):
    """A ScrollView clipped with a scissor (use it in kv wherever a ScrollView would be)."""


class ClipRecycleView(ScissorClip, RecycleView):
    """A RecycleView clipped with a scissor."""


class FlatImage(Image):
    """An Image drawn as one textured rectangle. Kivy 2.3 draws every Image inside a stencil mask (for
    fit_mode "cover", which we never use), and every first StencilPush of a frame clears the whole stencil
    buffer: with some 30 icons on screen that was a buffer clear per icon per frame."""

    def on_kv_post(self, base_widget: Any) -> None:
        super().on_kv_post(base_widget)
        strip_stencil(self, group="canvas")
