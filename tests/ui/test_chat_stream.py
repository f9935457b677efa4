"""Streaming into the chat view on the real window: a long reply keeps updating often, the blocks that
ended keep their widgets and textures, and the conversation is listed as soon as its first message is sent."""

from __future__ import annotations

import time
from typing import Any

import pytest

from core.embedded.scripted import Delay, Script
from tests.ui.app_harness import app_driver_fixture  # noqa: F401  (the app_driver fixture)
from tests.ui.test_chat_view import ChatEnv, start_turn

pytestmark = pytest.mark.ui
RATE = 200  # tokens per second, as the target says


@pytest.fixture(name="chat_view")
def chat_view_fixture(kivy_harness: Any) -> Any:
    from ui.chat_view import ChatView

    return kivy_harness.mount(ChatView())


@pytest.fixture(name="chat_env")
def chat_env_fixture(scripted_server: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from config import load_settings
    from core.backend import connect
    from core.chat import ChatService
    from core.session_manager import SessionManager

    monkeypatch.setenv("OLLAMA_HOST", scripted_server.url)
    settings = load_settings()
    backend = connect(settings)
    sessions = SessionManager(settings)
    yield ChatEnv(ChatService(settings, backend, sessions), sessions, scripted_server.engine)
    backend.close()


def long_markdown(chars: int) -> str:
    """Paragraphs, lists and code blocks: about `chars` characters."""
    parts: list[str] = []
    k = 0
    while sum(len(p) for p in parts) < chars:
        parts.append(
            f"## Part {k}\n\n" + f"Sentence number {k} of a long answer, with **bold** words. " * 6 + "\n\n"
        )
        parts.append("".join(f"- point {i} of part {k}\n" for i in range(4)) + "\n")
        if k % 3 == 0:
            parts.append(
                "```python\n" + "".join(f"value_{k}_{i} = {i} * {k}\n" for i in range(12)) + "```\n\n"
            )
        k += 1
    return "".join(parts)


def test_a_long_reply_keeps_updating_often_at_200_tokens_per_second(
    kivy_harness: Any, chat_view: Any, chat_env: ChatEnv
) -> None:
    """40,000 characters arrive at once, then 1,000 tokens at 200 tokens/s: the visible reply keeps being
    updated several times a second (pacing by cost updated such a reply about once a second)."""
    head = long_markdown(40_000)
    tokens = [f" word{i}" if i % 40 else "\n\nNew paragraph" for i in range(1000)]
    steps: list[Any] = [head]
    for token in tokens:
        steps += [token, Delay(1 / RATE)]
    chat_env.engine.enqueue(Script(steps))
    pump, conv, seen, done = start_turn(kivy_harness, chat_view, chat_env, "a long answer please")
    kivy_harness.wait_until(
        lambda: chat_view.messages[-1].content.startswith(head), message="the long head shown"
    )
    updates: list[float] = []  # when the view showed new text (frames polled like the app's loop)
    count = chat_view.render_count

    def shown() -> bool:
        nonlocal count
        if chat_view.render_count != count:
            count = chat_view.render_count
            updates.append(time.perf_counter())
        return bool(done)

    kivy_harness.wait_until(shown, timeout=60, message="the reply to end")
    span = updates[-1] - updates[0]
    assert span > 3.0, span  # the 1,000 tokens took about 5 s to arrive
    rate = (len(updates) - 1) / span
    assert rate >= 5, f"{len(updates)} updates in {span:.1f} s"  # the pace is 10/s; half of it under load
    # the text shown is the text received, and the last update shows the whole reply
    final = head + "".join(tokens)
    assert chat_view.messages[-1].content == final and done[0].text == final
    kivy_harness.settle(5)
    shown = [d for d in chat_view.ids.rv.data if d["viewclass"] == "TextItem"]
    assert shown[-1]["markup"].endswith("word999")


def test_blocks_that_ended_keep_their_widgets_and_textures(kivy_harness: Any, chat_view: Any) -> None:
    """While a reply streams, the widget of a paragraph that ended stays the same object with the same
    texture (it is never drawn again); only the paragraph being written is."""
    from ui.message_widgets import TextItem

    chat_view.begin_reply("m")
    text = ""

    def grow(words: int, paragraph: int) -> None:
        nonlocal text
        for w in range(words):
            text += f"word{paragraph}_{w} "
            chat_view.update_reply(text)
            kivy_harness.frames(2)
        kivy_harness.wait_until(lambda: not chat_view._pending, message="the last text shown")
        kivy_harness.frames(3)

    def widgets() -> dict[int, Any]:
        return {w.index: w for w in chat_view.ids.layout.children if isinstance(w, TextItem)}

    grow(12, 0)
    text = text.rstrip() + "\n\n"
    grow(12, 1)
    first = min(widgets())
    widget = widgets()[first]
    texture = widget.ids.lbl.texture
    assert widget.ids.lbl.text.startswith("word0_0")
    tail = widgets()[max(widgets())]
    tail_texture = tail.ids.lbl.texture
    renders = chat_view.render_count
    grow(15, 1)  # the second paragraph grows
    text = text.rstrip() + "\n\n"
    grow(10, 2)  # and a third one starts
    assert chat_view.render_count > renders + 5
    assert widgets()[first] is widget and widget.ids.lbl.texture is texture
    assert widget.ids.lbl.text.startswith("word0_0")
    assert tail.ids.lbl.texture is not tail_texture  # the paragraph being written was drawn again
    chat_view.end_reply("complete", None, None)
    kivy_harness.settle(4)
    assert widgets()[first] is widget and widget.ids.lbl.texture is texture
    kivy_harness.screenshot("chat_stream_kept_widgets")


def test_the_layer_of_a_streaming_view_is_live_until_the_reply_ends_or_the_view_leaves(
    kivy_harness: Any,
) -> None:
    """ChatView.on_streaming: the enclosing CachedLayer draws live while a reply streams, and caches again
    when it ends or when the view is taken out of the layer mid-reply."""
    from ui.chat_view import ChatView
    from ui.layer import CachedLayer

    layer = CachedLayer()
    view = ChatView()
    layer.add_widget(view)
    kivy_harness.mount(layer)
    kivy_harness.settle()
    assert not layer.live
    view.begin_reply("m")
    view.update_reply("Some words")
    kivy_harness.settle()
    assert layer.live
    view.end_reply("complete", None, None)
    assert not layer.live
    view.begin_reply("m")
    assert layer.live
    layer.remove_widget(view)
    assert not layer.live and view.streaming
    view.end_reply("complete", None, None)


def test_the_conversation_is_listed_as_soon_as_its_first_message_is_sent(app_driver: Any) -> None:
    d = app_driver
    d.ready()
    d.server.engine.enqueue(Script(["Thinking about it", Delay(4), "... done."]))
    d.type_and_send("A brand new topic")
    d.wait(lambda: d.app.streaming and d.app.conv is not None, "the reply to start")
    slug = d.app.conv.slug
    chat_layer = d.ids.chat_zone.parent
    assert chat_layer.live, "the streaming chat is drawn straight into the window (ui/layer.py)"
    d.wait(
        lambda: any(r.get("slug") == slug and r["selected"] for r in d.ids.conv_list.rows()),
        "the new conversation in the list, selected",
        timeout=3,
    )
    assert d.app.streaming, "listed while the reply is still streaming"
    row = next(r for r in d.ids.conv_list.rows() if r.get("slug") == slug)
    assert row["title"] == "A brand new topic"
    d.shot("app_listed_while_streaming")
    d.wait_reply_end()
    d.wait(lambda: not chat_layer.live, "the chat cached in its layer again once the reply ended")
