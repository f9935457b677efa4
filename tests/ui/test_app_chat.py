"""The chat flow through the whole window: type and send, stream, stop, regenerate, switch model, code copy."""

from __future__ import annotations

import pytest

from core.embedded.scripted import Delay, Script
from tests.ui.app_harness import app_driver_fixture  # noqa: F401  (the app_driver fixture)

pytestmark = pytest.mark.ui


def test_type_send_streams_reply_and_saves_conversation(app_driver):
    d = app_driver
    d.ready()
    d.server.engine.enqueue(Script(["Hello", " there", ", human", "."]))
    d.type_and_send("Hi, who are you?")
    d.wait(lambda: d.app.streaming or d.last_message().content == "Hello there, human.", "the reply to start")
    d.wait_reply_end()
    reply = d.last_message()
    assert reply.role == "assistant" and reply.content == "Hello there, human."
    assert d.app.input_bar.ids.input.text == ""
    assert d.app.input_bar.ids.input.focus, "the input keeps the focus after a send"
    # Saved under IA_HOME/sav/<slug>/conversation.md, listed, highlighted, named in the window title.
    conv = d.app.conv
    saved = (d.home / "sav" / conv.slug / "conversation.md").read_text(encoding="utf-8")
    assert "Hi, who are you?" in saved and "Hello there, human." in saved
    d.wait(lambda: any(r.get("slug") == conv.slug and r["selected"] for r in d.ids.conv_list.rows()), "row")
    assert "IA_V3" in d.app.title and "Hi, who are you?" in d.app.title
    d.shot("app_chat_light")


def test_escape_stops_a_streaming_reply_and_keeps_the_partial_text(app_driver):
    d = app_driver
    d.ready()
    d.server.engine.enqueue(Script(["Partial", " text"] + [Delay(0.2), " more"] * 100))
    d.type_and_send("Tell me a long story")
    d.wait(lambda: "Partial text" in d.last_message().content, "the first pieces to show")
    d.h.key("escape")
    d.wait_reply_end()
    msg = d.last_message()
    assert msg.status == "interrupted"
    assert msg.content.startswith("Partial text")
    assert d.server.engine.wait_generation_end().stopped_by_cancel, "the server stopped generating"
    saved = (d.home / "sav" / d.app.conv.slug / "conversation.md").read_text(encoding="utf-8")
    assert "Partial text" in saved and "interrupted" in saved


def test_regenerate_replaces_the_last_reply(app_driver):
    d = app_driver
    d.ready()
    d.server.engine.enqueue(Script(["First answer."]), Script(["Second answer."]))
    d.type_and_send("Question")
    d.wait_reply_end()
    d.wait(lambda: d.last_message().content == "First answer.", "first reply")
    d.app.chat_view.regenerate()
    d.wait(lambda: d.last_message().content == "Second answer." and not d.app.streaming, "second reply")
    roles = [m.role for m in d.app.chat_view.messages]
    assert roles == ["user", "assistant"]
    reloaded = d.app.controller.sessions.load(d.app.conv.slug)
    assert [m.content for m in reloaded.messages] == ["Question", "Second answer."]


def test_switching_model_sends_the_next_message_to_it(app_driver):
    d = app_driver
    d.ready()
    info = d.ids.info
    label = info.model_values[info.model_names.index("gemma3:270m")]
    info.ids.picker.text = label  # what choosing it in the Spinner's dropdown does
    d.wait(lambda: d.app.model == "gemma3:270m", "the model to switch")
    d.wait(lambda: "gemma3" in info.details, "the model details")
    d.server.engine.enqueue(Script(["From gemma."]))
    d.type_and_send("Hello gemma")
    d.wait_reply_end()
    assert d.server.engine.last_generation.model.startswith("gemma3:270m")
    assert d.last_message().model == "gemma3:270m"
    assert "gemma3:270m" in d.app.status_text


def test_ctrl_shift_c_copies_the_last_code_block(app_driver):
    d = app_driver
    d.ready()
    code = "def add(a, b):\n    return a + b"
    d.server.engine.enqueue(Script(["Here:\n\n```python\n", code, "\n```\n\nDone."]))
    d.type_and_send("Write add")
    d.wait_reply_end()
    d.h.key("c", ["ctrl", "shift"])
    assert d.h.read_clipboard().rstrip("\n") == code
    d.shot("app_code_block")


def test_theme_button_switches_to_dark_and_back(app_driver):
    from ui.config_ui import theme

    d = app_driver
    d.ready()
    d.server.engine.enqueue(Script(["Dark mode **works**:\n\n```python\nprint('hi')\n```\n"]))
    d.type_and_send("Show me dark mode")
    d.wait_reply_end()
    d.h.click(d.ids.theme_btn)
    d.wait(lambda: theme.name == "dark", "the dark theme")
    assert list(d.h.window.clearcolor) == list(theme.colors["window_bg"])
    d.shot("app_chat_dark")
    d.h.click(d.ids.theme_btn)
    d.wait(lambda: theme.name == "light", "the light theme again")
    assert 'theme = "light"' in (d.home / "config.toml").read_text(encoding="utf-8")


def test_attached_image_is_sent_and_saved_with_the_message(app_driver, tmp_path):
    from PIL import Image

    d = app_driver
    d.ready()
    info = d.ids.info
    info.ids.picker.text = info.model_values[info.model_names.index("vision:latest")]
    d.wait(lambda: d.app.model == "vision:latest", "the vision model")
    picture = tmp_path / "red.png"
    Image.new("RGB", (32, 24), (220, 30, 30)).save(picture)
    assert d.app.input_bar.add_images([picture]) == []
    d.server.engine.enqueue(Script(["A red rectangle."]))
    d.h.key("l", ["ctrl"])
    d.type_and_send("What is in this picture?")
    d.wait_reply_end()
    user = d.app.conv.messages[0]
    assert user.images and user.images[0].startswith("attachments/")
    assert (d.home / "sav" / d.app.conv.slug / user.images[0]).read_bytes() == picture.read_bytes()
    sent = d.server.engine.bodies("/api/chat")[-1]["messages"][-1]
    assert sent["content"] == "What is in this picture?" and len(sent["images"]) == 1
    assert d.app.input_bar.images == [], "attachments are cleared after the send"
    d.shot("app_image_attached")


def test_edit_and_resend_replaces_the_exchange(app_driver):
    d = app_driver
    d.ready()
    d.server.engine.enqueue(Script(["About cats."]), Script(["About dogs."]))
    d.type_and_send("Tell me about cats")
    d.wait_reply_end()
    d.wait(lambda: d.last_message().content == "About cats.", "the first reply")
    d.app.chat_view.dispatch("on_edit_resend", 0, "Tell me about dogs")  # what the edit popup's Resend does
    d.wait(lambda: d.last_message().content == "About dogs." and not d.app.streaming, "the new reply")
    assert [m.content for m in d.app.chat_view.messages] == ["Tell me about dogs", "About dogs."]
    saved = d.app.controller.sessions.load(d.app.conv.slug)
    assert [m.content for m in saved.messages] == ["Tell me about dogs", "About dogs."]
