"""Text and code files in messages, through the whole window: the Attach button (the app's own dialog and the
system's), files dropped on the window, chips, refusals, the sent block, the collapsed file in the chat."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.attachments import Attachment, split_attachments
from core.embedded.scripted import Script
from core.sav_manager import read_conversation
from tests.ui.app_harness import AppDriver, app_driver_fixture  # noqa: F401  (the app_driver fixture)
from tests.ui.test_app_import_export import _driver, _screen_shot, _zenity_type_path, _zenity_window

pytestmark = pytest.mark.ui

CODE = 'def area(r):\n    """Circle area; ``` inside stays inside."""\n    return 3.14159 * r ** 2\n'


@pytest.fixture
def app_kivy_dialog(kivy_harness, scripted_server, ia_home, monkeypatch) -> Iterator[AppDriver]:
    yield from _driver(kivy_harness, scripted_server, ia_home, monkeypatch, "kivy")


@pytest.fixture
def app_native_dialog(kivy_harness, scripted_server, ia_home, monkeypatch) -> Iterator[AppDriver]:
    yield from _driver(kivy_harness, scripted_server, ia_home, monkeypatch, "native")


def _views(d: AppDriver, kind: str) -> list[Any]:
    layout = d.app.chat_view.ids.layout
    return sorted((w for w in layout.children if type(w).__name__ == kind), key=lambda w: w.index)


def _chips(d: AppDriver, kind: str) -> list[Any]:
    return [c for c in d.app.input_bar.ids.chips.children if type(c).__name__ == kind]


def _x(chip: Any) -> Any:
    return next(w for w in chip.walk(restrict=True) if getattr(w, "text", None) == "x")


def test_attached_file_is_sent_as_a_named_block_saved_and_shown_collapsed(
    app_kivy_dialog: AppDriver, tmp_path: Path
) -> None:
    d = app_kivy_dialog
    d.ready()
    source = tmp_path / "circle.py"
    source.write_text(CODE, encoding="utf-8")
    bar = d.app.input_bar
    d.press(bar.ids.attach)
    dialog = d.wait(lambda: bar.file_popup, "the app's own file dialog")
    assert dialog.title == "Attach a file" and dialog.accept_label == "Attach"
    dialog.go_to(str(tmp_path))
    row = d.wait(lambda: dialog.row_widget("circle.py"), "circle.py in the dialog")
    d.h.settle(4)
    d.h.click(row)
    d.wait(lambda: dialog.selection == str(source.resolve()), "circle.py selected")
    d.press(dialog.ids.accept_btn)
    (chip,) = d.wait(lambda: _chips(d, "FileChip"), "the file's chip")
    assert chip.text == "circle.py · 3 lines"
    d.wait(lambda: bar.ids.input.focus, "the focus back in the box")
    d.press(bar.ids.attach)  # the dialog opens again where the last file was chosen; Escape closes it
    again = d.wait(lambda: bar.file_popup if bar.file_popup is not dialog else None, "the dialog again")
    assert again.folder == str(tmp_path.resolve())
    again.dismiss()
    d.h.settle(4)
    d.press(bar.ids.input)
    d.h.type_text("What does this do?")
    d.shot("app_file_chip")
    d.server.engine.enqueue(Script(["It computes a circle's area."]))
    d.h.key("enter")
    d.wait_reply_end()

    sent = d.server.engine.bodies("/api/chat")[-1]["messages"][-1]["content"]
    assert sent == f'What does this do?\n\nFile: circle.py\n````python file="circle.py"\n{CODE}````'
    assert bar.files == [] and _chips(d, "FileChip") == []
    path = d.home / "sav" / d.app.conv.slug / "conversation.md"
    assert read_conversation(path).messages[0].content == sent  # saved exactly
    assert d.app.conv.title == "What does this do?"  # the title is the text, not the file

    # In the chat: the typed text, then the file collapsed; a click shows its code, another hides it.
    d.h.settle(6)
    (item,) = d.wait(lambda: _views(d, "FileItem"), "the file in the chat")
    assert "circle.py · 3 lines" in item.title and not item.expanded
    assert not any("3.14159" in w.markup for w in _views(d, "CodeItem"))
    d.shot("app_file_collapsed")
    d.h.click(item.ids.file_btn)
    d.wait(lambda: any("3.14159" in w.markup for w in _views(d, "CodeItem")), "the file's code shown")
    assert d.app.chat_view.model.code("0:file0") == CODE
    d.shot("app_file_expanded")
    item = _views(d, "FileItem")[0]
    assert item.expanded
    d.h.click(item.ids.file_btn)
    d.wait(lambda: not _views(d, "CodeItem"), "the file's code hidden again")


def test_dropped_files_become_chips_refusals_say_why_and_nothing_is_lost(
    app_driver: AppDriver, tmp_path: Path
) -> None:
    d = app_driver
    d.ready()
    bar = d.app.input_bar
    d.h.type_text("keep this text")
    good = tmp_path / "notes.md"
    good.write_text("# Notes\n\n- one\n- two\n", encoding="utf-8")
    big = tmp_path / "dump.log"
    big.write_bytes(b"log line\n" * 20_000)
    latin = tmp_path / "old.txt"
    latin.write_bytes("déjà".encode("latin-1"))
    # SDL reports a drop as Window.on_drop_file(path as UTF-8 bytes, x, y): dispatched the same way here.
    window = d.h.window
    window.dispatch("on_drop_file", str(good).encode(), 300, 300)
    reasons = {big: "it is too big", latin: "it is not UTF-8 text", tmp_path: "it is a folder"}
    for refused, reason in reasons.items():
        window.dispatch("on_drop_file", str(refused).encode(), 300, 300)
        d.h.frames(2)
        assert bar.notice_is_error and f"Cannot attach {refused.name}: {reason}" in bar.notice
        d.shot(f"app_file_refused_{refused.suffix.strip('.') or 'folder'}")
    (chip,) = _chips(d, "FileChip")
    assert chip.text == "notes.md · 4 lines"
    assert bar.ids.input.text == "keep this text"  # what was typed is untouched
    d.h.click(_x(chip))
    d.h.frames(2)
    assert bar.files == [] and _chips(d, "FileChip") == []


def test_a_too_big_file_is_refused_with_its_size_and_the_limit(app_driver: AppDriver, tmp_path: Path) -> None:
    d = app_driver
    d.ready()
    big = tmp_path / "dump.log"
    big.write_bytes(b"x" * 180_000)
    d.h.window.dispatch("on_drop_file", str(big).encode(), 300, 300)
    d.h.frames(2)
    notice = d.app.input_bar.ids.notice
    assert notice.text == "Cannot attach dump.log: it is too big (175.8 KB; the limit is 100.0 KB)."
    assert notice.height > 0 and notice.texture_size[1] > 0  # shown under the box


def test_a_message_with_only_a_file_is_sent(app_driver: AppDriver, tmp_path: Path) -> None:
    d = app_driver
    d.ready()
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"a": 1}), encoding="utf-8")
    assert d.app.input_bar.add_files([data]) == []
    d.server.engine.enqueue(Script(["A JSON object."]))
    d.wait(lambda: d.app.input_bar.ids.input.focus, "the input to have focus")
    d.h.key("enter")
    d.wait_reply_end()
    sent = d.server.engine.bodies("/api/chat")[-1]["messages"][-1]["content"]
    assert split_attachments(sent) == [Attachment("data.json", "json", '{"a": 1}\n')]
    assert d.app.conv.title == "data.json"


def test_a_message_that_cannot_be_saved_keeps_its_text_and_its_files(
    app_driver: AppDriver, tmp_path: Path
) -> None:
    d = app_driver
    d.ready()
    (d.home / "sav").rmdir() if (d.home / "sav").is_dir() else None
    (d.home / "sav").write_text("not a folder", encoding="utf-8")  # every write under sav/ now fails
    source = tmp_path / "circle.py"
    source.write_text(CODE, encoding="utf-8")
    assert d.app.input_bar.add_files([source]) == []
    d.type_and_send("this must not be lost")
    d.wait(lambda: d.ids.banner.shown, "the banner")
    bar = d.app.input_bar
    assert bar.ids.input.text == "this must not be lost"
    assert [(f.name, f.text) for f in bar.files] == [("circle.py", CODE)]
    assert [c.text for c in _chips(d, "FileChip")] == ["circle.py · 3 lines"]


def test_attach_with_the_system_dialog(app_native_dialog: AppDriver, tmp_path: Path) -> None:
    d = app_native_dialog
    d.ready()
    source = tmp_path / "circle.py"
    source.write_text(CODE, encoding="utf-8")
    d.press(d.app.input_bar.ids.attach)
    assert not any(type(w).__name__ == "FileDialog" for w in d.h.window.children)  # the system's, not ours
    window = _zenity_window(d, "Attach a file")
    _screen_shot(d, "app_attach_zenity")
    _zenity_type_path(d, window, source, save=False)
    (chip,) = d.wait(lambda: _chips(d, "FileChip"), "the file's chip", timeout=30)
    assert chip.text == "circle.py · 3 lines"
