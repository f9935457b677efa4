"""The chat model (ui/chat_model.py) on its own, without a widget or a window: messages become items, a
streaming reply changes only the items of the block being written, long blocks are cut in pieces."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.conversation import Message
from ui.chat_model import ChatModel, Splice

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
PALETTE = {"link": "#0000ff", "inline_code": "#aa0000", "warning": "#aa8800", "danger": "#ff0000"}
LIMITS = {"chunk_chars": 1500, "chunk_lines": 30, "stream_code_lines": 6}


def model() -> ChatModel:
    return ChatModel(PALETTE, "friendly", LIMITS)


def apply(target: list[dict[str, Any]], splices: list[Splice]) -> None:
    for s in splices:
        target[s.start : s.start + s.removed] = s.new


def user(text: str) -> Message:
    return Message(role="user", content=text, created=NOW)


def assistant(text: str, **kw: Any) -> Message:
    return Message(role="assistant", content=text, created=NOW, model="m", **kw)


def test_messages_become_bubbles_of_items() -> None:
    m = model()
    shown: list[dict[str, Any]] = []
    apply(
        shown,
        m.load([user("Hi [there]"), assistant("# Title\n\nSome **bold**.\n\n---\n\n```py\nx = 1\n```\n")]),
    )
    assert shown == m.items
    assert [(i["viewclass"], i.get("style")) for i in shown] == [
        ("HeaderItem", None),
        ("TextItem", "p"),
        ("HeaderItem", None),
        ("TextItem", "h1"),
        ("TextItem", "p"),
        ("RuleItem", None),
        ("CodeItem", None),
    ]
    assert [i["msg_index"] for i in shown] == [0, 0, 1, 1, 1, 1, 1]
    assert [i["bubble_first"] for i in shown] == [True, False, True, False, False, False, False]
    assert [i["bubble_last"] for i in shown] == [False, True, False, False, False, False, True]
    assert shown[0]["role_text"] == "You" and shown[0]["can_edit"] and not shown[0]["can_regenerate"]
    assert shown[2]["can_regenerate"] and not shown[2]["can_edit"]
    assert shown[1]["markup"] == "Hi &bl;there&br;"  # the user's text as typed, escaped
    assert shown[3]["markup"] == "[b]Title[/b]" and m.item_text(3) == "Title"
    assert m.item_text(4) == "Some bold." and m.item_text(6) == "x = 1"
    assert m.code(shown[6]["code_key"]) == "x = 1" and m.last_code_block() == "x = 1"


def test_streaming_changes_only_the_tail_block() -> None:
    """Each update replaces items from the block being written on; every earlier item stays the very
    object it was, and the list the splices build is the model's own."""
    m = model()
    shown: list[dict[str, Any]] = []
    apply(shown, m.load([user("write")]))
    apply(shown, m.begin_reply("m"))
    paragraphs = [f"Paragraph {k} says something about item {k}." for k in range(12)]
    text = ""
    for k, para in enumerate(paragraphs):
        for word in para.split(" "):
            before = list(shown)
            text += word + " "
            splices = m.update_reply(text)
            apply(shown, splices)
            assert shown == m.items and all(a is b for a, b in zip(shown, m.items, strict=True))
            # the items of the paragraphs that ended before this one are untouched (the reply's header
            # stops closing the bubble when the first text arrives)
            ended = 2 + (1 if len(before) > 3 else 0) + max(0, k - 1)
            for s in splices:
                assert s.start >= ended, (k, s.start, ended)
            assert all(shown[j] is before[j] for j in range(min(ended, len(before))))
        text = text.rstrip(" ") + "\n\n"
        apply(shown, m.update_reply(text))
    kept = list(shown)
    apply(shown, m.end_reply("complete", {"eval_count": 120, "gen_tps": 31.5}, None))
    assert shown == m.items
    texts = [i for i in shown if i["viewclass"] == "TextItem"][1:]
    assert [m.item_text(shown.index(i)) for i in texts] == paragraphs
    # every paragraph's item is the one it was while streaming (the header says it is done; the status line
    # closes the bubble instead of the last paragraph)
    assert all(shown[j] is kept[j] for j in range(len(kept) - 1) if j != 2)
    assert shown[-1]["viewclass"] == "StatusItem" and "31.5 tok/s" in shown[-1]["markup"]
    assert shown[-1]["bubble_last"] and not any(i["bubble_last"] for i in shown[3:-1])
    header = shown[2]
    assert header["can_regenerate"] and not header["meta_text"].endswith("generating…")


def test_a_streaming_update_is_independent_of_the_reply_length() -> None:
    """A long reply: the splice of an update covers the tail block only, never the earlier blocks."""
    m = model()
    shown: list[dict[str, Any]] = []
    apply(shown, m.begin_reply("m"))
    text = "".join(f"Block {k}: " + "words " * 30 + "\n\n" for k in range(400))
    apply(shown, m.update_reply(text))
    n = len(shown)
    assert n > 400
    splices = m.update_reply(text + "More text being")
    apply(shown, splices)
    (splice,) = splices
    assert splice.start >= n - 2 and len(splice.new) <= 2


def test_long_code_block_is_cut_in_pieces_with_the_whole_code_behind_copy() -> None:
    code = "\n".join(f"line_{i} = {i}" for i in range(75))
    m = model()
    apply(items := [], m.load([assistant(f"```python\n{code}\n```\n")]))
    pieces = [i for i in items if i["viewclass"] == "CodeItem"]
    assert len(pieces) == 3  # 30 + 30 + 15 lines
    assert [p["code_first"] for p in pieces] == [True, False, False]
    assert [p["code_last"] for p in pieces] == [False, False, True]
    assert [p["show_header"] for p in pieces] == [True, False, False]
    assert len({p["code_key"] for p in pieces}) == 1 and m.code(pieces[0]["code_key"]) == code
    assert [p["joined"] for p in pieces] == [True, True, False]
    start = items.index(pieces[0])
    joined = m.item_text(start) + m.separator(start) + m.item_text(start + 1) + m.separator(start + 1)
    assert joined + m.item_text(start + 2) == code
    # streamed, the same block is cut in short pieces that stay once it is finished
    s = model()
    apply(streamed := [], s.begin_reply("m"))
    text = f"```python\n{code}\n```\n\nAfter."
    for end in range(20, len(text), 40):
        apply(streamed, s.update_reply(text[:end]))
    apply(streamed, s.update_reply(text))
    before = [i for i in streamed if i["viewclass"] == "CodeItem"]
    apply(streamed, s.end_reply("complete", None, None))
    after = [i for i in streamed if i["viewclass"] == "CodeItem"]
    assert len(after) == 13  # 6-line pieces
    assert all(a is b for a, b in zip(before, after, strict=True))


def test_long_paragraph_pieces_join_back_to_the_exact_text() -> None:
    words = " ".join(f"w{k}" for k in range(2000))
    m = model()
    apply(items := [], m.load([assistant(words)]))
    texts = [k for k, i in enumerate(items) if i["viewclass"] == "TextItem"]
    assert len(texts) > 3
    joined = "".join(m.item_text(k) + (m.separator(k) if k != texts[-1] else "") for k in texts)
    assert joined == words


def test_thinking_toggle_and_status_lines() -> None:
    m = model()
    apply(
        items := [],
        m.load(
            [
                assistant("4", thinking="2+2", status="interrupted"),
                assistant("x", error="boom [7]", status="error"),
            ]
        ),
    )
    kinds = [i["viewclass"] for i in items]
    assert kinds == [
        "HeaderItem",
        "ThinkingItem",
        "TextItem",
        "StatusItem",
        "HeaderItem",
        "TextItem",
        "StatusItem",
    ]
    assert "Interrupted" in items[3]["markup"] and "boom &bl;7&br;" in items[6]["markup"]
    apply(items, m.toggle_thinking(0))
    assert items == m.items and items[2]["style"] == "thinking" and m.item_text(2) == "2+2"
    assert items[1]["expanded"]


def test_other_scripts_get_a_system_font_and_copy_back_as_typed() -> None:
    """Characters Roboto lacks are wrapped in a font that has them (fontconfig); Arabic is shaped and in
    display order, yet the item's text (what a selection copies) is what was written."""
    from ui.fonts import fontconfig_available

    text = "Emoji 😀, 中文 and مرحبا بالعالم."
    m = model()
    apply(items := [], m.load([assistant(text)]))
    markup = items[1]["markup"]
    assert m.item_text(1) == text
    if fontconfig_available():
        fonts = {part.split("]")[0] for part in markup.split("[font=")[1:]}
        assert len(fonts) >= 2 and all(Path(f).exists() for f in fonts), markup
        assert "中文" in markup and "مرحبا" not in markup  # shaped: presentation forms, reversed


def test_the_model_needs_no_window() -> None:
    """Run in a process without a display: the model imports nothing that opens a window."""
    script = """
import json, sys
from datetime import UTC, datetime
from core.conversation import Message
from ui.chat_model import ChatModel
m = ChatModel({"link": "#00f", "inline_code": "#a00", "warning": "#aa0", "danger": "#f00"}, "friendly",
              {"chunk_chars": 1500, "chunk_lines": 30, "stream_code_lines": 6})
m.load([Message(role="user", content="hi", created=datetime.now(UTC))])
m.begin_reply("m")
m.update_reply("# T\\n\\ntext with `code`\\n\\n```py\\nx = 1\\n")
m.end_reply("complete", None, None)
print(json.dumps({"items": [i["viewclass"] for i in m.items],
                  "window": any(k.startswith(("kivy.core.window", "kivy.core.gl")) for k in sys.modules)}))
"""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["KIVY_NO_CONSOLELOG"] = "1"
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["window"] is False
    assert result["items"] == ["HeaderItem", "TextItem", "HeaderItem", "TextItem", "TextItem", "CodeItem"]


def test_attached_files_are_collapsed_items_that_open_and_close() -> None:
    from core.attachments import Attachment, message_with_files

    files = [Attachment("a.py", "python", "x = 1\ny = [2]\n"), Attachment("b.txt", "", "plain\n")]
    m = model()
    shown: list[dict[str, Any]] = []
    apply(shown, m.load([user(message_with_files("Check [these]", files)), assistant("Done.")]))
    assert shown == m.items
    kinds = [(i["viewclass"], i.get("title") or i.get("markup")) for i in m.items if i["msg_index"] == 0]
    assert kinds[1:] == [
        ("TextItem", "Check &bl;these&br;"),
        ("FileItem", "a.py · 2 lines"),
        ("FileItem", "b.txt · 1 line"),
    ]
    apply(shown, m.toggle_file(0, 1))  # the second file opens: its text as code below its header
    assert shown == m.items
    user_items = [i for i in m.items if i["msg_index"] == 0]
    assert [i["viewclass"] for i in user_items[2:]] == ["FileItem", "FileItem", "CodeItem"]
    assert user_items[3]["expanded"] and m.code("0:file1") == "plain\n"
    assert m.items[-1]["msg_index"] == 1  # the reply is untouched, after it
    apply(shown, m.toggle_file(0, 1))
    assert shown == m.items and not any(i["viewclass"] == "CodeItem" for i in m.items)
    assert m.toggle_file(5, 0) == []


def test_headers_show_the_version_and_which_arrows_apply() -> None:
    m = model()
    first, second = assistant("one"), assistant("two")
    third = assistant("three", versions=[[first], [second]], version=2)
    m.load([user("q"), third])
    head = [i for i in m.items if i["viewclass"] == "HeaderItem"]
    assert [(h["version_text"], h["can_prev"], h["can_next"]) for h in head] == [
        ("", False, False),
        ("3/3", True, False),
    ]
    third.versions, third.version = [[first], [second]], 0  # the first of three
    m.load([user("q"), third])
    assert [
        (i["version_text"], i["can_prev"], i["can_next"]) for i in m.items if i["viewclass"] == "HeaderItem"
    ][1] == ("1/3", False, True)
    # a regenerated reply streams as the newest version, without arrows until it ends
    m.load([user("q")])
    m.begin_reply("smollm2:135m", earlier=[[first], [second]])
    head = [i for i in m.items if i["viewclass"] == "HeaderItem"][-1]
    assert (head["version_text"], head["can_prev"], head["can_next"]) == ("3/3", False, False)
    m.update_reply("thr")
    m.end_reply("complete")
    head = [i for i in m.items if i["viewclass"] == "HeaderItem"][-1]
    assert (head["version_text"], head["can_prev"]) == ("3/3", True)
