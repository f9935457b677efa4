"""Cached layers: a zone of the window drawn into its own texture, re-drawn only when something in it changes.

Kivy draws the whole window again whenever any instruction changes: a blinking cursor or a streamed token
re-draws the conversation list, the panel and the top bar too. With OpenGL rendered in software (Mesa's
llvmpipe, no GPU) that re-draw is most of a frame. A ``CachedLayer`` renders its children into an Fbo, and
Kivy's Fbo renders its content only when one of its instructions changed since the last frame; otherwise the
zone costs one textured rectangle. Children keep their coordinates (the layer is not a RelativeLayout):
touches, ``to_window`` and layouts are unchanged, and ``ScissorClip`` (ui/clip.py) asks ``layer_offset`` to
place its scissor in the layer's pixels.

    CachedLayer:            # in kv, around one zone; it sizes its child like a BoxLayout
        InfoPanel:
            id: info

A zone that changes at nearly every frame for a while is better drawn straight into the window: ``live =
True`` moves the children's canvases out of the Fbo (the chat while a reply streams, ui/chat_view.py), and
``live = False`` puts them back and renders the Fbo once.

The layer's texture starts each render cleared to the window's background color, so it is opaque and the
pixels are those the zone would have drawn straight into the window (text antialiasing included).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from kivy.graphics import (
    Canvas,
    ClearBuffers,
    ClearColor,
    Color,
    Fbo,
    InstructionGroup,
    PopMatrix,
    PushMatrix,
    Rectangle,
    Translate,
)
from kivy.properties import BooleanProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from ui.config_ui import theme

__all__ = ["CachedLayer", "layer_offset"]


class CachedLayer(BoxLayout):
    """A BoxLayout whose children are drawn into an Fbo that is re-rendered only when they change.

    ``live = True`` draws the children straight into the window instead, for a zone that changes at
    nearly every frame for a while (the chat while a reply streams): caching it would cost an Fbo render,
    a wait for it and a textured copy per frame for nothing."""

    live = BooleanProperty(False)

    def __init__(self, **kwargs: Any) -> None:
        self.canvas = Canvas()
        self._cached = InstructionGroup()  # the Fbo and the quad showing its texture (when not live)
        self._direct = InstructionGroup()  # the children's canvases when live
        self.canvas.add(self._cached)
        self.canvas.add(self._direct)
        self.fbo = Fbo(size=(1, 1), with_stencilbuffer=True)
        self._cached.add(self.fbo)
        self._cached.add(Color(1, 1, 1, 1))
        self._quad = Rectangle(pos=(0, 0), size=(1, 1))
        self._cached.add(self._quad)
        with self.fbo.before:
            self._clear = ClearColor(*theme.colors["window_bg"])
            ClearBuffers()
            PushMatrix()
            self._shift = Translate(0, 0)
        with self.fbo.after:
            PopMatrix()
        self.origin = (0, 0)  # where the texture's (0, 0) is, in the coordinates the children use
        self._attach_texture()
        super().__init__(**kwargs)
        self.bind(pos=self._place, size=self._place)
        theme.bind(colors=self._on_theme)

    @contextmanager
    def _children_into_fbo(self) -> Iterator[None]:
        """Children go into the Fbo (or the direct group when live) instead of the layer's own canvas (Kivy's
        FboFloatLayout example)."""
        canvas, self.canvas = self.canvas, self._direct if self.live else self.fbo
        try:
            yield
        finally:
            self.canvas = canvas

    def add_widget(self, widget: Widget, *args: Any, **kwargs: Any) -> None:
        with self._children_into_fbo():
            super().add_widget(widget, *args, **kwargs)

    def remove_widget(self, widget: Widget, *args: Any, **kwargs: Any) -> None:
        with self._children_into_fbo():
            super().remove_widget(widget, *args, **kwargs)

    def on_live(self, _layer: Any, live: bool) -> None:
        """Move the children's canvases between the Fbo and the direct group (in the same order)."""
        source, target = (self.fbo, self._direct) if live else (self._direct, self.fbo)
        for child in reversed(self.children):  # children[0] is drawn last
            source.remove(child.canvas)
            target.add(child.canvas)
        if live:
            self.canvas.remove(self._cached)
        else:
            self.canvas.insert(0, self._cached)
            self.fbo.ask_update()

    def _attach_texture(self) -> None:
        texture = self.fbo.texture
        texture.mag_filter = "nearest"  # drawn 1:1 at whole pixels: never interpolate the text
        texture.min_filter = "nearest"
        self._quad.texture = texture

    def _place(self, *_: Any) -> None:
        width, height = max(1, math.ceil(self.width)), max(1, math.ceil(self.height))
        x, y = round(self.x), round(self.y)
        if self.fbo.size != (width, height):
            self.fbo.size = (width, height)  # a new, empty texture: the content is rendered again
            self._attach_texture()
        self._quad.pos = (x, y)
        self._quad.size = (width, height)
        self._shift.x, self._shift.y = -x, -y
        self.origin = (x, y)
        self.fbo.ask_update()

    def _on_theme(self, *_: Any) -> None:
        self._clear.rgba = theme.colors["window_bg"]
        self.fbo.ask_update()


def layer_offset(widget: Widget) -> tuple[float, float] | None:
    """For a widget drawn inside a CachedLayer: the window position of that layer's texture origin, to
    subtract from window coordinates to get the layer's pixel coordinates. None when drawn on the window."""
    node = widget.parent
    while node is not None and isinstance(node, Widget):
        if isinstance(node, CachedLayer) and not node.live:
            ox, oy = node.origin
            parent = node.parent
            if parent is not None and isinstance(parent, Widget):
                return parent.to_window(ox, oy)
            return float(ox), float(oy)
        node = node.parent
    return None
