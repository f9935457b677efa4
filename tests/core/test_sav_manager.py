"""conversation.md: exact round-trip of any content, readable Markdown, clear errors (writes: test_fileio)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from core.attachments import Attachment, message_with_files, split_attachments
from core.conversation import Conversation, Message
from core.errors import ConversationCorrupt
from core.sav_manager import (
    extension_for,
    extract_code_blocks,
    parse,
    read_conversation,
    render,
    write_conversation,
)

T0 = datetime(2026, 11, 24, 8, 12, 3, 123456, tzinfo=UTC)

# Lines chosen to look like the format's own structure, Markdown that swallows text, and line-ending oddities.
TRICKY_LINES = [
    "---",
    "format: ia-conversation/1",
    "```",
    "```python",
    "````",
    "`````md",
    "~~~",
    "~~~~ js",
    "   ```",
    "<!-- ia:end m1 -->",
    '<!-- ia:end m2 closer="```" -->',
    "<!-- ia:message id=m1 role=user created=2026-01-01T00:00:00+00:00 status=complete -->",
    "<!-- ia:thinking id=m1 -->",
    "<!-- ia:eof -->",
    "<!-- a comment",
    "-->",
    "## 🧑 User · 2026-11-24 08:12:03 UTC",
    "# Heading",
    "<details><summary>x</summary>",
    "</details>",
    "trailing spaces   ",
    "\t",
    "",
    "- list item",
    "> quote",
    "1. ```",
    "ünïcödé 漢字 🎉",
    "\ufeffbom",
    "\u2028line separator",
]

line_text = st.one_of(st.sampled_from(TRICKY_LINES), st.text(max_size=30))
plain_content = st.one_of(
    st.text(),
    st.lists(st.tuples(line_text, st.sampled_from(["\n", "\r\n", "\r", ""])), max_size=12).map(
        lambda parts: "".join(line + end for line, end in parts)
    ),
)
# A message with text files attached (core.attachments): fenced blocks named after the files.
attached = st.builds(Attachment, name=st.text(min_size=1, max_size=20), lang=st.sampled_from(["", "python"]),
                     text=plain_content)  # fmt: skip
content = st.one_of(
    plain_content,
    st.builds(message_with_files, plain_content, st.lists(attached, min_size=1, max_size=2)),
)
times = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
)  # fmt: skip
messages = st.builds(
    Message,
    role=st.sampled_from(["user", "assistant", "system"]),
    content=content,
    created=times,
    model=st.one_of(st.none(), st.sampled_from(["smollm2:135m", "gemma3:270m", ""]), st.text(max_size=20)),
    thinking=st.one_of(st.just(""), content),
    images=st.lists(st.text(min_size=1, max_size=20).map(lambda s: f"attachments/{s}"), max_size=2),
    status=st.sampled_from(["complete", "streaming", "interrupted", "error"]),
    error=st.one_of(st.none(), st.text(max_size=40)),
    stats=st.one_of(st.none(), st.dictionaries(st.text(max_size=10), json_scalars, max_size=4)),
)
conversations = st.builds(
    Conversation,
    title=st.text(max_size=40),
    slug=st.just("s"),
    created=times,
    updated=times,
    model=st.text(max_size=20),
    system_prompt=content,
    options=st.dictionaries(st.text(max_size=10), json_scalars, max_size=4),
    messages=st.lists(messages, max_size=5),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversations)
def test_render_then_parse_gives_the_same_conversation(conv: Conversation) -> None:
    text = render(conv)
    assert parse(text, "s") == conv
    assert parse(text.encode("utf-8").decode("utf-8"), "s") == conv


def _without_cr(conv: Conversation) -> Conversation:
    """The same conversation with no carriage return in any text (a CRLF file cannot tell those apart)."""
    for msg in conv.messages:
        msg.content, msg.thinking = msg.content.replace("\r", ""), msg.thinking.replace("\r", "")
    conv.system_prompt = conv.system_prompt.replace("\r", "")
    return conv


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversations.map(_without_cr), st.booleans(), st.booleans())
def test_a_file_saved_by_an_editor_with_crlf_or_a_bom_reads_the_same(conv: Conversation, crlf, bom) -> None:
    text = render(conv)
    if crlf:
        text = text.replace("\n", "\r\n")
    if bom:
        text = "\ufeff" + text
    assert parse(text, "s") == conv


def _conv(*msgs: Message) -> Conversation:
    return Conversation(title="Demo", slug="demo", created=T0, updated=T0, messages=list(msgs))


def test_unbalanced_fence_is_closed_for_viewers_and_removed_when_read() -> None:
    conv = _conv(
        Message("user", "```python\nprint(1)", T0),
        Message("assistant", "Answer after the fence", T0 + timedelta(seconds=2), model="smollm2:135m"),
    )
    text = render(conv)
    tokens = MarkdownIt("commonmark").parse(text)
    paragraphs = [t.content for t in tokens if t.type == "inline"]
    # The second message is rendered as a paragraph, not swallowed by the first one's open code block.
    assert "Answer after the fence" in paragraphs
    assert parse(text, "demo").messages[0].content == "```python\nprint(1)"


def test_unbalanced_fence_in_a_very_long_message_is_closed_too() -> None:
    long_code = "~~~~python\n" + "x = 1\n" * 20_000  # past the size where lines are scanned directly
    conv = _conv(Message("user", long_code, T0), Message("assistant", "Visible reply", T0))
    text = render(conv)
    assert "Visible reply" in [t.content for t in MarkdownIt("commonmark").parse(text) if t.type == "inline"]
    assert parse(text, "demo") == conv


def test_rendered_markdown_hides_the_delimiters() -> None:
    conv = _conv(Message("user", "Hello", T0), Message("assistant", "Hi!", T0, thinking="Let me think"))
    html = MarkdownIt("commonmark").render(render(conv))
    visible = html.replace("<!--", "\0").split("\0")
    assert all("ia:message" not in part.split("-->")[-1] for part in visible)
    assert "<p>Hello</p>" in html and "<p>Hi!</p>" in html
    assert "<details><summary>💭 Thinking</summary>" in html


def test_hand_edited_message_text_loads(tmp_path: Path) -> None:
    path = tmp_path / "demo" / "conversation.md"
    write_conversation(path, _conv(Message("user", "Hello", T0), Message("assistant", "Old answer", T0)))
    text = path.read_text(encoding="utf-8")
    # An editor: change the text, drop the blank lines around it, save with CRLF line endings.
    edited = text.replace("\n\nOld answer\n\n", "\nA new answer\non two lines\n").replace("\n", "\r\n")
    path.write_bytes(edited.encode("utf-8"))
    conv = read_conversation(path)
    assert [m.content for m in conv.messages] == ["Hello", "A new answer\non two lines"]
    assert conv.slug == "demo"


def _edited_example() -> str:
    return render(
        _conv(
            Message("user", "Hello", T0),
            Message(
                "assistant",
                "Old answer\n```python\nprint(1)\n```",
                T0,
                model="m",
                thinking="Let me think",
                images=["attachments/a.png"],
            ),
            Message("user", "Second question", T0 + timedelta(seconds=5)),
        )
    )


def _drop_message(text: str, block_id: str) -> str:
    marker = text.index(f"<!-- ia:message id={block_id} ")
    start = text.rindex("\n## ", 0, marker)  # from its heading, thinking block included
    end = text.index(f"<!-- ia:end {block_id} -->", marker)
    return text[:start] + text[text.index("\n", end) :]


# Edits a person makes in an editor that keep the markers: each loads, with exactly the edit applied.
EDITOR_EDITS = {
    "change-text": (lambda t: t.replace("Old answer", "New answer"), ["Hello", "New answer\n```python\nprint(1)\n```", "Second question"]),
    "delete-a-message": (lambda t: _drop_message(t, "m2"), ["Hello", "Second question"]),
    "crlf": (lambda t: t.replace("\n", "\r\n"), None),
    "bom": (lambda t: "\ufeff" + t, None),
    "bom-and-crlf": (lambda t: "\ufeff" + t.replace("\n", "\r\n"), None),
    "tab-after-front-matter-colon": (lambda t: t.replace("title: ", "title:\t"), None),
    "trailing-spaces-and-tabs-after-markers": (lambda t: t.replace(" -->\n", " --> \t \n"), None),
    "no-newline-at-end": (lambda t: t.rstrip("\n"), None),
    "blank-lines-around-text-removed": (lambda t: t.replace("-->\n\nHello\n\n<!--", "-->\nHello\n<!--"), None),
    "details-reformatted": (
        lambda t: t.replace("<details><summary>💭 Thinking</summary>", "<details open>\n  <summary>Thoughts</summary>"),
        None,
    ),
    "headings-rewritten": (lambda t: t.replace("## 🧑 User", "## Me").replace("# Demo", "# My title"), None),
    "tab-indented-text": (lambda t: t.replace("Second question", "\tSecond\n\tquestion"), ["Hello", "Old answer\n```python\nprint(1)\n```", "\tSecond\n\tquestion"]),
}  # fmt: skip


def _write_edited(tmp_path: Path, mangle) -> Path:
    """The example conversation with `mangle` applied, as an editor would have saved it."""
    path = tmp_path / "demo" / "conversation.md"
    path.parent.mkdir()
    path.write_bytes(mangle(_edited_example()).encode("utf-8"))
    return path


@pytest.mark.parametrize("edit", EDITOR_EDITS, ids=list(EDITOR_EDITS))
def test_editor_edits_that_keep_the_markers_load(tmp_path: Path, edit: str) -> None:
    mangle, expected = EDITOR_EDITS[edit]
    path = _write_edited(tmp_path, mangle)
    before = path.read_bytes()
    conv = read_conversation(path)
    assert [m.content for m in conv.messages] == (
        expected or ["Hello", "Old answer\n```python\nprint(1)\n```", "Second question"]
    )
    assert conv.messages[-1].created == T0 + timedelta(seconds=5)
    if len(conv.messages) == 3:
        assert (conv.messages[1].thinking, conv.messages[1].images) == ("Let me think", ["attachments/a.png"])
    assert path.read_bytes() == before


# Edits that would lose text if the file were loaded and saved again: each is reported with its line.
BROKEN_EDITS = {
    "marker-in-upper-case": (lambda t: t.replace("<!-- ia:message id=m1", "<!-- IA:message id=m1"), "line 15 .*not a marker"),
    "indented-marker": (lambda t: t.replace("<!-- ia:message id=m1", "    <!-- ia:message id=m1"), "line 15 .*not a marker"),
    "end-marker-renamed": (lambda t: t.replace("<!-- ia:end m1 -->", "<!-- ia:end m9 -->"), "m1 has no end marker"),
    "note-typed-between-messages": (lambda t: t.replace("<!-- ia:end m1 -->\n", "<!-- ia:end m1 -->\nmy note\n"), "'my note' lies outside any message"),
    "message-pasted-after-eof": (lambda t: t + "\nadded later\n", "'added later' lies outside any message"),
    "eof-removed": (lambda t: t.replace("<!-- ia:eof -->\n", ""), "ia:eof"),
    "half-a-heading-left": (lambda t: t.replace("## 🧑 User", "", 1), "outside any message"),
}  # fmt: skip


@pytest.mark.parametrize("edit", BROKEN_EDITS, ids=list(BROKEN_EDITS))
def test_edits_that_would_lose_text_are_reported_not_loaded(tmp_path: Path, edit: str) -> None:
    mangle, reason = BROKEN_EDITS[edit]
    path = _write_edited(tmp_path, mangle)
    before = path.read_bytes()
    with pytest.raises(ConversationCorrupt, match=reason):
        read_conversation(path)
    assert path.read_bytes() == before


def test_image_names_with_line_breaks_stay_on_one_line_for_viewers() -> None:
    conv = _conv(
        Message("user", "look", T0, images=["attachments/a\nb.png", "attachments/x\n<!-- ia:eof -->"])
    )
    text = render(conv)
    assert parse(text, "demo") == conv
    assert "![a b.png](<attachments/a b.png>)" in text


def test_hand_written_front_matter_without_quotes_loads() -> None:
    text = render(_conv(Message("user", "Hello", T0))).replace('title: "Demo"', "title: My notes")
    text = text.replace(T0.isoformat(), "2026-11-24 08:12:03", 1)
    conv = parse(text, "demo")
    assert conv.title == "My notes"
    assert conv.created == datetime(2026, 11, 24, 8, 12, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    ("mangle", "reason"),
    [
        (lambda t: t[: t.index("<!-- ia:end m2")], "m2 has no end marker"),
        (lambda t: t[: t.index("<!-- ia:eof")], "ia:eof"),
        (lambda t: t[:20], "front matter has no closing"),
        (lambda t: t.replace("---\n", "", 1), "front matter"),
        (lambda t: t.replace("role=assistant", "role=robot"), "unknown role"),
        (lambda t: t.replace("status=complete", "status=done", 1), "unknown status"),
        (lambda t: t.replace("options: {}", "options: {broken"), "options"),
        (lambda t: t.replace("<!-- ia:message id=m2", "<!-- ia:message ", 1), "no id"),
    ],
)
def test_unparseable_file_raises_conversation_corrupt_with_reason(mangle, reason: str) -> None:
    text = render(_conv(Message("user", "Hello", T0), Message("assistant", "Hi", T0)))
    with pytest.raises(ConversationCorrupt) as info:
        parse(mangle(text), "demo")
    assert reason in str(info.value)
    assert "left untouched" in str(info.value)


def test_invalid_utf8_is_reported_and_the_file_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "demo" / "conversation.md"
    write_conversation(path, _conv(Message("user", "Hello", T0)))
    data = path.read_bytes().replace(b"Hello", b"Hel\xff\xfelo")
    path.write_bytes(data)
    with pytest.raises(ConversationCorrupt, match="not valid UTF-8"):
        read_conversation(path)
    assert path.read_bytes() == data


def test_five_megabyte_paste_round_trips(tmp_path: Path) -> None:
    paste = ("line of pasted log output with `code` and ``` fences 12345\n" * 90_000)[: 5 * 1024 * 1024]
    path = tmp_path / "big" / "conversation.md"
    write_conversation(path, _conv(Message("user", paste, T0)))
    assert read_conversation(path).messages[0].content == paste


def test_attached_files_round_trip_exactly_through_the_file(tmp_path: Path) -> None:
    files = [
        Attachment("main.py", "python", 'print("```")\n<!-- ia:end m1 -->\n'),
        Attachment("odd`name.md", "md", "~~~\n## 🧑 User\n"),
    ]
    content = message_with_files("Look at these", files)
    path = tmp_path / "s" / "conversation.md"
    write_conversation(path, _conv(Message("user", content, T0), Message("assistant", "Seen.", T0)))
    back = read_conversation(path).messages[0].content
    assert back == content
    assert split_attachments(back) == ["Look at these", *files]
    assert 'File: main.py\n````python file="main.py"\n' in path.read_text(encoding="utf-8")


def test_code_blocks_are_found_in_order_with_languages() -> None:
    reply = (
        "Intro\n```python\nprint(1)\n```\ntext\n~~~js\nconsole.log(2)\n~~~\n- item\n\n  ```\n  plain\n  ```\n"
    )
    blocks = extract_code_blocks(reply)
    assert [(b.index, b.lang, b.code) for b in blocks] == [
        (1, "python", "print(1)\n"),
        (2, "js", "console.log(2)\n"),
        (3, "", "plain\n"),
    ]


@pytest.mark.parametrize(
    ("lang", "ext"),
    [("python", ".py"), ("Python", ".py"), ("js", ".js"), ("rust", ".rs"), ("haskell", ".hs"), ("", ".txt"),
     ("no-such-language", ".txt"), ("c++", ".cpp")],
)  # fmt: skip
def test_extension_for_language(lang: str, ext: str) -> None:
    assert extension_for(lang) == ext


def test_the_conversation_model_stands_apart_from_the_file_format() -> None:
    """core.conversation holds the records; importing it loads neither this format nor a Markdown parser."""
    import subprocess
    import sys

    code = (
        "import sys, core.conversation as c\n"
        "assert c.Message.__module__ == c.Conversation.__module__ == 'core.conversation'\n"
        "print(sorted(m for m in ('core.sav_manager', 'markdown_it', 'core.fileio') if m in sys.modules))"
    )
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
