"""Import: IA_V3's JSON export back exactly, Open WebUI and ChatGPT exports (their branch on screen, many in one
file), and files that cannot be imported refused with a sentence while nothing is left in sav/ or the index."""

from __future__ import annotations

import base64
import json
import os
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from config import Settings
from core.conversation import Conversation, Message
from core.errors import ImportRefused
from core.importers import MAX_IMPORT_BYTES
from core.session_manager import SessionManager
from core.slugs import is_safe_slug
from tests.fixtures.exports import PNG, chatgpt_conversation, chatgpt_zip, openwebui_chat, png

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.fixture
def sm(ia_home: Path) -> SessionManager:
    manager = SessionManager(Settings(home=ia_home))
    yield manager
    manager.close()


def _session(sm: SessionManager) -> Conversation:
    conv = sm.create(
        "Round trip — ünïcode ✓", model="thinker:latest", system_prompt="Be brief.", options={"seed": 3}
    )
    sm.add_user_message(conv, "Show me code 🐍\n```python\nprint('open fence'", images=[png(5, 4)])
    writer = sm.start_reply(conv, "thinker:latest")
    writer.append_thinking("Think <!-- ia:end m2 --> hard.")
    writer.append("```js\nconsole.log('日本')\n```\n\nDone.")
    writer.finish(None)
    sm.add_user_message(conv, "and again")
    writer = sm.start_reply(conv, "thinker:latest")
    writer.append("partial")
    writer.fail("Stopped by the user.")
    return sm.load(conv.slug)


def _entries(sav: Path) -> list[str]:
    """Everything under sav/, hidden files and staging folders included."""
    if not sav.exists():
        return []
    return sorted(str(p.relative_to(sav)) for p in sav.rglob("*"))


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------- IA_V3


def test_json_export_then_import_gives_the_same_conversation(sm: SessionManager, tmp_path: Path) -> None:
    conv = _session(sm)
    image = conv.messages[0].images[0]
    image_bytes = (sm.session_dir(conv) / image).read_bytes()
    exported = sm.export(conv.slug, "json", tmp_path / "chat.json")
    sm.delete(conv.slug)
    result = sm.import_file(exported)
    assert result.source == "IA_V3 export" and not result.skipped and not result.notes
    [back] = result.conversations
    assert back == conv  # title, slug, dates, model, prompt, options, every message field
    assert sm.load(conv.slug) == conv
    assert (sm.session_dir(conv) / image).read_bytes() == image_bytes
    # Imported again while the original is there: a second conversation, equal but for its slug.
    again = sm.import_file(exported).conversations[0]
    assert again.slug == f"{conv.slug}-2"
    assert sm.load(again.slug) == Conversation(**{**conv.__dict__, "slug": again.slug})


def test_import_is_searchable_at_once(sm: SessionManager, tmp_path: Path) -> None:
    sm.revalidate_s = 3600  # no re-scan of sav/ may help: the import itself must index
    assert sm.search("zebrafish") == []
    path = _write(tmp_path / "c.json", [chatgpt_conversation("Zebrafish facts", image_id=None)])
    slug = sm.import_file(path).conversations[0].slug
    assert [h.slug for h in sm.search("zebrafish")] == [slug]
    assert [h.slug for h in sm.search("Ελληνικά")] == [slug]
    assert [i.slug for i in sm.index.rows()] == [slug]


def test_older_json_exports_without_a_format_still_import(sm: SessionManager, tmp_path: Path) -> None:
    conv = _session(sm)
    data = json.loads(sm.export(conv.slug, "json", tmp_path / "c.json").read_text(encoding="utf-8"))
    del data["format"], data["attachments"]  # what the export wrote before images were included
    result = sm.import_file(_write(tmp_path / "old.json", data))
    back = result.conversations[0]
    assert [m.content for m in back.messages] == [m.content for m in conv.messages]
    assert back.messages[0].images == []  # the image was not in that file: said so, not linked to nothing
    assert result.notes == [
        "1 image could not be brought along (not in the export, or not an image this app reads)"
    ]


# ---------------------------------------------------------------------------------------------- Open WebUI


def test_open_webui_export_imports_the_branch_on_screen(sm: SessionManager, tmp_path: Path) -> None:
    chat = openwebui_chat()
    result = sm.import_file(_write(tmp_path / "chat-export-1731000100000.json", [chat]))
    assert result.source == "Open WebUI export"
    [conv] = result.conversations
    assert conv.title == "Primes in Python 🐍"
    assert conv.created == datetime.fromtimestamp(1_731_000_000, UTC)
    assert conv.updated == datetime.fromtimestamp(1_731_000_064, UTC)
    assert conv.model == "llama3.2:latest" and conv.system_prompt == "You are terse."
    assert conv.options == {"temperature": 0.6, "seed": 7, "num_predict": 512}
    assert [m.role for m in conv.messages] == ["user", "assistant", "user", "assistant"]
    assert "sympy" not in json.dumps([m.content for m in conv.messages])  # the other branch is left out
    reply = conv.messages[1]
    assert reply.thinking == "The user wants a prime test.\nTrial division up to √n is enough."
    assert reply.content.startswith("Here it is:\n\n```python\ndef is_prime(n):")
    assert "<details" not in reply.content and reply.model == "llama3.2:latest"
    assert reply.created == datetime.fromtimestamp(1_731_000_009, UTC)
    assert conv.messages[3].content == "97 is prime (日本語でも素数です)."
    [image] = conv.messages[0].images
    assert (sm.session_dir(conv) / image).read_bytes() == PNG
    assert sm.load(conv.slug) == conv
    assert result.notes and "other branches" in result.notes[0]


def test_open_webui_export_of_all_chats_imports_each(sm: SessionManager, tmp_path: Path) -> None:
    chats = [
        openwebui_chat(f"Chat {n}", chat_id=f"id-{n}", created_at=1_700_000_000 + n * 86_400, image=None)
        for n in range(12)
    ]
    result = sm.import_file(_write(tmp_path / "all.json", chats))
    assert len(result.conversations) == 12
    listed = sm.list()
    assert [i.title for i in listed] == [f"Chat {n}" for n in reversed(range(12))]  # dated from the file
    assert all(i.created == datetime.fromtimestamp(1_700_000_000 + n * 86_400, UTC) for n, i in
               zip(reversed(range(12)), listed, strict=True))  # fmt: skip


# ---------------------------------------------------------------------------------------------- ChatGPT


def _check_chatgpt(conv: Conversation, sm: SessionManager, *, with_image: bool = True) -> None:
    assert conv.title == "Fibonacci, tested" and conv.model == ""  # the chat goes on with a local model
    assert conv.created == datetime.fromtimestamp(1_734_000_000.25, UTC)
    assert [m.role for m in conv.messages] == ["user", "assistant", "user", "assistant"]
    question, reply = conv.messages[0], conv.messages[1]
    assert (
        question.content == "Write fib in Python and test it — naïve ok"
    )  # not the earlier, edited question
    assert "fib in js" not in json.dumps([m.content for m in conv.messages])
    assert reply.thinking == "**Planning**\n\nIterative is simplest."
    assert reply.content.startswith(
        "```python\nprint([0, 1, 1, 2, 3])\n```\n\nOutput:\n\n```text\n[0, 1, 1, 2, 3]\n```"
    )
    assert reply.content.endswith("Tested above ✅") and reply.model == "o3"
    assert conv.messages[3].content == "Ναι, φυσικά."  # the version on screen, not the regenerated one
    assert "Second version" not in json.dumps([m.content for m in conv.messages])
    assert "I teach maths" not in json.dumps(conv.__dict__, default=str)  # custom instructions stay private
    if with_image:
        assert question.images == ["attachments/photo.png"]
        assert (sm.session_dir(conv) / "attachments" / "photo.png").read_bytes() == PNG
    else:
        assert question.images == []


def test_chatgpt_zip_imports_every_conversation_with_its_images(sm: SessionManager, tmp_path: Path) -> None:
    conversations = [chatgpt_conversation()] + [
        chatgpt_conversation(f"Other {n}", conv_id=f"c{n}", create_time=1_600_000_000 + n, image_id=None)
        for n in range(5)
    ]
    path = tmp_path / "1a2b3c-2026-11-24-08-00-00.zip"
    path.write_bytes(chatgpt_zip(conversations, {"file-AbC123xyz-photo.png": PNG}))
    result = sm.import_file(path)
    assert result.source == "ChatGPT export" and len(result.conversations) == 6
    first = next(c for c in result.conversations if c.title == "Fibonacci, tested")
    _check_chatgpt(sm.load(first.slug), sm)
    assert "6 conversations had other branches" in result.notes[0]


def test_chatgpt_folder_and_bare_conversations_json(sm: SessionManager, tmp_path: Path) -> None:
    folder = tmp_path / "unzipped"
    folder.mkdir()
    _write(folder / "conversations.json", [chatgpt_conversation()])
    (folder / "file-AbC123xyz-photo.png").write_bytes(PNG)
    (folder / "file-AbC123xyzLONGER-other.png").write_bytes(png(9, 9))  # another id sharing the prefix
    conv = sm.import_file(folder).conversations[0]
    _check_chatgpt(conv, sm)
    lone = tmp_path / "lone"
    lone.mkdir()
    result = sm.import_file(_write(lone / "conversations.json", [chatgpt_conversation()]))
    _check_chatgpt(result.conversations[0], sm, with_image=False)
    assert "1 image could not be brought along" in result.notes[-1]


def test_a_conversation_without_current_node_follows_the_latest_branch(
    sm: SessionManager, tmp_path: Path
) -> None:
    data = chatgpt_conversation(image_id=None)
    del data["current_node"]
    conv = sm.import_file(_write(tmp_path / "c.json", [data])).conversations[0]
    assert (
        conv.messages[-1].content == "Second version."
    )  # the last child, as ChatGPT shows without a pointer


def test_empty_conversations_in_a_file_are_skipped_and_said(sm: SessionManager, tmp_path: Path) -> None:
    empty = {**chatgpt_conversation("Nothing here", image_id=None), "mapping": {}, "current_node": None}
    result = sm.import_file(_write(tmp_path / "c.json", [empty, chatgpt_conversation(image_id=None)]))
    assert [c.title for c in result.conversations] == ["Fibonacci, tested"]
    assert result.skipped == ["“Nothing here”: it has no messages"]


def test_odd_titles_become_safe_folders_and_keep_their_text(sm: SessionManager, tmp_path: Path) -> None:
    titles = [
        "../../etc/passwd",
        "CON",
        'a/b\\c:d*e?f"g<h>i|j',
        "tab\there\x00nul\x1bescape",
        "🎉🎉🎉",
        "مرحبا بالعالم",
        "x" * 500,
        "   ",
        ".hidden",
    ]
    chats = [
        openwebui_chat(title, chat_id=f"id{n}", created_at=1_731_000_000 + n, image=None)
        for n, title in enumerate(titles)
    ]
    result = sm.import_file(_write(tmp_path / "odd.json", chats))
    assert len(result.conversations) == len(titles)
    sav = sm.settings.sav_dir
    folders = [p for p in sav.iterdir()]
    assert len(folders) == len(titles) and all(p.parent == sav and p.is_dir() for p in folders)
    assert all(is_safe_slug(p.name) and not p.name.startswith(".") for p in folders)
    assert not (tmp_path / "etc").exists()
    by_title = {c.title: c for c in result.conversations}
    assert "../../etc/passwd" in by_title and "مرحبا بالعالم" in by_title and "CON" in by_title
    assert "tab here nul escape" in by_title  # control characters cannot be shown: they become spaces
    assert "Write is_prime in Python, café ☕" in by_title  # a blank title: the first question names it
    assert any(len(t) == 300 for t in by_title)
    for conv in result.conversations:
        assert sm.load(conv.slug).title == conv.title


# ---------------------------------------------------------------------------------------------- refused files


def _truncated(tmp_path: Path) -> Path:
    text = json.dumps([chatgpt_conversation(image_id=None)])
    path = tmp_path / "conversations.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    return path


def _bad_file(kind: str, tmp_path: Path) -> tuple[Path, str]:
    """A file of ``kind`` and the words its refusal must contain."""
    path = tmp_path / f"{kind}.json"
    if kind == "not json":
        path.write_text("Hello, these are my notes.\n", encoding="utf-8")
        return path, "it is not JSON (it starts with 'Hello, these are my notes.')"
    if kind == "wrong shape":
        _write(path, {"name": "my-package", "version": "1.0.0", "dependencies": {}})
        return path, "it is JSON, but not a conversation export this app reads"
    if kind == "truncated":
        return _truncated(tmp_path), "its JSON stops at line 1 before it is complete: the file is cut short"
    if kind == "empty conversation":
        chat = openwebui_chat("Empty one")
        chat["chat"]["history"] = {"messages": {}, "currentId": None}
        chat["chat"]["messages"] = []
        _write(path, [chat])
        return path, "no conversation in it can be imported (“Empty one”: it has no messages)"
    if kind == "empty file":
        path.write_bytes(b"")
        return path, "it is empty"
    if kind == "empty list":
        _write(path, [])
        return path, "it holds no conversation (an empty list)"
    if kind == "not utf-8":
        path.write_bytes(b"[\xff\xfe\x00garbage")
        return path, "it is not a text file in UTF-8 (bad byte at offset 1)"
    if kind == "huge":
        with path.open("wb") as handle:  # sparse: takes no disk space, but its size is what counts
            handle.write(b"[")
            handle.truncate(MAX_IMPORT_BYTES + 10 * 2**20)
        return path, "it is 266 MB, more than the 256 MB an import reads at once"
    if kind == "damaged zip":
        path = tmp_path / "export.zip"
        path.write_bytes(chatgpt_zip([chatgpt_conversation()])[:300])
        return path, "it is a damaged .zip file"
    if kind == "zip without conversations":
        path = tmp_path / "photos.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("photo.png", PNG)
        return path, "this .zip holds no conversations.json"
    if kind == "newer export":
        _write(path, {"format": "ia-conversation-export/9", "title": "Future", "slug": "f", "created": "x"})
        return (
            path,
            "it was written by a newer IA_V3 (format ia-conversation-export/9); update IA_V3 to import it",
        )
    if kind == "bad message":
        data = json.loads(json.dumps(openwebui_chat(image=None)))
        data["chat"]["history"] = "not a tree"
        data["chat"]["messages"] = "nor a list"
        _write(path, [data])
        return path, "it has no messages"
    if kind == "folder":
        path = tmp_path / "a folder"
        path.mkdir()
        return path, "it is a folder"
    if kind == "missing":
        return tmp_path / "nowhere.json", "there is no such file"
    raise AssertionError(kind)


BAD = [
    "not json",
    "wrong shape",
    "truncated",
    "empty conversation",
    "empty file",
    "empty list",
    "not utf-8",
    "huge",
    "damaged zip",
    "zip without conversations",
    "newer export",
    "bad message",
    "folder",
    "missing",
]


@pytest.mark.parametrize("kind", BAD)
def test_bad_files_are_refused_with_a_clear_message_and_leave_nothing(
    sm: SessionManager, tmp_path: Path, kind: str
) -> None:
    keep = sm.create("Already here")
    sm.add_user_message(keep, "keep me")
    before = (sm.session_dir(keep) / "conversation.md").read_bytes()
    path, words = _bad_file(kind, tmp_path)
    with pytest.raises(ImportRefused) as caught:
        sm.import_file(path)
    message = str(caught.value)
    assert message.startswith(f"Cannot import {path}: ") and words in message
    assert "Nothing was imported" in message
    assert _entries(sm.settings.sav_dir) == ["already-here", "already-here/conversation.md"]
    assert (sm.session_dir(keep) / "conversation.md").read_bytes() == before
    assert [i.slug for i in sm.list()] == ["already-here"] and sm.search("prime") == []


def test_attachments_that_are_not_images_are_left_out(sm: SessionManager, tmp_path: Path) -> None:
    conv = _session(sm)
    data = json.loads(sm.export(conv.slug, "json", tmp_path / "c.json").read_text(encoding="utf-8"))
    name = conv.messages[0].images[0]
    data["attachments"][name] = base64.b64encode(b"#!/bin/sh\nrm -rf ~\n").decode()
    result = sm.import_file(_write(tmp_path / "evil.json", data))
    back = result.conversations[0]
    assert back.messages[0].images == [] and not (sm.session_dir(back) / "attachments").exists()
    assert "1 image could not be brought along" in result.notes[0]


def test_a_crashed_import_leaves_only_a_hidden_folder_that_the_next_import_removes(
    sm: SessionManager, tmp_path: Path
) -> None:
    stale = sm.settings.sav_dir / ".import-deadbeef0000"
    (stale / "0").mkdir(parents=True)
    (stale / "0" / "conversation.md").write_text("half", encoding="utf-8")
    old = 1_000_000_000
    os.utime(stale, (old, old))
    assert sm.list() == []  # never listed as a session
    sm.import_file(_write(tmp_path / "c.json", [chatgpt_conversation(image_id=None)]))
    assert not stale.exists()


def test_message_times_never_tie(sm: SessionManager, tmp_path: Path) -> None:
    chat = openwebui_chat(image=None)
    for node in chat["chat"]["history"]["messages"].values():
        node["timestamp"] = 1_731_000_000  # all in the same second, as a fast exchange is
    conv = sm.import_file(_write(tmp_path / "c.json", [chat])).conversations[0]
    times = [m.created for m in conv.messages]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert isinstance(conv.messages[0], Message)
