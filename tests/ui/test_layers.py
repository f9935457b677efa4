"""Drawing economies of the window, checked on real pixels: scroll views clip with a scissor instead of the
stencil buffer, zones are CachedLayers re-rendered only when something in them changes, and the app picks no
multisampling when OpenGL renders in software (ui/clip.py, ui/layer.py, ui/graphics.py)."""

from __future__ import annotations

import pytest
from PIL import Image

from tests.ui.app_harness import app_driver_fixture  # noqa: F401
from ui.graphics import multisamples, software_rendering

pytestmark = pytest.mark.ui

RED = (1, 0, 0, 1)
GREEN = (0, 1, 0, 1)
BLUE = (0, 0, 1, 1)


def pixel(path, x: int, y: int, window_height: int) -> tuple[int, int, int]:
    """RGB of window pixel (x, y) (Kivy's origin is bottom left, the PNG's top left)."""
    with Image.open(path) as image:
        return image.convert("RGB").getpixel((x, window_height - 1 - y))


def close(rgb: tuple[int, int, int], rgba: tuple[float, ...]) -> bool:
    return all(abs(a - round(b * 255)) <= 8 for a, b in zip(rgb, rgba[:3], strict=False))


def painted(color, **kwargs):
    """A plain widget filled with `color`."""
    from kivy.graphics import Color, Rectangle
    from kivy.uix.widget import Widget

    widget = Widget(**kwargs)
    with widget.canvas:
        widget.paint = Color(*color)
        rect = Rectangle(pos=widget.pos, size=widget.size)
    widget.bind(pos=lambda w, v: setattr(rect, "pos", v), size=lambda w, v: setattr(rect, "size", v))
    return widget


# ----- multisampling ----------------------------------------------------------------------------------


def test_multisampling_is_off_in_software_and_on_with_a_gpu(tmp_path):
    assert multisamples("auto", software=True) == 0
    assert multisamples("auto", software=False) == 2
    assert multisamples(4) == 4 and multisamples("0") == 0
    assert multisamples("nonsense", software=True) == 0  # a bad setting falls back to auto
    assert software_rendering({"LIBGL_ALWAYS_SOFTWARE": "1"}, dri=tmp_path)
    assert software_rendering({"GALLIUM_DRIVER": "llvmpipe"}, dri=tmp_path)
    (tmp_path / "renderD128").touch()
    assert not software_rendering({}, dri=tmp_path)  # a GPU device node: hardware rendering
    (tmp_path / "renderD128").unlink()
    assert software_rendering({}, dri=tmp_path)  # none: software
    assert software_rendering({}, dri=tmp_path / "missing")


# ----- scissor clipping -------------------------------------------------------------------------------


def test_scroll_view_clips_its_content_with_a_scissor(kivy_harness):
    """A tall green content scrolled inside a ClipScrollView never paints over the red band above it; no
    stencil instruction is left in its canvas."""
    from kivy.graphics.stencil_instructions import StencilPush
    from kivy.uix.boxlayout import BoxLayout

    from ui.clip import ClipScrollView

    root = BoxLayout(orientation="vertical")
    band = painted(RED, size_hint_y=None, height=200)
    scroll = ClipScrollView(do_scroll_x=False)
    content = painted(GREEN, size_hint_y=None, height=2000)
    scroll.add_widget(content)
    root.add_widget(band)
    root.add_widget(scroll)
    kivy_harness.mount(root)
    scroll.scroll_y = 0.5
    kivy_harness.settle()
    assert not any(isinstance(i, StencilPush) for i in scroll.canvas.before.children)
    height = kivy_harness.window.height
    shot = kivy_harness.screenshot("clip_scissor")
    assert close(pixel(shot, 100, height - 100, height), RED)  # the band: content clipped away
    assert close(pixel(shot, 100, 100, height), GREEN)  # inside the scroll view: content
    assert scroll.clip_rect == (0, 0, kivy_harness.window.width, height - 200)


def test_the_scissor_follows_an_ancestor_that_moves(kivy_harness):
    """Moving a RelativeLayout ancestor moves the widget on screen without changing its own pos."""
    from kivy.uix.relativelayout import RelativeLayout
    from kivy.uix.widget import Widget

    from ui.clip import ClipScrollView

    outer = Widget()
    holder = RelativeLayout(size_hint=(None, None), size=(300, 200), pos=(50, 40))
    scroll = ClipScrollView(size_hint=(None, None), size=(300, 200), pos=(0, 0))
    holder.add_widget(scroll)
    outer.add_widget(holder)
    kivy_harness.mount(outer)
    kivy_harness.settle()
    assert scroll.clip_rect == (50, 40, 300, 200)
    holder.pos = (120, 90)
    kivy_harness.settle()
    assert scroll.pos == [0, 0] and scroll.clip_rect == (120, 90, 300, 200)


# ----- cached layers ------------------------------------------------------------------------------------


def _count_renders(layer):
    """A Callback inside the layer's Fbo: it runs only when the Fbo renders its content."""
    from kivy.graphics import Callback

    calls = []
    layer.fbo.before.add(Callback(lambda *_: calls.append(1)))
    return calls


def test_a_layer_draws_its_zone_where_it_is_and_only_when_it_changes(kivy_harness):
    from kivy.uix.boxlayout import BoxLayout

    from ui.layer import CachedLayer

    root = BoxLayout()
    left = painted(BLUE)
    layer = CachedLayer()
    inside = painted(GREEN)
    layer.add_widget(inside)
    root.add_widget(left)
    root.add_widget(layer)
    kivy_harness.mount(root)
    kivy_harness.settle()
    width, height = kivy_harness.window.size
    shot = kivy_harness.screenshot("layer_first")
    assert close(pixel(shot, width // 4, height // 2, height), BLUE)
    assert close(pixel(shot, 3 * width // 4, height // 2, height), GREEN)
    assert inside.pos == layer.pos and inside.size == layer.size  # laid out like a BoxLayout child

    renders = _count_renders(layer)
    kivy_harness.settle()
    renders.clear()
    left.paint.rgba = RED  # something outside the layer changes: the window is drawn again...
    kivy_harness.settle()
    assert renders == []  # ...but the layer's content is not
    inside.paint.rgba = BLUE  # something inside changes: the layer renders again
    kivy_harness.settle()
    assert renders
    shot = kivy_harness.screenshot("layer_changed")
    assert close(pixel(shot, width // 4, height // 2, height), RED)
    assert close(pixel(shot, 3 * width // 4, height // 2, height), BLUE)


def test_touches_and_scissors_work_inside_a_layer(kivy_harness):
    """A button in a layer receives clicks at its window position; a scroll view in a layer sets its
    scissor in the layer's pixels and still clips on screen."""
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.button import Button

    from ui.clip import ClipScrollView
    from ui.layer import CachedLayer

    root = BoxLayout()
    root.add_widget(painted(RED))
    layer = CachedLayer(orientation="vertical")
    button = Button(text="press", size_hint_y=None, height=100)
    pressed = []
    button.bind(on_release=lambda *_: pressed.append(True))
    scroll = ClipScrollView(do_scroll_x=False)
    scroll.add_widget(painted(GREEN, size_hint_y=None, height=3000))
    layer.add_widget(button)
    layer.add_widget(scroll)
    root.add_widget(layer)
    kivy_harness.mount(root)
    kivy_harness.settle()
    kivy_harness.click(button)
    assert pressed == [True]
    width, height = kivy_harness.window.size
    assert scroll.clip_rect == (0, 0, width // 2, height - 100)  # the layer's pixels, not the window's
    scroll.scroll_y = 0.3
    kivy_harness.settle()
    shot = kivy_harness.screenshot("layer_scroll")
    assert close(pixel(shot, width // 4, height // 2, height), RED)  # left of the layer: untouched
    assert close(pixel(shot, 3 * width // 4, height // 3, height), GREEN)
    assert not close(pixel(shot, 3 * width // 4, height - 50, height), GREEN)  # the button, not content


def test_a_live_layer_draws_its_children_straight_into_the_window_then_caches_again(kivy_harness):
    """live = True: a change inside is drawn without rendering the layer's Fbo, at the right place, and a
    scroll view inside clips in window pixels; live = False: the Fbo shows the current content again."""
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.button import Button

    from ui.clip import ClipScrollView
    from ui.layer import CachedLayer

    root = BoxLayout()
    root.add_widget(painted(RED))
    layer = CachedLayer(orientation="vertical")
    layer.add_widget(Button(text="top", size_hint_y=None, height=100))
    scroll = ClipScrollView(do_scroll_x=False)
    content = painted(GREEN, size_hint_y=None, height=3000)
    scroll.add_widget(content)
    layer.add_widget(scroll)
    root.add_widget(layer)
    kivy_harness.mount(root)
    kivy_harness.settle()
    width, height = kivy_harness.window.size
    renders = _count_renders(layer)
    layer.live = True
    kivy_harness.settle()
    renders.clear()
    content.paint.rgba = BLUE
    scroll.scroll_y = 0.4
    kivy_harness.settle()
    assert renders == []  # drawn straight: the Fbo was not rendered
    assert scroll.clip_rect == (width // 2, 0, width // 2, height - 100)  # window pixels
    shot = kivy_harness.screenshot("layer_live")
    assert close(pixel(shot, width // 4, height // 2, height), RED)
    assert close(pixel(shot, 3 * width // 4, height // 3, height), BLUE)
    assert not close(pixel(shot, 3 * width // 4, height - 50, height), BLUE)  # clipped under the button

    layer.live = False
    content.paint.rgba = GREEN
    kivy_harness.settle()
    assert renders  # cached again: the Fbo renders the current content
    assert scroll.clip_rect == (0, 0, width // 2, height - 100)  # the layer's pixels
    from kivy.animation import Animation

    kivy_harness.wait_until(lambda: not Animation._instances, message="the scroll bar's fade-out")
    kivy_harness.settle(30)
    renders.clear()
    kivy_harness.settle()
    assert renders == []  # nothing changes: nothing is rendered
    shot = kivy_harness.screenshot("layer_cached_again")
    assert close(pixel(shot, width // 4, height // 2, height), RED)
    assert close(pixel(shot, 3 * width // 4, height // 3, height), GREEN)
    assert not close(pixel(shot, 3 * width // 4, height - 50, height), GREEN)


def test_the_app_zones_are_layers_and_nothing_clips_with_the_stencil(app_driver):
    """The shape of the app's window these economies rely on, and a frame where only the input's cursor
    blinks re-renders the input's layer alone."""
    from kivy.graphics.stencil_instructions import StencilPush

    from ui.layer import CachedLayer

    d = app_driver
    d.ready()
    ids = d.app.root.ids
    layers = {name: ids[name].parent for name in ("topbar", "conv_list", "chat_zone", "input_zone", "info")}
    assert all(isinstance(layer, CachedLayer) for layer in layers.values()), layers
    stencils = [
        w for w in d.app.root.walk() if any(isinstance(i, StencilPush) for i in w.canvas.before.children)
    ]
    assert stencils == []
    counts = {name: _count_renders(layer) for name, layer in layers.items()}
    from kivy.animation import Animation

    # the scroll bars fade out (0.5 s) a while after the start's updates: let that begin and finish
    d.h.frames(90)
    d.h.wait_until(lambda: not Animation._instances, message="the scroll bars' fade-out")
    d.h.settle(5)
    for calls in counts.values():
        calls.clear()
    d.app.input_bar.focus_input()
    d.h.frames(60)  # about a second: the cursor blinks
    assert counts["input_zone"]
    assert not counts["conv_list"] and not counts["info"] and not counts["topbar"] and not counts["chat_zone"]


def test_the_app_window_really_has_no_multisampling_in_software(x_display, tmp_path):
    """What main_ui.py does, in a fresh process: configure the window, import the app, open the window; the
    GL context must have 0 samples (importing config_ui first used to open the window with Kivy's default)
    and the window opens at the remembered size."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = (
        "import main_ui\n"  # the real entry module: it must import nothing that opens the window
        "from ui.graphics import configure_window, software_rendering\n"
        "configure_window({'width': 900, 'height': 640})\n"  # settings.ui: the remembered size
        "import ui.app\n"
        "from kivy.base import EventLoop\n"
        "EventLoop.ensure_window()\n"
        "from kivy.graphics import opengl as gl\n"
        "print('samples', gl.glGetIntegerv(0x80A9)[0], 'software', software_rendering())\n"  # GL_SAMPLES
        "print('size', *EventLoop.window.size)\n"
    )
    env = dict(os.environ, DISPLAY=x_display, KIVY_NO_ARGS="1", KIVY_HOME=str(tmp_path))
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("samples")), "")
    assert line, out.stdout + out.stderr
    samples, software = int(line.split()[1]), line.split()[3] == "True"
    assert samples == 0 if software else samples > 0, line
    assert "size 900 640" in out.stdout  # opened at the remembered size, not resized once open
