"""Reply versions in the whole window: regenerate and edit-and-resend keep the earlier versions, ‹ 2/3 › on the
message switches between them (clicked like a person), the choice is saved and is the next request's context."""

from __future__ import annotations

from typing import Any

import pytest

from core.embedded.scripted import Delay, Script
from tests.ui.app_harness import app_driver_fixture  # noqa: F401  (the app_driver fixture)

pytestmark = pytest.mark.ui

PREV, NEXT = "\u2039", "\u203a"


def header(d: Any, index: int) -> Any:
    """The header widget of message ``index`` (on screen)."""
    d.h.settle(6)
    found = [
        w
        for w in d.app.chat_view.ids.layout.children
        if type(w).__name__ == "HeaderItem" and w.msg_index == index
    ]
    assert found, f"message {index} has no header on screen"
    return found[0]


def arrow(widget: Any, text: str) -> Any:
    """The button of ``widget`` that reads ``text`` (‹, ›, Edit, Regenerate...)."""
    from kivy.uix.button import Button

    return next(w for w in widget.walk() if isinstance(w, Button) and w.text == text)


def click(d: Any, widget: Any) -> None:
    """A real click on a widget of the chat zone (on screen: the zone scrolls by itself)."""
    d.h.settle(4)
    d.h.click(widget)


def headers(d: Any) -> list[dict]:
    return [item for item in d.app.chat_view.ids.rv.data if item["viewclass"] == "HeaderItem"]


def saved(d: Any) -> Any:
    return d.app.controller.sessions.load(d.app.conv.slug)


def test_regenerate_keeps_versions_and_the_arrows_switch_them(app_driver):
    d = app_driver
    d.ready()
    d.server.engine.enqueue(
        Script(["First answer."]),
        Script(["Second answer."]),
        Script(["Third", " answer."] + [Delay(0.05), "."] * 20),
        Script(["Follow-up."]),
    )
    d.type_and_send("Question")
    d.wait_reply_end()
    assert headers(d)[1]["version_text"] == ""  # one version: no arrows
    assert arrow(header(d, 1), PREV).width == 0
    click(d, arrow(header(d, 1), "Regenerate"))
    d.wait(lambda: d.last_message().content == "Second answer." and not d.app.streaming, "second reply")
    click(d, arrow(header(d, 1), "Regenerate"))
    d.wait(lambda: d.app.streaming, "the third reply to start")
    assert headers(d)[1]["version_text"] == "3/3", "the reply being written is already version 3 of 3"
    assert not headers(d)[1]["can_prev"], "no switching while a reply streams"
    d.wait_reply_end()
    assert [m.content for m in d.app.chat_view.messages] == ["Question", "Third answer." + "." * 20]
    assert (headers(d)[1]["version_text"], headers(d)[1]["can_prev"], headers(d)[1]["can_next"]) == (
        "3/3",
        True,
        False,
    )
    click(d, arrow(header(d, 1), PREV))
    d.wait(lambda: d.last_message().content == "Second answer.", "version 2 shown")
    h = header(d, 1)
    assert h.version_text == "2/3" and h.can_prev and h.can_next
    path = d.shot("app_versions_2_of_3")
    assert path.exists()
    assert [m.content for m in saved(d).messages] == ["Question", "Second answer."]
    assert saved(d).messages[1].version == 1
    click(d, arrow(header(d, 1), PREV))
    d.wait(lambda: d.last_message().content == "First answer.", "version 1 shown")
    assert not header(d, 1).can_prev
    d.type_and_send("And then?")
    d.wait_reply_end()
    sent = [m["content"] for m in d.server.engine.bodies("/api/chat")[-1]["messages"]]
    assert sent == ["Question", "First answer.", "And then?"]
    click(d, arrow(header(d, 1), NEXT))
    d.wait(lambda: d.last_message().content == "Second answer.", "version 2 again, without the follow-up")
    assert len(d.app.chat_view.messages) == 2


def test_edit_keeps_the_images_and_the_earlier_question_with_its_reply(app_driver, tmp_path):
    from PIL import Image

    d = app_driver
    d.ready()
    info = d.ids.info
    info.ids.picker.text = info.model_values[info.model_names.index("vision:latest")]
    d.wait(lambda: d.app.model == "vision:latest", "the vision model")
    picture = tmp_path / "red.png"
    Image.new("RGB", (32, 24), (220, 30, 30)).save(picture)
    assert d.app.input_bar.add_images([picture]) == []
    d.server.engine.enqueue(Script(["A red rectangle."]), Script(["Red, 32 by 24."]))
    d.type_and_send("What is in this picture?")
    d.wait_reply_end()
    image = d.app.conv.messages[0].images
    assert image
    click(d, arrow(header(d, 0), "Edit"))
    popup = d.app.chat_view.edit_popup
    editor = next(w for w in popup.walk() if type(w).__name__ == "TextInput")
    editor.text = "What colour and size is it?"
    click(d, arrow(popup, "Resend"))
    d.wait(lambda: d.last_message().content == "Red, 32 by 24." and not d.app.streaming, "the new reply")
    assert d.app.conv.messages[0].images == image, "the edited message keeps its image"
    assert any(item["viewclass"] == "ImagesItem" for item in d.app.chat_view.ids.rv.data)
    sent = d.server.engine.bodies("/api/chat")[-1]["messages"]
    assert [m["content"] for m in sent] == ["What colour and size is it?"] and len(sent[0]["images"]) == 1
    assert header(d, 0).version_text == "2/2"
    d.shot("app_versions_edited")
    click(d, arrow(header(d, 0), PREV))
    d.wait(lambda: d.app.chat_view.messages[0].content == "What is in this picture?", "the first question")
    assert [m.content for m in d.app.chat_view.messages] == ["What is in this picture?", "A red rectangle."]
    assert header(d, 0).version_text == "1/2"
    disk = saved(d)
    assert [m.content for m in disk.messages] == ["What is in this picture?", "A red rectangle."]
    assert [m.content for m in disk.messages[0].versions[0]] == [
        "What colour and size is it?",
        "Red, 32 by 24.",
    ]


def test_an_edit_that_cannot_be_saved_changes_nothing_and_says_why(app_driver, monkeypatch):
    import errno
    import os

    d = app_driver
    d.ready()
    d.server.engine.enqueue(Script(["About cats."]))
    d.type_and_send("Tell me about cats")
    d.wait_reply_end()
    path = d.home / "sav" / d.app.conv.slug / "conversation.md"
    before = path.read_bytes()

    # A full disk cannot be produced here without a namespace; ENOSPC is injected at os.write for the save.
    def no_space(fd: int, data) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", no_space)
    d.app.chat_view.dispatch("on_edit_resend", 0, "Tell me about dogs")  # what the popup's Resend does
    monkeypatch.undo()
    d.wait(lambda: d.ids.banner.shown, "the banner")
    assert "disk is full" in d.ids.banner.message
    assert not d.app.streaming
    assert [m.content for m in d.app.conv.messages] == ["Tell me about cats", "About cats."]
    assert [m.content for m in d.app.chat_view.messages] == ["Tell me about cats", "About cats."]
    assert d.app.conv.messages[0].versions == [] and path.read_bytes() == before
    assert d.app.input_bar.ids.input.text == "Tell me about dogs", "the edited text is not lost"
