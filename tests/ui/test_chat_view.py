"""ChatView in a real Kivy window under Xvfb: bubbles from Markdown, streaming through StreamPump from a real
ChatTurn against the scripted Ollama-protocol server, stop, copy, thinking, long replies, following the end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from config import load_settings
from core.backend import connect
from core.chat import ChatService
from core.conversation import Conversation, Message
from core.embedded.scripted import Delay, Script, Think
from core.i18n import format_time
from core.sav_manager import read_conversation
from core.session_manager import SessionManager

pytestmark = pytest.mark.ui
MODEL = "smollm2:135m"
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)

MARKDOWN = """# Heading

Some *emphasis*, **bold**, `inline [code]` and a [link](https://example.com).

- first
- second

> quoted

| a | b |
|---|---|
| 1 | 2 |

```python
def add(a, b):
    return a + b  # [not markup]
```

---

The end.
"""


def conversation(*messages: Message) -> Conversation:
    return Conversation(title="t", slug="t", created=NOW, updated=NOW, messages=list(messages))


def user(text: str) -> Message:
    return Message(role="user", content=text, created=NOW)


def assistant(text: str, **kw: Any) -> Message:
    return Message(role="assistant", content=text, created=NOW, model=MODEL, **kw)


def views(view: Any, kind: str) -> list[Any]:
    """The item widgets of one class currently shown (RecycleView only builds visible ones)."""
    return [w for w in view.ids.layout.children if type(w).__name__ == kind]


def button(widget: Any, text: str) -> Any:
    """The Button with this text inside `widget`."""
    for w in widget.walk(restrict=True):
        if getattr(w, "text", None) == text and hasattr(w, "trigger_action"):
            return w
    raise AssertionError(f"no button {text!r} in {widget}")


@pytest.fixture
def chat_view(kivy_harness: Any) -> Any:
    from ui.chat_view import ChatView

    return kivy_harness.mount(ChatView())


@dataclass
class ChatEnv:
    service: ChatService
    sessions: SessionManager
    engine: Any


@pytest.fixture
def chat_env(scripted_server: Any, monkeypatch: pytest.MonkeyPatch) -> ChatEnv:
    monkeypatch.setenv("OLLAMA_HOST", scripted_server.url)
    settings = load_settings()
    backend = connect(settings)
    sessions = SessionManager(settings)
    yield ChatEnv(ChatService(settings, backend, sessions), sessions, scripted_server.engine)
    backend.close()


def start_turn(
    kivy_harness: Any, view: Any, env: ChatEnv, text: str, model: str = MODEL
) -> tuple[Any, Conversation, list, list]:
    """Send `text` through ChatService and stream the reply into `view` with a StreamPump."""
    from ui.stream_pump import StreamPump

    conv = env.sessions.create("ui stream", model=model)
    turn = env.service.send(conv, text, model=model)
    view.show_conversation(conv)
    view.begin_reply(model)
    seen: list[tuple[str, str]] = []
    done: list[Any] = []

    def on_update(reply: str, thinking: str) -> None:
        seen.append((reply, thinking))
        view.update_reply(reply, thinking)

    def on_done(result: Any) -> None:
        view.end_reply(result.status, result.stats, result.error)
        done.append(result)

    pump = StreamPump(lambda: turn, on_update, on_done).start()
    return pump, conv, seen, done


def test_markdown_reply_renders_as_bubble_blocks(kivy_harness: Any, chat_view: Any) -> None:
    chat_view.show_conversation(conversation(user("Show me Markdown"), assistant(MARKDOWN)))
    kivy_harness.settle(10)
    kinds = [(d["viewclass"], d.get("style")) for d in chat_view.ids.rv.data]
    assert kinds == [
        ("HeaderItem", None),
        ("TextItem", "p"),  # the user's text, shown as typed
        ("HeaderItem", None),
        ("TextItem", "h1"),
        ("TextItem", "p"),
        ("TextItem", "list"),
        ("TextItem", "quote"),
        ("TextItem", "table"),
        ("CodeItem", None),
        ("RuleItem", None),
        ("TextItem", "p"),
    ]
    data = chat_view.ids.rv.data
    assert data[0]["side"] == "right" and data[2]["side"] == "left"
    assert data[0]["role_text"] == "You" and data[2]["role_text"] == "Assistant"
    local_time = format_time(NOW.astimezone())  # the locale's way: "2:05 PM" in English, "14:05" in French
    assert data[2]["meta_text"] == f"{local_time}  ·  {MODEL}"
    code = next(d for d in data if d["viewclass"] == "CodeItem")
    assert "[color=" in code["markup"] and "&bl;not markup&br;" in code["markup"]
    # every item drawn has a real texture
    shown = views(chat_view, "TextItem") + views(chat_view, "CodeItem")
    assert len(shown) == 8
    for item in shown:
        assert item.content_height > 0 and item.height >= item.content_height
    kivy_harness.screenshot("chat_markdown_light")


def test_dark_theme_repaints(kivy_harness: Any, chat_view: Any) -> None:
    from ui.config_ui import theme

    chat_view.show_conversation(conversation(user("dark?"), assistant(MARKDOWN)))
    try:
        theme.name = "dark"
        kivy_harness.settle(8)
        header = views(chat_view, "HeaderItem")[0]
        assert header.bubble_color in (
            [*theme.colors["bubble_user_bg"]],
            [*theme.colors["bubble_assistant_bg"]],
        )
        kivy_harness.screenshot("chat_markdown_dark")
    finally:
        theme.name = "light"


def test_streamed_reply_appears_progressively_and_completes(
    kivy_harness: Any, chat_view: Any, chat_env: ChatEnv
) -> None:
    chat_env.engine.enqueue(
        Script(
            [
                "Hello ",
                Delay(0.3),
                "**world**",
                Delay(0.3),
                "\n\n```python\nprint(1)\n",
                Delay(0.3),
                "```\n\nbye",
            ]
        )
    )
    pump, conv, seen, done = start_turn(kivy_harness, chat_view, chat_env, "greet me")
    kivy_harness.wait_until(lambda: seen, message="first streamed text")
    headers = [d for d in chat_view.ids.rv.data if d["viewclass"] == "HeaderItem"]
    assert headers[-1]["meta_text"].endswith("generating…") and not headers[-1]["can_regenerate"]
    kivy_harness.wait_until(lambda: done, message="the reply to finish")
    final = "Hello **world**\n\n```python\nprint(1)\n```\n\nbye"
    texts = [t for t, _ in seen]
    assert len(texts) >= 3, texts  # several updates, not one at the end
    assert all(final.startswith(t) for t in texts) and texts[-1] == final
    assert done[0].status == "complete" and done[0].error is None and done[0].stats["eval_count"] > 0
    kivy_harness.settle(5)
    data = chat_view.ids.rv.data
    assert [d["viewclass"] for d in data[-4:]] == ["TextItem", "CodeItem", "TextItem", "StatusItem"]
    assert any(d["viewclass"] == "CodeItem" and "print" in d["markup"] for d in data)
    assert "tok/s" in data[-1]["markup"]
    assert not chat_view.streaming and chat_view.messages[-1].content == final
    saved = read_conversation(chat_env.sessions.session_dir(conv) / "conversation.md")
    assert saved.messages[-1].content == final and saved.messages[-1].status == "complete"
    assert chat_view.last_code_block() == "print(1)"
    kivy_harness.screenshot("chat_streamed")


def test_stop_cancels_the_reply_and_keeps_partial_text(
    kivy_harness: Any, chat_view: Any, chat_env: ChatEnv
) -> None:
    chat_env.engine.enqueue(Script(["partial ", "answer", Delay(30), "never shown"]))
    pump, conv, seen, done = start_turn(kivy_harness, chat_view, chat_env, "long one")
    kivy_harness.wait_until(lambda: seen and seen[-1][0] == "partial answer", message="partial text")
    pump.stop()
    kivy_harness.wait_until(lambda: done, timeout=10, message="the stopped reply to end")
    assert done[0].status == "interrupted" and done[0].text == "partial answer"
    assert chat_env.engine.wait_generation_end().stopped_by_cancel
    kivy_harness.settle(3)
    assert "Interrupted" in chat_view.ids.rv.data[-1]["markup"]
    saved = read_conversation(chat_env.sessions.session_dir(conv) / "conversation.md")
    assert saved.messages[-1].content == "partial answer" and saved.messages[-1].status == "interrupted"


def test_copy_code_button_puts_the_code_on_the_clipboard(kivy_harness: Any, chat_view: Any) -> None:
    code = "def add(a, b):\n    return a + b  # [not markup] & more"
    chat_view.show_conversation(conversation(user("code"), assistant(f"Here:\n\n```python\n{code}\n```\n")))
    kivy_harness.settle(8)
    copied: list[str] = []
    chat_view.bind(on_copy_code=lambda _v, c: copied.append(c))
    item = views(chat_view, "CodeItem")[0]
    kivy_harness.click(button(item, "Copy"))
    assert copied == [code]
    assert kivy_harness.read_clipboard() == code
    kivy_harness.wait_until(lambda: item.copied, message="button shows Copied")


def test_copy_message_puts_its_markdown_on_the_clipboard(kivy_harness: Any, chat_view: Any) -> None:
    chat_view.show_conversation(conversation(user("question?"), assistant("**Answer** with `code`")))
    kivy_harness.settle(8)
    headers = sorted(views(chat_view, "HeaderItem"), key=lambda w: w.msg_index)
    kivy_harness.click(button(headers[1], "Copy"))
    assert kivy_harness.read_clipboard() == "**Answer** with `code`"


def test_regenerate_only_on_last_reply_and_edit_resend_on_user_message(
    kivy_harness: Any, chat_view: Any
) -> None:
    chat_view.show_conversation(
        conversation(user("first"), assistant("one"), user("second question"), assistant("two"))
    )
    kivy_harness.settle(8)
    data = chat_view.ids.rv.data
    headers = [d for d in data if d["viewclass"] == "HeaderItem"]
    assert [h["can_regenerate"] for h in headers] == [False, False, False, True]
    assert [h["can_edit"] for h in headers] == [True, False, True, False]
    events: list[tuple] = []
    chat_view.bind(on_regenerate=lambda *_: events.append(("regenerate",)))
    chat_view.bind(on_edit_resend=lambda _v, i, t: events.append(("edit", i, t)))
    shown = {w.msg_index: w for w in views(chat_view, "HeaderItem")}
    kivy_harness.click(button(shown[3], "Regenerate"))
    kivy_harness.click(button(shown[2], "Edit"))
    popup = chat_view.edit_popup
    editor = next(w for w in popup.walk() if type(w).__name__ == "TextInput")
    assert editor.text == "second question"
    editor.text = "second question, edited"
    kivy_harness.screenshot("chat_edit_popup")
    kivy_harness.click(button(popup, "Resend"))
    assert events == [("regenerate",), ("edit", 2, "second question, edited")]


def test_thinking_is_collapsed_by_default_and_expands(kivy_harness: Any, chat_view: Any) -> None:
    chat_view.show_conversation(
        conversation(
            user("think"), assistant("The answer is 4.", thinking="2 + 2 [carry] = 4\nchecked twice")
        )
    )
    kivy_harness.settle(8)
    styles = [d.get("style") for d in chat_view.ids.rv.data]
    assert "thinking" not in styles
    toggle = views(chat_view, "ThinkingItem")[0]
    assert not toggle.expanded and "Thinking" in toggle.title
    kivy_harness.click(next(w for w in toggle.walk(restrict=True) if hasattr(w, "trigger_action")))
    kivy_harness.settle(5)
    thinking = [d for d in chat_view.ids.rv.data if d.get("style") == "thinking"]
    assert len(thinking) == 1 and thinking[0]["markup"] == "2 + 2 &bl;carry&br; = 4\nchecked twice"
    kivy_harness.screenshot("chat_thinking_expanded")


def test_streamed_thinking_stays_collapsed(kivy_harness: Any, chat_view: Any, chat_env: ChatEnv) -> None:
    chat_env.service.settings.think = True
    chat_env.engine.enqueue(Script([Think("let me "), Think("think"), Delay(0.2), "Done."]))
    pump, conv, seen, done = start_turn(kivy_harness, chat_view, chat_env, "think please", "thinker:latest")
    kivy_harness.wait_until(lambda: done, message="reply with thinking")
    kivy_harness.settle(3)
    assert any(thinking == "let me think" for _, thinking in seen)
    data = chat_view.ids.rv.data
    assert any(d["viewclass"] == "ThinkingItem" and "12 characters" in d["title"] for d in data)
    assert not any(d.get("style") == "thinking" for d in data)


def long_reply(total: int = 100_000) -> str:
    """About `total` characters: paragraphs, code blocks, a long list and one enormous paragraph."""
    parts: list[str] = []
    n = 0
    while sum(len(p) for p in parts) < total - 20_000:
        parts.append(f"Paragraph {n}: " + "lorem ipsum dolor sit amet " * 12 + "\n\n")
        if n % 5 == 0:
            parts.append(
                "```python\n" + "".join(f"value_{n}_{i} = [{i}] * {i}\n" for i in range(80)) + "```\n\n"
            )
        n += 1
    parts.append("word " * 3000 + "\n\n")  # one 15,000-character paragraph
    parts.append("- item\n" * 400)
    text = "".join(parts)
    return text + "x" * max(0, total - len(text))


def test_100k_character_reply_renders_within_the_texture_limit(kivy_harness: Any, chat_view: Any) -> None:
    text = long_reply()
    assert len(text) >= 100_000
    chat_view.show_conversation(conversation(user("long please"), assistant(text)))
    kivy_harness.settle(5)
    limit = kivy_harness.max_texture_size()
    rv = chat_view.ids.rv
    seen: set[int] = set()
    rv.scroll_y = 1
    shots = 0
    while True:
        kivy_harness.frames(3)
        for w in chat_view.ids.layout.children:
            for label in w.walk(restrict=True):
                if type(label).__name__ == "Label" and label.text and label.texture is not None:
                    tw, th = label.texture_size
                    assert 0 < th <= limit and tw <= limit, (w.index, label.texture_size, limit)
            if type(w).__name__ in ("TextItem", "CodeItem"):
                assert w.content_height > 0
            seen.add(w.index)
        if rv.scroll_y < 0.5 and shots == 0:
            kivy_harness.screenshot("chat_100k_middle")
            shots += 1
        if rv.scroll_y <= 0:
            break
        # one page down (80 % of the viewport), as PageDown would
        rv.scroll_y = max(0.0, rv.scroll_y - 0.8 * rv.height / (chat_view.ids.layout.height - rv.height))
    assert seen == set(range(len(rv.data)))
    shown_text = sum(len(d.get("markup", "")) for d in rv.data)
    assert shown_text >= 100_000  # nothing dropped (markup adds tags on top)


def test_view_follows_the_end_unless_the_user_scrolled_up(kivy_harness: Any, chat_view: Any) -> None:
    chat_view.show_conversation(conversation(user("stream")))
    chat_view.begin_reply(MODEL)
    text = ""
    rv = chat_view.ids.rv

    def grow(lines: int) -> None:
        nonlocal text
        for _ in range(lines):
            text += f"Line {len(text)} of a long streamed answer.\n\n"
            chat_view.update_reply(text)
            kivy_harness.frames(2)

    grow(60)
    kivy_harness.wait_until(
        lambda: chat_view.ids.layout.height > rv.height * 2, message="content taller than view"
    )
    kivy_harness.settle(4)
    assert chat_view.following and rv.scroll_y <= 0.01
    rv.scroll_y = 0.5  # the user drags the scroll bar up
    kivy_harness.frames(2)
    assert not chat_view.following
    grow(20)
    kivy_harness.settle(4)
    assert not chat_view.following and rv.scroll_y == pytest.approx(0.5)
    kivy_harness.screenshot("chat_scrolled_up_while_streaming")
    kivy_harness.click(chat_view.ids.jump)
    grow(5)
    kivy_harness.settle(4)
    assert chat_view.following and rv.scroll_y <= 0.01
    chat_view.end_reply("complete", None, None)


def test_error_reply_shows_the_error_line(kivy_harness: Any, chat_view: Any) -> None:
    chat_view.show_conversation(conversation(user("x")))
    chat_view.begin_reply(MODEL)
    chat_view.update_reply("Half an ans")
    chat_view.end_reply("error", None, "The stream broke: connection dropped [code 7].")
    kivy_harness.settle(5)
    status = chat_view.ids.rv.data[-1]
    assert status["viewclass"] == "StatusItem"
    assert "Error" in status["markup"] and "&bl;code 7&br;" in status["markup"]
    assert chat_view.messages[-1].content == "Half an ans"


def test_user_images_show_as_thumbnails(kivy_harness: Any, chat_view: Any, tmp_path: Any) -> None:
    from PIL import Image as PILImage

    (tmp_path / "attachments").mkdir()
    PILImage.new("RGB", (40, 30), (250, 120, 0)).save(tmp_path / "attachments" / "a.png")
    chat_view.session_dir = str(tmp_path)
    msg = user("what is in this picture?")
    msg.images = ["attachments/a.png"]
    chat_view.show_conversation(conversation(msg, assistant("An orange rectangle.")))
    kivy_harness.settle(8)
    (item,) = views(chat_view, "ImagesItem")
    thumbs = [w for w in item.ids.thumbs.children if type(w).__name__ == "FlatImage"]
    assert [t.source for t in thumbs] == [str(tmp_path / "attachments" / "a.png")]
    kivy_harness.wait_until(lambda: thumbs[0].texture is not None, message="thumbnail loaded")
    kivy_harness.screenshot("chat_user_image")


def test_resizing_the_window_keeps_every_item_laid_out(kivy_harness: Any, chat_view: Any) -> None:
    chat_view.show_conversation(conversation(user("resize"), assistant(MARKDOWN * 3)))
    kivy_harness.settle(8)
    original = kivy_harness.window.size
    try:
        kivy_harness.window.size = (560, 700)
        kivy_harness.settle(15)
        for w in chat_view.ids.layout.children:
            assert w.bubble_x + w.bubble_w <= w.width + 1
            if type(w).__name__ == "TextItem":
                assert w.ids.lbl.width <= w.inner_w + 1 and w.content_height > 0
        kivy_harness.screenshot("chat_narrow_window")
    finally:
        kivy_harness.window.size = original
        kivy_harness.settle(5)


def test_failed_request_ends_the_bubble_with_the_error(
    kivy_harness: Any, chat_view: Any, chat_env: ChatEnv
) -> None:
    pump, conv, seen, done = start_turn(kivy_harness, chat_view, chat_env, "hello?", model="no-such-model:1b")
    kivy_harness.wait_until(lambda: done, message="the failed turn to end")
    result = done[0]
    assert result.status == "error" and "no-such-model" in (result.error or "")
    assert seen == []  # nothing streamed
    kivy_harness.settle(4)
    status = chat_view.ids.rv.data[-1]
    assert status["viewclass"] == "StatusItem" and "no-such-model" in status["markup"]
    assert not chat_view.streaming
    kivy_harness.screenshot("chat_failed_request")


def test_pump_reports_an_exception_raised_by_the_turn_factory(kivy_harness: Any) -> None:
    from core.errors import ServerUnreachable
    from ui.stream_pump import StreamPump

    def factory() -> Any:
        raise ServerUnreachable("http://127.0.0.1:9")

    done: list[Any] = []
    StreamPump(factory, lambda *_: None, done.append).start()
    kivy_harness.wait_until(lambda: done, message="on_done after the failure")
    assert done[0].status == "error" and "127.0.0.1:9" in done[0].error
    assert isinstance(done[0].exception, ServerUnreachable)


def test_streamed_long_code_block_is_split_without_gaps_and_copy_copies_all_of_it(
    kivy_harness: Any, chat_view: Any
) -> None:
    """A code block longer than one item's limit is several CodeItems drawn edge to edge; Copy on its first
    piece copies the whole block, while streaming and once finished."""
    code = "\n".join(f"line_{i} = compute({i})  # [{i}]" for i in range(75))
    text = f"Intro.\n\n```python\n{code}\n```\n\nAfter the code."
    chat_view.show_conversation(conversation(user("long code")))
    chat_view.begin_reply(MODEL)
    for end in range(40, len(text) + 1, 97):  # grows in uneven steps, cutting lines in the middle
        chat_view.update_reply(text[:end])
        kivy_harness.frames(2)
    chat_view.update_reply(text)
    kivy_harness.wait_until(  # re-renders are spaced out: wait until the whole block is shown
        lambda: any("&bl;74&br;" in d.get("markup", "") for d in chat_view.ids.rv.data),
        message="the last line of the code shown",
    )
    assert chat_view.streaming
    streaming_keys = {d["code_key"] for d in chat_view.ids.rv.data if d["viewclass"] == "CodeItem"}
    assert len(streaming_keys) == 1
    (key,) = streaming_keys
    copied: list[str] = []
    chat_view.bind(on_copy_code=lambda _v, c: copied.append(c))
    chat_view.copy_code(key)  # what the Copy button calls, before the reply ended
    assert copied == [code]
    chat_view.end_reply("complete", None, None)
    kivy_harness.settle(6)
    data = chat_view.ids.rv.data
    pieces = [d for d in data if d["viewclass"] == "CodeItem"]
    assert len(pieces) >= 3 and {d["code_key"] for d in pieces} == {key}
    assert [d["code_first"] for d in pieces] == [True] + [False] * (len(pieces) - 1)
    assert [d["code_last"] for d in pieces] == [False] * (len(pieces) - 1) + [True]
    assert all(d["pad_bottom"] == 0 for d in pieces[:-1]) and all(d["pad_top"] == 0 for d in pieces)
    rv = chat_view.ids.rv
    rv.scroll_y = 1
    kivy_harness.settle(4)
    shown = sorted(views(chat_view, "CodeItem"), key=lambda w: w.index)
    assert len(shown) >= 2
    for upper, lower in zip(shown, shown[1:], strict=False):
        if lower.index == upper.index + 1:
            assert abs(upper.y - lower.top) < 1, (upper.index, upper.y, lower.top)  # no gap, no overlap
    kivy_harness.screenshot("chat_long_code_block")
    first = next(w for w in shown if w.code_first)
    kivy_harness.click(button(first, "Copy"))
    assert copied == [code, code]
    assert kivy_harness.read_clipboard() == code
