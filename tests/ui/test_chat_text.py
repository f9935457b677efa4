"""Text that behaves like text, on the real window: selected with the mouse (real X pointer events through
xdotool) and copied with Ctrl+C to the X clipboard, emoji/CJK/Arabic drawn as glyphs (checked by their
pixels against Roboto's boxes), links opened in the browser (a BROWSER script records the address)."""

from __future__ import annotations

import os
import webbrowser
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from core.conversation import Conversation, Message
from core.embedded.scripted import Script
from tests.ui.app_harness import app_driver_fixture  # noqa: F401  (the app_driver fixture)

pytestmark = pytest.mark.ui
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)


def conversation(*messages: Message) -> Conversation:
    return Conversation(title="t", slug="t", created=NOW, updated=NOW, messages=list(messages))


def reply(text: str) -> Message:
    return Message(role="assistant", content=text, created=NOW, model="m")


def text_items(view: Any) -> list[Any]:
    from ui.message_widgets import TextItem

    return sorted((w for w in view.ids.layout.children if isinstance(w, TextItem)), key=lambda w: w.index)


def char_box(item: Any, offset: int) -> tuple[float, float, float, float]:
    """Window rectangle (x, y, w, h) of character `offset` of a text item, as its Label laid it out."""
    from ui.message_widgets import text_rects

    label = item.text_label
    ((x, y, w, h),) = text_rects(label, item.shown_text(), offset, offset + 1)
    wx, wy = label.to_window(x, y)
    return wx, wy, w, h


def test_select_with_the_mouse_and_copy_with_ctrl_c(app_driver: Any) -> None:
    """A drag from the middle of one paragraph into the next selects that text (drawn highlighted); Ctrl+C
    puts it on the X clipboard, also while the message box has the keyboard; a click clears it."""
    d = app_driver
    d.h.real_input()
    d.ready()
    first = "The first paragraph has several words in it."
    second = "The second one has more words, and a [bracket]."
    d.server.engine.enqueue(Script([f"{first}\n\n{second}"]))
    d.type_and_send("Two paragraphs please")
    d.wait_reply_end()
    view = d.app.chat_view
    d.h.settle(6)
    items = [w for w in text_items(view) if w.role == "assistant"]
    assert [w.shown_text() for w in items] == [first, second]
    start = first.index("paragraph")
    end = second.index(" has")
    x0, y0, _, h0 = char_box(items[0], start)
    x1, y1, _, h1 = char_box(items[1], end)
    d.h.xdotool("mousemove", "--sync", *map(str, d.h.screen_point(x0 + 1, y0 + h0 / 2)))
    d.h.xdotool("mousedown", "1")
    d.h.xdotool("mousemove", "--sync", *map(str, d.h.screen_point(x1 + 1, y1 + h1 / 2)))
    d.h.xdotool("mouseup", "1")
    expected = f"{first[start:]}\n\n{second[:end]}"
    assert view.selected_text() == expected
    assert items[0].selection == [start, len(first)] and items[1].selection == [0, end]
    # drawn where the text is: the selected characters sit on the selection color, the others do not
    from PIL import Image

    shot = Image.open(d.shot("chat_text_selected")).convert("RGB")

    def tinted(item: Any, offset: int) -> int:
        x, y, w, h = char_box(item, offset)
        top = d.h.window.height - (y + h)
        box = shot.crop((int(x), int(top), int(x + w), int(top + h)))
        raw = box.tobytes()
        return sum(1 for k in range(0, len(raw), 3) if raw[k + 2] > raw[k] + 25)

    assert tinted(items[0], start + 1) > 20 and tinted(items[1], 1) > 20
    assert tinted(items[0], 1) == 0 and tinted(items[1], end + 3) == 0
    # Ctrl+C copies it, also while the message box (with no selection of its own) has the keyboard
    d.app.focus_input(force=True)
    d.wait(lambda: d.app.input_bar.ids.input.focus, "the message box to have the keyboard")
    d.h.xdotool("key", "ctrl+c")
    assert d.h.read_clipboard() == expected
    # a click (no drag) clears the selection
    d.h.xdotool("click", "1")
    assert view.selected_text() == "" and items[0].selection == []


def test_double_click_selects_a_word(kivy_harness: Any) -> None:
    from kivy.tests.common import UnitTestTouch

    from ui.chat_view import ChatView

    view = kivy_harness.mount(ChatView())
    view.show_conversation(conversation(reply("Pick exactly this word please.")))
    kivy_harness.settle(6)
    (item,) = text_items(view)
    x, y, _, h = char_box(item, item.shown_text().index("this") + 1)
    for _ in range(2):
        touch = UnitTestTouch(x + 1, y + h / 2)
        touch.is_double_tap = _ > 0
        touch.touch_down()
        kivy_harness.frames(1)
        touch.touch_up()
        kivy_harness.frames(1)
    assert view.selected_text() == "this"


GLYPHS = {"emoji": "😀😎", "cjk": "中文", "arabic": "مرحبا"}


def glyph_crops(h: Any, item: Any, offsets: list[int]) -> list[bytes]:
    """Pixels of characters `offsets` of a text item as shown on the window (RGB bytes of each box)."""
    from PIL import Image

    shot = Image.open(h.screenshot("chat_text_glyphs_probe")).convert("L")
    crops = []
    for offset in offsets:
        x, y, w, hh = char_box(item, offset)
        top = h.window.height - (y + hh)
        crops.append(shot.crop((int(x), int(top), int(x + w), int(top + hh))))
    return crops


def ink(crop: Any) -> int:
    """Pixels clearly darker than the background (text is dark on a light bubble)."""
    return sum(1 for p in crop.tobytes() if p < 160)


def test_emoji_cjk_and_arabic_render_as_glyphs_not_boxes(kivy_harness: Any) -> None:
    """Each sample is drawn by a system font: two different characters give two different pictures with
    ink. Drawn with Roboto alone (what the app did before), every such character is the same empty box."""
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.label import Label

    from ui.chat_view import ChatView
    from ui.config_ui import theme
    from ui.fonts import fontconfig_available

    assert fontconfig_available(), "fontconfig is needed (apt-get install fontconfig)"
    box = BoxLayout(orientation="vertical")
    view = ChatView()
    plain = Label(
        text="  ".join(GLYPHS.values()),
        font_name="Roboto",
        font_size=30,
        color=theme.colors["text"],
        size_hint_y=0.2,
    )
    box.add_widget(view)
    box.add_widget(plain)
    kivy_harness.mount(box)
    view.show_conversation(conversation(reply("\n\n".join(f"{k}: {v}" for k, v in GLYPHS.items()))))
    kivy_harness.settle(8)
    items = text_items(view)
    assert len(items) == 3
    for item, name in zip(items, GLYPHS, strict=True):
        shown = item.shown_text()
        assert "[font=" in item.ids.lbl.text, (name, item.ids.lbl.text)
        offsets = [len(name) + 2, len(name) + 3]  # the first two characters of the sample
        a, b = glyph_crops(kivy_harness, item, offsets)
        assert ink(a) > 5 and ink(b) > 5, (name, ink(a), ink(b))
        assert a.tobytes() != b.tobytes(), f"{name}: {shown[offsets[0] : offsets[1] + 1]!r} drawn the same"
    # the same characters through Roboto: identical boxes (the check above would catch them)
    kivy_harness.frames(2)
    from PIL import Image

    from ui.message_widgets import text_rects

    shot = Image.open(kivy_harness.screenshot("chat_text_glyphs_roboto")).convert("L")
    text = plain.text
    boxes = []
    for offset in (0, 1, 4, 5):  # 😀 😎 中 文
        ((x, y, w, hh),) = text_rects(plain, text, offset, offset + 1)
        wx, wy = plain.to_window(x, y)
        top = kivy_harness.window.height - (wy + hh)
        boxes.append(shot.crop((int(wx), int(top), int(wx + w), int(top + hh))).tobytes())
    assert len(set(boxes)) == 1, "Roboto draws every missing character as the same box"
    kivy_harness.screenshot("chat_text_glyphs")


def test_titles_in_the_list_use_system_fonts_too(app_driver: Any) -> None:
    d = app_driver
    d.ready()
    d.server.engine.enqueue(Script(["ok"]))
    d.type_and_send("中文 😀 مرحبا")
    d.wait_reply_end()
    slug = d.app.conv.slug
    d.wait(lambda: any(r.get("slug") == slug for r in d.ids.conv_list.rows()), "the row")
    d.h.settle(4)
    from ui.conversation_list import ConvRow

    (row,) = [w for w in d.ids.conv_list.ids.rv.children[0].children if isinstance(w, ConvRow)]
    assert row.ids.title_lbl.text.count("[font=") >= 2
    assert "[font=" in d.ids.conv_title.text
    d.shot("app_title_scripts")


def test_clicking_a_link_opens_it_in_the_browser(
    kivy_harness: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """BROWSER names a script that records the address it is given, as a browser would receive it."""
    from kivy.tests.common import UnitTestTouch

    from ui.chat_view import ChatView

    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{opened}"\n', encoding="utf-8")
    browser.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(browser))
    monkeypatch.setattr(webbrowser, "_tryorder", None)  # read BROWSER again (the module caches it)
    view = kivy_harness.mount(ChatView())
    url = "https://example.com/docs?q=1&x=[2]"
    view.show_conversation(
        conversation(reply(f"Read [the docs]({url}) or [this mirror](ftp://example.com/docs) first."))
    )
    kivy_harness.settle(6)
    (item,) = text_items(view)
    label = item.ids.lbl
    refs = label.refs
    assert len(refs) == 2

    def click_ref(ref: str) -> None:
        x1, y1, x2, y2 = refs[ref][0]  # in the texture: from its top left
        tw, th = label.texture_size
        x = label.center_x - tw / 2 + (x1 + x2) / 2
        y = label.center_y + th / 2 - (y1 + y2) / 2
        wx, wy = label.to_window(x, y)
        touch = UnitTestTouch(wx, wy)
        touch.touch_down()
        kivy_harness.frames(1)
        touch.touch_up()
        kivy_harness.frames(2)

    web = next(r for r in refs if r.startswith("https:"))
    click_ref(web)
    kivy_harness.wait_until(lambda: opened.exists() and opened.read_text().strip(), message="the browser")
    assert opened.read_text(encoding="utf-8").splitlines() == [url.replace("[", "%5B").replace("]", "%5D")]
    click_ref(next(r for r in refs if r.startswith("ftp:")))  # not a web or mail address: not opened
    kivy_harness.frames(10)
    assert len(opened.read_text(encoding="utf-8").splitlines()) == 1
    assert os.environ["BROWSER"] == str(browser)
