"""Import and export in the real window: the list's Import button and a row's export menu, a file dialog driven
like a person (the app's own under "kivy"; the system's zenity through plyer under "native"), the files written
and read, the imported conversation listed, opened and searchable, and a bad file refused with a banner."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from config import Settings
from core.session_manager import SessionManager
from tests.fixtures.exports import PNG, chatgpt_conversation, chatgpt_zip, openwebui_chat, png
from tests.ui.app_harness import AppDriver, keep_window_size, make_app, start, stop

pytestmark = pytest.mark.ui

REPLY = "Sure:\n\n```python\ndef area(r):\n    return 3.14159 * r ** 2\n```\n\nThat is all — ça marche."


def _driver(kivy_harness, scripted_server, ia_home: Path, monkeypatch, dialog: str) -> Iterator[AppDriver]:
    monkeypatch.setenv("OLLAMA_HOST", scripted_server.url)
    keep_window_size(ia_home, kivy_harness, f'file_dialog = "{dialog}"\n')
    app = make_app()
    start(app, kivy_harness)
    driver = AppDriver(app=app, h=kivy_harness, home=ia_home)
    driver.server = scripted_server  # type: ignore[attr-defined]
    try:
        yield driver
    finally:
        stop(app, kivy_harness)


@pytest.fixture
def app_kivy_dialog(kivy_harness, scripted_server, ia_home, monkeypatch) -> Iterator[AppDriver]:
    """The app with its own file dialog."""
    yield from _driver(kivy_harness, scripted_server, ia_home, monkeypatch, "kivy")


@pytest.fixture
def app_native_dialog(kivy_harness, scripted_server, ia_home, monkeypatch) -> Iterator[AppDriver]:
    """The app with the system's dialog (zenity through plyer)."""
    if not shutil.which("zenity") or not shutil.which("xdotool"):
        pytest.fail(
            "zenity and xdotool are needed: apt-get install zenity xdotool (see the README's test command)"
        )
    yield from _driver(kivy_harness, scripted_server, ia_home, monkeypatch, "native")


def _saved_session(home: Path) -> str:
    """A conversation as the app saves one: code, thinking, an image, several scripts."""
    sm = SessionManager(Settings(home=home))
    try:
        conv = sm.create("Circle area — ünïcode", model="smollm2:135m")
        sm.add_user_message(conv, "Area of a circle? Ελληνικά, español", images=[png(8, 6, (20, 160, 60))])
        writer = sm.start_reply(conv, "smollm2:135m")
        writer.append_thinking("π r², nothing more.")
        writer.append(REPLY)
        writer.finish(None)
        return conv.slug
    finally:
        sm.close()


def _modal(d: AppDriver, kind: str) -> Any:
    from kivy.factory import Factory

    cls = getattr(Factory, kind)
    return d.wait(lambda: next((w for w in d.h.window.children if isinstance(w, cls)), None), f"the {kind}")


def _row(d: AppDriver, slug: str) -> Any:
    from ui.conversation_list import ConvRow

    def find() -> Any:
        layout = d.ids.conv_list.ids.rv.children[0]
        return next((c for c in layout.children if isinstance(c, ConvRow) and c.slug == slug), None)

    return d.wait(find, f"the row of {slug}")


def _click(d: AppDriver, widget: Any) -> None:
    """A click on a widget inside a RecycleView (press() scrolls, which a RecycleView's layout cannot do)."""
    d.h.settle(4)
    d.h.click(widget)


def _type_into(d: AppDriver, field: Any, text: str) -> None:
    d.press(field)
    d.wait(lambda: field.focus, "the field to take the keyboard")
    d.h.key("a", ["ctrl"], text="a")  # select all, as SDL reports Ctrl+A
    d.h.key("backspace")
    d.h.type_text(text)


def _go_to_folder(d: AppDriver, dialog: Any, folder: Path) -> None:
    _type_into(d, dialog.ids.folder_input, str(folder))
    d.h.key("enter")
    d.wait(lambda: dialog.folder == str(folder.resolve()), f"the dialog to show {folder}")


def _export_with_own_dialog(d: AppDriver, slug: str, fmt: str, folder: Path) -> Path:
    _click(d, _row(d, slug).ids.export_btn)
    menu = _modal(d, "ChoiceDialog")
    d.press(menu.buttons()[fmt])
    dialog = _modal(d, "FileDialog")
    assert dialog.save_mode and dialog.ids.name_input.text == f"{slug}.{fmt}"
    _go_to_folder(d, dialog, folder)
    d.press(dialog.ids.accept_btn)
    target = folder / f"{slug}.{fmt}"
    d.wait(lambda: target.is_file(), f"{target} to be written")
    done = _modal(d, "MessageDialog")
    d.wait(lambda: done.message == f"Saved to {target}", "the export's message")
    return target


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def test_export_each_format_from_the_list(app_kivy_dialog: AppDriver, tmp_path: Path) -> None:
    d = app_kivy_dialog
    slug = _saved_session(d.home)
    d.app.reload_sessions()
    d.ready()
    _click(d, _row(d, slug))
    d.wait(lambda: d.app.conv is not None and d.app.conv.slug == slug, "the conversation to open")
    out = tmp_path / "exports"
    out.mkdir()
    _click(d, _row(d, slug).ids.export_btn)
    menu = _modal(d, "ChoiceDialog")
    d.shot("app_export_menu")
    d.press(menu.ids.cancel_btn)
    d.wait(lambda: menu.parent is None, "the menu to close")

    page = _export_with_own_dialog(d, slug, "html", out)
    d.shot("app_export_done")
    d.press(_modal(d, "MessageDialog").ids.ok_btn)
    image = (d.home / "sav" / slug / d.app.conv.messages[0].images[0]).read_bytes()
    text = page.read_text("utf-8")
    tags = _Tags()
    tags.feed(text)
    assert [a["src"] for _, a in tags.tags if "src" in a] == [
        "data:image/png;base64," + base64.b64encode(image).decode()
    ]
    assert not any(t in ("script", "link") for t, _ in tags.tags)
    assert (
        '<span class="k">def</span>' in text and "π r², nothing more." in text and "Ελληνικά, español" in text
    )

    data = json.loads(_export_with_own_dialog(d, slug, "json", out).read_text("utf-8"))
    d.press(_modal(d, "MessageDialog").ids.ok_btn)
    assert (
        data["messages"][1]["content"] == REPLY and data["messages"][1]["thinking"] == "π r², nothing more."
    )
    markdown = _export_with_own_dialog(d, slug, "md", out).read_text("utf-8")
    d.press(_modal(d, "MessageDialog").ids.ok_btn)
    assert "```python\ndef area(r):" in markdown and markdown.startswith("# Circle area — ünïcode")

    # The same name again: the dialog asks before replacing the file.
    before = page.stat().st_mtime_ns
    _click(d, _row(d, slug).ids.export_btn)
    d.press(_modal(d, "ChoiceDialog").buttons()["html"])
    dialog = _modal(d, "FileDialog")
    d.wait(lambda: dialog.folder == str(out.resolve()), "the dialog to open in the last folder used")
    d.press(dialog.ids.accept_btn)
    question = _modal(d, "ConfirmDialog")
    assert question.title == "Replace the file?" and question.confirm_label == "Replace"
    d.shot("app_export_replace")
    d.press(question.ids.cancel_btn)
    time.sleep(0.05)
    d.h.settle(5)
    assert page.stat().st_mtime_ns == before  # kept


def test_a_click_right_after_ok_reaches_the_list(app_kivy_dialog: AppDriver, tmp_path: Path) -> None:
    """OK closes the "Exported" message, which fades out; the export icon clicked at once opens the menu (the
    fading popup no longer takes the click)."""
    d = app_kivy_dialog
    slug = _saved_session(d.home)
    d.app.reload_sessions()
    d.ready()
    _click(d, _row(d, slug))
    d.wait(lambda: d.app.conv is not None and d.app.conv.slug == slug, "the conversation to open")
    out = tmp_path / "exports"
    out.mkdir()
    _export_with_own_dialog(d, slug, "md", out)
    done = _modal(d, "MessageDialog")
    done._anim_duration = 1.5  # a fade long enough to click during it on any machine (Kivy's is 0.1 s)
    d.press(done.ids.ok_btn)
    assert done.parent is d.h.window  # still on screen, fading out
    d.h.click(_row(d, slug).ids.export_btn)
    menu = next((w for w in d.h.window.children if type(w).__name__ == "ChoiceDialog"), None)
    assert menu is not None, "the click on the export icon was taken by the closing message"
    assert done.parent is d.h.window  # the message was still fading when the menu opened
    d.shot("app_export_menu_over_fading_message")
    d.press(menu.ids.cancel_btn)
    d.wait(lambda: done.parent is None and menu.parent is None, "both popups gone")
    assert list(out.iterdir()) == [out / f"{slug}.md"]  # nothing else written


def _import_with_own_dialog(d: AppDriver, folder: Path, name: str) -> None:
    d.press(d.ids.conv_list.ids.import_btn)
    dialog = _modal(d, "FileDialog")
    assert not dialog.save_mode and dialog.accept_label == "Import"
    _go_to_folder(d, dialog, folder)
    row = d.wait(lambda: dialog.row_widget(name), f"{name} in the dialog")
    _click(d, row)
    d.wait(lambda: dialog.selection == str(folder.resolve() / name), f"{name} selected")
    d.shot("app_import_dialog")
    d.press(dialog.ids.accept_btn)


def test_import_through_the_window_lists_opens_and_finds_them(
    app_kivy_dialog: AppDriver, tmp_path: Path
) -> None:
    d = app_kivy_dialog
    d.ready()
    downloads = tmp_path / "Downloads"
    downloads.mkdir()
    (downloads / "notes.txt").write_text("not an export", encoding="utf-8")
    (downloads / "older exports").mkdir()
    zip_path = downloads / "chatgpt-export.zip"
    zip_path.write_bytes(
        chatgpt_zip(
            [
                chatgpt_conversation(),
                chatgpt_conversation(
                    "Quokka facts", conv_id="c2", image_id=None, answer="Quokkas are small marsupials."
                ),
            ],
            {"file-AbC123xyz-photo.png": PNG},
        )
    )
    _import_with_own_dialog(d, downloads, "chatgpt-export.zip")
    summary = d.wait(
        lambda: next(
            (w for w in d.h.window.children if getattr(w, "title", "") == "Imported"),
            None,
        ),
        "the import summary",
    )
    assert summary.message.startswith("2 conversations from chatgpt-export.zip (ChatGPT export):")
    assert "•  Fibonacci, tested" in summary.message and "•  Quokka facts" in summary.message
    d.shot("app_import_summary")
    d.press(summary.ids.ok_btn)
    titles = lambda: [r.get("title") for r in d.ids.conv_list.rows() if r["viewclass"] == "ConvRow"]  # noqa: E731
    d.wait(lambda: sorted(titles()) == ["Fibonacci, tested", "Quokka facts"], "both in the list")
    # The newest of them is open, its messages on screen (here both have the same dates: the list's first).
    d.wait(
        lambda: d.app.conv is not None and d.app.conv.title in ("Fibonacci, tested", "Quokka facts"), "opened"
    )
    _click(d, _row(d, "fibonacci-tested"))
    d.wait(lambda: d.app.conv.slug == "fibonacci-tested", "the ChatGPT conversation open")
    d.wait(lambda: len(d.app.chat_view.messages) == 4, "its four messages shown")
    assert d.app.chat_view.messages[3].content == "Ναι, φυσικά."
    assert d.app.conversation_title == "Fibonacci, tested"
    d.shot("app_imported_conversation")
    # Searchable at once, by a word of a reply.
    d.h.key("k", ["ctrl"])
    d.wait(lambda: d.ids.conv_list.ids.search.focus, "the search box")
    d.h.type_text("marsupials")
    d.wait(lambda: titles() == ["Quokka facts"], "the full-text hit", timeout=8)
    d.ids.conv_list.clear_search()

    # An Open WebUI export from the same folder: the dialog opens there again.
    (downloads / "chat-export-1731000100000.json").write_text(
        json.dumps([openwebui_chat()]), encoding="utf-8"
    )
    d.press(d.ids.conv_list.ids.import_btn)
    dialog = _modal(d, "FileDialog")
    d.wait(lambda: dialog.folder == str(downloads.resolve()), "the dialog to open in the last folder")
    assert [r["name"] for r in dialog.rows()] == [
        "older exports",
        "chat-export-1731000100000.json",
        "chatgpt-export.zip",
    ]  # folders first; notes.txt is not an export
    row = d.wait(lambda: dialog.row_widget("chat-export-1731000100000.json"), "the Open WebUI file")
    _click(d, row)
    d.press(dialog.ids.accept_btn)
    summary = d.wait(
        lambda: next((w for w in d.h.window.children if getattr(w, "title", "") == "Imported"), None),
        "summary",
    )
    assert summary.message.startswith(
        "1 conversation from chat-export-1731000100000.json (Open WebUI export):"
    )
    d.press(summary.ids.ok_btn)
    d.wait(lambda: d.app.conv is not None and d.app.conv.title == "Primes in Python 🐍", "the chat opened")
    d.wait(lambda: len(d.app.chat_view.messages) == 4, "its messages shown")
    assert d.app.chat_view.messages[1].thinking.startswith("The user wants a prime test.")
    assert sorted(p.name for p in (d.home / "sav").iterdir()) == [
        "fibonacci-tested",
        "primes-in-python",
        "quokka-facts",
    ]


def test_a_bad_file_is_refused_with_a_banner_and_nothing_imported(app_kivy_dialog: AppDriver, tmp_path: Path):
    d = app_kivy_dialog
    d.ready()
    folder = tmp_path / "in"
    folder.mkdir()
    bad = folder / "conversations.json"
    text = json.dumps([chatgpt_conversation(image_id=None)])
    bad.write_text(text[: len(text) // 3], encoding="utf-8")
    _import_with_own_dialog(d, folder, "conversations.json")
    banner = d.ids.banner
    d.wait(lambda: banner.shown, "the banner")
    assert banner.message == (
        f"Cannot import {bad}: its JSON stops at line 1 before it is complete: the file is cut short. "
        "Nothing was imported; export it again, or download it again."
    )
    d.shot("app_import_refused")
    assert [r for r in d.ids.conv_list.rows() if r["viewclass"] == "ConvRow"] == []
    assert not (d.home / "sav").exists() or list((d.home / "sav").iterdir()) == []


# ---------------------------------------------------------------------------------------------- the system dialog


def _xdotool(*args: str) -> str:
    return subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=20).stdout.strip()


def _zenity_window(d: AppDriver, title: str) -> str:
    """The id of zenity's window once it is on screen, while the app keeps drawing."""
    found: list[str] = []

    def look() -> bool:
        out = subprocess.run(
            ["xdotool", "search", "--onlyvisible", "--name", title], capture_output=True, text=True
        ).stdout.split()
        found[:] = out
        return bool(out)

    d.wait(look, f"zenity's window '{title}'", timeout=30)
    return found[0]


def _screen_shot(d: AppDriver, name: str) -> None:
    """The whole X screen (zenity's window is not part of the Kivy window's own screenshot)."""
    from PIL import ImageGrab

    from tests.ui.kivy_harness import ARTIFACTS

    time.sleep(1.0)  # GTK draws its dialog
    d.h.frames(2)
    ImageGrab.grab(xdisplay=os.environ["DISPLAY"]).save(ARTIFACTS / f"{name}.png")


def _zenity_type_path(d: AppDriver, window: str, path: Path, *, save: bool) -> None:
    """Type a full path in GTK's file dialog and press Enter, as a person does (Ctrl+L opens the location
    field when opening; the name field takes a full path when saving)."""
    _xdotool("windowfocus", "--sync", window)
    time.sleep(0.5)  # GTK finishes laying out the dialog
    if save:
        _xdotool("key", "--clearmodifiers", "ctrl+a")
    else:
        _xdotool("key", "--clearmodifiers", "ctrl+l")
    time.sleep(0.3)
    _xdotool("type", "--delay", "20", str(path))
    time.sleep(0.3)
    _xdotool("key", "Return")


def test_import_and_export_with_the_system_dialog(app_native_dialog: AppDriver, tmp_path: Path) -> None:
    d = app_native_dialog
    d.ready()
    export = tmp_path / "chat-export.json"
    export.write_text(json.dumps([openwebui_chat("Native dialog chat")]), encoding="utf-8")
    d.press(d.ids.conv_list.ids.import_btn)
    assert not any(type(w).__name__ == "FileDialog" for w in d.h.window.children)  # the system's, not ours
    window = _zenity_window(d, "Import conversations")
    _screen_shot(d, "app_import_zenity")
    _zenity_type_path(d, window, export, save=False)
    summary = d.wait(
        lambda: next((w for w in d.h.window.children if getattr(w, "title", "") == "Imported"), None),
        "the import summary",
        timeout=30,
    )
    assert "Native dialog chat" in summary.message
    d.press(summary.ids.ok_btn)
    d.wait(lambda: d.app.conv is not None and d.app.conv.title == "Native dialog chat", "the chat opened")
    slug = d.app.conv.slug

    target = tmp_path / "out" / "shared.html"
    target.parent.mkdir()
    _click(d, _row(d, slug).ids.export_btn)
    d.press(_modal(d, "ChoiceDialog").buttons()["html"])
    window = _zenity_window(d, "Export as web page")
    _screen_shot(d, "app_export_zenity")
    _zenity_type_path(d, window, target, save=True)
    d.wait(lambda: target.is_file(), "the page written where zenity said", timeout=30)
    assert "Native dialog chat" in target.read_text("utf-8")
    done = _modal(d, "MessageDialog")
    d.wait(lambda: done.message == f"Saved to {target}", "the export's message")
    assert d.app.settings.ui["file_folder"] == str(target.parent)  # the next dialog opens there
