"""Export: clean Markdown for reading and sharing, JSON with every field, written atomically."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from config import Settings
from core.conversation import Conversation, Message
from core.errors import ConversationCorrupt, StorageError, StorageWriteError
from core.export import to_json, to_markdown
from core.session_manager import SessionManager

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _conv() -> Conversation:
    return Conversation(
        "Demo: «x»",
        "demo",
        T0,
        T0,
        model="m",
        system_prompt="Be brief.\n\nAnswer in English.",
        options={"seed": 1, "temperature": 0.2},
        messages=[
            Message("user", "```python\nprint(1)", T0, images=["attachments/a.png"]),
            Message(
                "assistant",
                "Answer with a marker <!-- ia:end m1 --> and ünïcödé",
                T0,
                model="m",
                thinking="let me think",
                status="interrupted",
                error="Stopped by the user.",
                stats={"eval_count": 3, "gen_tps": 12.5},
            ),
        ],
    )


def test_markdown_reads_like_the_conversation_without_storage_markers() -> None:
    text = to_markdown(_conv())
    tokens = MarkdownIt("commonmark").parse(text)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings == [
        "Demo: «x»",
        "🧑 User · 2026-11-24 08:00:00 UTC",
        "🤖 Assistant · 2026-11-24 08:00:00 UTC · m · ⚠️ interrupted",
    ]  # the open fence of the first message is closed: the second heading is still a heading
    assert [t.content for t in tokens if t.type == "fence"] == ["print(1)\n"]
    assert "> Be brief.\n>\n> Answer in English." in text
    assert "<details><summary>💭 Thinking</summary>\n\nlet me think\n\n</details>" in text
    assert "> ⚠️ Stopped by the user." in text and "ünïcödé" in text
    assert "ia:message" not in text and "ia:eof" not in text and "format: ia-conversation" not in text


def test_json_holds_every_field_and_rebuilds_the_conversation() -> None:
    conv = _conv()
    data = json.loads(to_json(conv, {"attachments/a.png": PNG}))
    assert "ünïcödé" in to_json(conv)  # readable, not \u-escaped
    assert data.pop("format") == "ia-conversation-export/1"
    assert base64.b64decode(data.pop("attachments")["attachments/a.png"]) == PNG
    messages = [
        Message(**{**m, "created": datetime.fromisoformat(m["created"])}) for m in data.pop("messages")
    ]
    rebuilt = Conversation(
        **{
            **data,
            "created": datetime.fromisoformat(data["created"]),
            "updated": datetime.fromisoformat(data["updated"]),
        },
        messages=messages,
    )
    assert rebuilt == conv


@pytest.fixture
def sm(ia_home: Path) -> SessionManager:
    manager = SessionManager(Settings(home=ia_home))
    yield manager
    manager.close()


def test_export_to_a_folder_or_a_file_with_image_links_that_still_work(
    sm: SessionManager, tmp_path: Path
) -> None:
    conv = sm.create("With picture")
    sm.add_user_message(conv, "look", images=[PNG])
    out = tmp_path / "exports"
    out.mkdir()
    md = sm.export(conv.slug, "md", out)
    assert md == out / "with-picture.md"
    link = md.read_text(encoding="utf-8").split("](<", 1)[1].split(">)", 1)[0]
    assert (md.parent / link).read_bytes() == PNG  # resolves from where the export was written
    nested = sm.export("With picture", "json", tmp_path / "a" / "b" / "chat.json")
    assert json.loads(nested.read_text(encoding="utf-8"))["messages"][0]["images"] == [
        "attachments/image.png"
    ]


def test_export_of_a_damaged_session_or_to_an_unwritable_place_says_why(
    sm: SessionManager, tmp_path: Path
) -> None:
    conv = sm.create("Exported")
    sm.add_user_message(conv, "hello")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageWriteError, match="not a folder"):
        sm.export(conv.slug, "md", blocker / "out.md")
    path = sm.session_dir(conv) / "conversation.md"
    path.write_bytes(path.read_bytes()[:-30])
    with pytest.raises(ConversationCorrupt):
        sm.export(conv.slug, "json", tmp_path / "out.json")
    assert not (tmp_path / "out.json").exists()


# ---------------------------------------------------------------------------------------------- from a real session

REPLY = (
    "Here it is:\n\n```python\ndef is_prime(n):\n    return n > 1 and all(n % d for d in range(2, n))\n```\n\n"
    "See [the docs](https://docs.python.org/3/) — <script>alert('x')</script> "
    "![a remote picture](https://example.com/cat.png)"
)


def _real_session(sm: SessionManager) -> Conversation:
    """A session made the way the app and the CLI make one: code, thinking, an image, several scripts."""
    from tests.fixtures.exports import png

    conv = sm.create(
        "Primes — ünïcode ✓ 日本語", model="thinker:latest", system_prompt="Be brief.\nNo fluff."
    )
    sm.add_user_message(conv, "Write is_prime 🐍\nline two <b>not bold</b>", images=[png(6, 5)])
    writer = sm.start_reply(conv, "thinker:latest")
    writer.append_thinking("Trial division up to √n; skip evens.")
    writer.append(REPLY)
    writer.finish(None)
    return sm.load(conv.slug)


class _Page(HTMLParser):
    """Every tag with its attributes, the text, and the style sheets of an HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.styles if self._in_style else self.text).append(data)


def test_html_page_is_standalone_with_code_highlighted_and_the_image_embedded(
    sm: SessionManager, tmp_path: Path
) -> None:
    conv = _real_session(sm)
    image = (sm.session_dir(conv) / conv.messages[0].images[0]).read_bytes()
    path = sm.export(conv.slug, "html", tmp_path)
    assert path == tmp_path / f"{conv.slug}.html"
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    names = [tag for tag, _ in page.tags]
    assert not {"script", "link", "iframe", "object", "embed", "base", "form"} & set(names)
    meta = {a.get("http-equiv"): a.get("content") for t, a in page.tags if t == "meta"}
    assert "default-src 'none'" in meta["Content-Security-Policy"]
    # Nothing is fetched: every source is embedded; the only web addresses are links a reader may follow.
    sources = [a["src"] for _, a in page.tags if "src" in a]
    assert sources and all(s.startswith("data:image/") for s in sources)
    assert base64.b64decode(sources[0].split(",", 1)[1]) == image
    assert sources[0].startswith("data:image/png;base64,")
    links = {a["href"] for t, a in page.tags if t == "a"}
    assert links == {"https://docs.python.org/3/", "https://example.com/cat.png"}
    for tag, attrs in page.tags:
        for name, value in attrs.items():
            if "http" in value and not (tag == "a" and name == "href"):
                raise AssertionError(f"external address in <{tag} {name}={value!r}>")
    css = "".join(page.styles)
    assert "url(" not in css and "@import" not in css
    # Code highlighted by Pygments, with its colors in the page.
    assert '<span class="k">def</span>' in path.read_text(encoding="utf-8")
    assert "pre code .k {" in css
    text = "".join(page.text)
    assert "Primes — ünïcode ✓ 日本語" in text and "🐍" in text and "√n" in text
    assert "<script>alert('x')</script>" in text  # shown as text, never run
    assert "<b>not bold</b>" in text and ("b", {}) not in page.tags
    assert ("details", {"class": "thinking"}) in page.tags
    assert "Be brief.\nNo fluff." in text
    assert text.index("Write is_prime") < text.index("Here it is:")


def test_markdown_export_of_a_real_session(sm: SessionManager, tmp_path: Path) -> None:
    conv = _real_session(sm)
    path = sm.export(conv.slug, "md", tmp_path / "out" / "chat.md")
    text = path.read_text(encoding="utf-8")
    tokens = MarkdownIt("commonmark").parse(text)
    assert [t.content for t in tokens if t.type == "fence"][0].startswith("def is_prime(n):")
    assert "<details><summary>💭 Thinking</summary>\n\nTrial division up to √n; skip evens." in text
    assert text.startswith("# Primes — ünïcode ✓ 日本語\n")
    link = text.split("](<", 1)[1].split(">)", 1)[0]
    assert (path.parent / link).read_bytes() == (
        sm.session_dir(conv) / conv.messages[0].images[0]
    ).read_bytes()


def test_json_export_of_a_real_session_holds_its_image(sm: SessionManager, tmp_path: Path) -> None:
    conv = _real_session(sm)
    data = json.loads(sm.export(conv.slug, "json", tmp_path / "c.json").read_text(encoding="utf-8"))
    image = conv.messages[0].images[0]
    assert data["format"] == "ia-conversation-export/1" and data["title"] == conv.title
    assert base64.b64decode(data["attachments"][image]) == (sm.session_dir(conv) / image).read_bytes()
    assert data["messages"][1]["thinking"] == "Trial division up to √n; skip evens."
    assert data["messages"][1]["content"] == REPLY


def test_html_export_says_when_an_image_file_is_missing(sm: SessionManager, tmp_path: Path) -> None:
    conv = _real_session(sm)
    (sm.session_dir(conv) / conv.messages[0].images[0]).unlink()
    text = sm.export(conv.slug, "html", tmp_path / "x.html").read_text(encoding="utf-8")
    assert "the image file was missing when this page was made" in text and "<img" not in text


def test_unknown_export_format_is_refused(sm: SessionManager, tmp_path: Path) -> None:
    conv = _real_session(sm)
    with pytest.raises(StorageError, match="Unknown export format 'pdf': use one of md, json, html"):
        sm.export(conv.slug, "pdf", tmp_path / "x.pdf")
    assert not (tmp_path / "x.pdf").exists()
