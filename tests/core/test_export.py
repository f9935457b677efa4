"""Export: clean Markdown for reading and sharing, JSON with every field, written atomically."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from config import Settings
from core.conversation import Conversation, Message
from core.errors import ConversationCorrupt, StorageWriteError
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
    data = json.loads(to_json(conv))
    assert "ünïcödé" in to_json(conv)  # readable, not \u-escaped
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
