"""InputBar in a real Kivy window under Xvfb: keys, Send/Stop, attachments, drops, the file chooser, big pastes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

pytestmark = pytest.mark.ui


@pytest.fixture
def bar(kivy_harness: Any) -> Any:
    from ui.input_bar import InputBar

    widget = InputBar()
    sent: list[tuple[str, list[Path]]] = []
    stops: list[bool] = []
    widget.bind(on_send=lambda _w, text, images: sent.append((text, images)))
    widget.bind(on_stop=lambda _w: stops.append(True))
    widget.sent, widget.stops = sent, stops
    kivy_harness.mount(widget)
    widget.ids.input.focus = True
    kivy_harness.frames(2)
    return widget


@pytest.fixture
def png(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    Image.new("RGB", (80, 60), (30, 120, 200)).save(path)
    return path


def chips(bar: Any, kind: str) -> list[Any]:
    return [c for c in bar.ids.chips.children if type(c).__name__ == kind]


def x_button(chip: Any) -> Any:
    return next(w for w in chip.walk(restrict=True) if getattr(w, "text", None) == "x")


def test_enter_sends_and_shift_enter_adds_a_line(kivy_harness: Any, bar: Any) -> None:
    kivy_harness.type_text("first line")
    kivy_harness.key("enter", ["shift"])
    kivy_harness.type_text("second [line] & more")
    assert bar.ids.input.text == "first line\nsecond [line] & more"
    assert bar.sent == []
    kivy_harness.key("enter")
    assert bar.sent == [("first line\nsecond [line] & more", [])]
    # the bar never clears itself: the shell clears only once the send has started
    assert bar.ids.input.text == "first line\nsecond [line] & more"
    bar.clear()
    assert bar.ids.input.text == "" and bar.images == [] and bar.pasted == []


def test_empty_message_is_not_sent_and_says_why(kivy_harness: Any, bar: Any) -> None:
    kivy_harness.type_text("   ")
    kivy_harness.key("enter")
    assert bar.sent == []
    assert "Type a message" in bar.notice and bar.notice_is_error
    assert bar.ids.input.text == "   "


def test_send_button_becomes_stop_while_streaming(kivy_harness: Any, bar: Any) -> None:
    kivy_harness.type_text("hello")
    kivy_harness.click(bar.ids.send)
    assert bar.sent == [("hello", [])]
    bar.streaming = True
    kivy_harness.frames(2)
    assert bar.ids.send.text == "Stop"
    kivy_harness.key("enter")  # Enter does not send a second message during a reply
    assert len(bar.sent) == 1 and "Stop" in bar.notice
    kivy_harness.click(bar.ids.send)
    assert bar.stops == [True]
    bar.streaming = False
    kivy_harness.frames(2)
    assert bar.ids.send.text == "Send"
    kivy_harness.screenshot("input_bar_basic")


def test_attach_image_shows_a_thumbnail_that_can_be_removed(kivy_harness: Any, bar: Any, png: Path) -> None:
    assert bar.add_images([png]) == []
    kivy_harness.frames(3)
    (thumb,) = chips(bar, "ImageChip")
    assert thumb.source == str(png)
    kivy_harness.type_text("what is this?")
    kivy_harness.key("enter")
    assert bar.sent == [("what is this?", [png])]
    kivy_harness.screenshot("input_bar_thumbnail")
    kivy_harness.click(x_button(thumb))
    assert bar.images == [] and chips(bar, "ImageChip") == []


def test_non_images_and_broken_images_are_refused_with_a_message(bar: Any, tmp_path: Path, png: Path) -> None:
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not an image")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG garbage")
    problems = bar.add_images([text_file, broken, tmp_path / "missing.jpg", png])
    assert len(problems) == 3
    assert "Not an image: notes.txt" in problems[0]
    assert "broken.png" in problems[1] and "not a readable image" in problems[1]
    assert "missing.jpg" in problems[2] and "does not exist" in problems[2]
    assert bar.images == [str(png)]  # the good one is still attached
    assert bar.notice_is_error and "notes.txt" in bar.notice


def test_files_dropped_on_the_window_are_attached_as_images_or_text(
    kivy_harness: Any, bar: Any, png: Path, tmp_path: Path
) -> None:
    # SDL reports a drop as Window.on_drop_file(path as bytes, x, y): dispatched here the same way.
    kivy_harness.window.dispatch("on_drop_file", str(png).encode(), 100, 100)
    kivy_harness.frames(2)
    assert bar.images == [str(png)]
    other = tmp_path / "data.csv"
    other.write_text("a,b\n1,2\n")
    kivy_harness.window.dispatch("on_drop_file", str(other).encode(), 100, 100)
    kivy_harness.frames(2)
    assert [f.name for f in bar.files] == ["data.csv"] and bar.images == [str(png)]
    (chip,) = chips(bar, "FileChip")
    assert chip.text == "data.csv · 2 lines"
    blob = tmp_path / "blob.dat"
    blob.write_bytes(b"\x00\x01")
    kivy_harness.window.dispatch("on_drop_file", str(blob).encode(), 100, 100)
    assert "Cannot attach blob.dat: it is a binary file, not text." in bar.notice and bar.notice_is_error
    assert len(bar.files) == 1 and bar.images == [str(png)]  # nothing attached before is lost


def test_small_paste_goes_into_the_box(kivy_harness: Any, bar: Any) -> None:
    kivy_harness.write_clipboard("pasted [text]\nline two")
    kivy_harness.key("v", ["ctrl"], text="v")
    kivy_harness.wait_until(lambda: bar.ids.input.text, message="paste")
    assert bar.ids.input.text == "pasted [text]\nline two" and bar.pasted == []


def test_five_megabyte_paste_becomes_a_chip_sent_with_the_text(kivy_harness: Any, bar: Any) -> None:
    big = "".join(f"log line {i:07d} with some padding text here\n" for i in range(120_000))[
        : 5 * 1024 * 1024
    ]
    assert len(big) == 5 * 1024 * 1024
    kivy_harness.write_clipboard(big)
    kivy_harness.type_text("Summarise this log:")
    kivy_harness.key("v", ["ctrl"], text="v")
    kivy_harness.wait_until(lambda: bar.pasted, message="the big paste to arrive")
    assert bar.pasted == [big]
    assert bar.ids.input.text == "Summarise this log:"  # the TextInput never holds the megabytes
    (chip,) = chips(bar, "PasteChip")
    assert chip.text.startswith("Pasted text (5.0 MB, ")
    kivy_harness.frames(3)
    kivy_harness.screenshot("input_bar_big_paste")
    kivy_harness.key("enter")
    assert bar.sent == [("Summarise this log:\n\n" + big, [])]
    kivy_harness.click(x_button(chip))
    assert bar.pasted == []


def test_focus_input_focuses_the_box(kivy_harness: Any, bar: Any) -> None:
    bar.ids.input.focus = False
    kivy_harness.frames(1)
    bar.focus_input()
    kivy_harness.wait_until(lambda: bar.ids.input.focus, message="focus")


def test_files_are_sent_after_the_text_and_restore_puts_them_back(
    kivy_harness: Any, bar: Any, tmp_path: Path
) -> None:
    from core.attachments import Attachment, message_with_files

    code = tmp_path / "a.py"
    code.write_text("x = 1\n")
    assert bar.add_files([code, code]) == []  # the same file twice is attached once
    kivy_harness.type_text("look")
    kivy_harness.key("enter")
    expected = message_with_files("look", [Attachment("a.py", "python", "x = 1\n")])
    assert bar.sent == [(expected, [])]
    bar.clear()
    assert bar.files == [] and chips(bar, "FileChip") == []
    bar.restore(expected)  # what the shell does when a send could not start
    kivy_harness.frames(2)
    assert bar.ids.input.text == "look" and [f.name for f in bar.files] == ["a.py"]
    assert [c.text for c in chips(bar, "FileChip")] == ["a.py · 1 line"]
    kivy_harness.screenshot("input_bar_file_chip")
