"""Reply versions (core.versions): regenerate and edit-and-resend keep what they replace, the choice is saved
in conversation.md in a form older versions of IA_V3 still read, and only the current path is context.

Against the real embedded server with a scripted engine, real files and the real parser."""

from __future__ import annotations

import base64
import errno
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import versions
from core.conversation import Conversation, Message
from core.embedded.scripted import ErrorBefore, Script
from core.errors import ConversationCorrupt, IAError, StorageWriteError
from core.sav_manager import parse, read_conversation, render
from tests.core.data import sav_manager_v1
from tests.core.test_chat import MODEL, Env, make_env  # noqa: F401  (the fixture)
from tests.core.test_sav_manager import messages as plain_messages

VISION = "vision:latest"  # a model of the scripted server that takes images
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


@pytest.fixture
def env(make_env) -> Env:  # noqa: F811
    return make_env()


def contents(conv: Conversation) -> list[str]:
    return [m.content for m in conv.messages]


def sent(env: Env) -> list[str]:
    """The texts of the messages of the last request the server received."""
    return [m["content"] for m in env.chat_bodies()[-1]["messages"]]


# ----------------------------------------------------------------------------------------------- regenerate


def test_regenerate_keeps_the_earlier_replies_as_versions_and_saves_the_choice(env: Env) -> None:
    env.engine.enqueue(Script(["first"]), Script(["second"]), Script(["third"]))
    conv = env.conv()
    list(env.service.send(conv, "question", model=MODEL))
    for _ in range(2):
        turn = env.service.regenerate(conv, model=MODEL)
        list(turn)
        assert turn.error is None
        assert sent(env) == ["question"]  # the earlier replies are not context
    reply = conv.messages[-1]
    assert contents(conv) == ["question", "third"]
    assert (reply.version, versions.count(reply)) == (2, 3)
    assert [[m.content for m in tail] for tail in reply.versions] == [["first"], ["second"]]
    saved = env.on_disk(conv)
    assert saved == conv
    env.sessions.switch_version(conv, 1, 0)
    assert contents(env.on_disk(conv)) == ["question", "first"]
    assert env.on_disk(conv).messages[1].version == 0
    loaded = env.sessions.load(conv.slug)
    assert contents(loaded) == ["question", "first"] and versions.count(loaded.messages[1]) == 3


def test_context_after_switching_a_reply_is_the_version_shown(env: Env) -> None:
    env.engine.enqueue(Script(["A1"]), Script(["A2"]), Script(["B"]))
    conv = env.conv()
    list(env.service.send(conv, "q1", model=MODEL))
    list(env.service.regenerate(conv, model=MODEL))
    env.sessions.switch_version(conv, 1, 0)
    list(env.service.send(conv, "q2", model=MODEL))
    assert sent(env) == ["q1", "A1", "q2"]
    # the new exchange belongs to the first reply's branch: the second reply's branch has no follow-up
    env.sessions.switch_version(conv, 1, 1)
    assert contents(conv) == ["q1", "A2"]
    env.sessions.switch_version(conv, 1, 0)
    assert contents(conv) == ["q1", "A1", "q2", "B"]


def test_a_failed_reply_without_text_is_replaced_not_kept(env: Env) -> None:
    env.engine.enqueue(Script([ErrorBefore(500, "boom")]), Script(["fine"]))
    conv = env.conv()
    turn = env.service.send(conv, "question", model=MODEL)
    list(turn)
    assert turn.error is not None and conv.messages[-1].status == "error"
    list(env.service.regenerate(conv, model=MODEL))
    assert contents(env.on_disk(conv)) == ["question", "fine"]
    assert conv.messages[-1].versions == []


def test_regenerate_after_a_question_that_got_no_reply_answers_it(env: Env) -> None:
    env.engine.enqueue(Script(["answer"]))
    conv = env.conv()
    env.sessions.add_user_message(conv, "unanswered")
    list(env.service.regenerate(conv, model=MODEL))
    assert contents(env.on_disk(conv)) == ["unanswered", "answer"]


# ----------------------------------------------------------------------------------------------- edit and resend


def test_edit_keeps_the_images_and_the_old_branch_with_its_replies(env: Env) -> None:
    env.engine.enqueue(Script(["red"]), Script(["more"]), Script(["blue"]))
    conv = env.conv()
    list(env.service.send(conv, "what colour?", images=[PNG], model=VISION))
    list(env.service.send(conv, "and then?", model=VISION))
    image = conv.messages[0].images
    assert image and (env.sessions.session_dir(conv) / image[0]).read_bytes() == PNG
    turn = env.service.edit(conv, 0, "which colour?", model=VISION)
    list(turn)
    assert turn.error is None
    assert contents(conv) == ["which colour?", "blue"]
    assert conv.messages[0].images == image  # the same file, not a copy
    body = env.chat_bodies()[-1]["messages"]
    assert [m["content"] for m in body] == ["which colour?"] and len(body[0]["images"]) == 1
    saved = env.on_disk(conv)
    assert (saved.messages[0].version, versions.count(saved.messages[0])) == (1, 2)
    assert [m.content for m in saved.messages[0].versions[0]] == ["what colour?", "red", "and then?", "more"]
    env.sessions.switch_version(conv, 0, 0)
    assert contents(env.on_disk(conv)) == ["what colour?", "red", "and then?", "more"]


def test_edit_of_a_reply_or_of_a_missing_message_is_refused(env: Env) -> None:
    env.engine.enqueue(Script(["r"]))
    conv = env.conv()
    list(env.service.send(conv, "q", model=MODEL))
    for index in (1, 5):
        turn = env.service.edit(conv, index, "x", model=MODEL)
        assert isinstance(turn.error, IAError) and list(turn) == []
    assert env.on_disk(conv) == conv and contents(conv) == ["q", "r"]


def test_a_version_switch_that_cannot_be_saved_changes_nothing(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.engine.enqueue(Script(["A1"]), Script(["A2"]))
    conv = env.conv()
    list(env.service.send(conv, "q", model=MODEL))
    list(env.service.regenerate(conv, model=MODEL))
    path = env.sessions.session_dir(conv) / "conversation.md"
    before = path.read_bytes()

    # A full disk cannot be produced here without a namespace; ENOSPC is injected at os.write.
    def no_space(fd: int, data) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", no_space)
    with pytest.raises(StorageWriteError, match="disk is full"):
        env.sessions.switch_version(conv, 1, 0)
    turn = env.service.regenerate(conv, model=MODEL)
    list(turn)
    assert isinstance(turn.error, StorageWriteError)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert contents(conv) == ["q", "A2"] and conv.messages[1].version == 1
    assert [m.content for m in conv.messages[1].versions[0]] == ["A1"]


# ----------------------------------------------------------------------------------------------- the file format

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _msg(role: str, text: str, seconds: int, **kw) -> Message:
    return Message(role, text, T0 + timedelta(seconds=seconds), **kw)


def branched() -> Conversation:
    """q1 edited into q2; q1's branch has a reply regenerated once (r1a, r1b)."""
    r1b = _msg(
        "assistant", "r1b", 3, model=MODEL, versions=[[_msg("assistant", "r1a", 2, model=MODEL)]], version=1
    )
    old = [_msg("user", "q1", 1, images=["attachments/a.png"]), r1b]
    q2 = _msg("user", "q2", 4, images=["attachments/a.png"], versions=[old], version=1)
    return Conversation("Branches", "b", T0, T0, messages=[q2, _msg("assistant", "r2 <!-- ia:end m2 -->", 5)])


def test_versions_round_trip_exactly_and_show_in_the_headings() -> None:
    conv = branched()
    text = render(conv)
    assert parse(text, "b") == conv
    assert "## 🧑 User · 2026-12-01 09:00:04 UTC · version 2/2" in text
    versions.switch(conv, 0, 0)
    assert contents(conv) == ["q1", "r1b"]
    assert parse(render(conv), "b") == conv
    versions.switch(conv, 1, 0)
    assert contents(conv) == ["q1", "r1a"] and parse(render(conv), "b") == conv


@st.composite
def versioned_messages(draw, role: str | None = None, depth: int = 1) -> Message:
    """A message with other versions (each one followed by up to one message), one level deeper at most."""
    msg = draw(plain_messages)
    msg.role = role or msg.role
    tails = []
    for _ in range(draw(st.integers(0, 2))):
        head = draw(versioned_messages(msg.role, depth - 1)) if depth else draw(plain_messages)
        head.role = msg.role
        tails.append([head, *draw(st.lists(plain_messages, max_size=1))])
    msg.versions = tails
    msg.version = draw(st.integers(0, len(tails)))
    return msg


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(versioned_messages(), max_size=3))
def test_any_versions_round_trip(messages: list[Message]) -> None:
    conv = Conversation("t", "s", T0, T0, messages=messages)
    assert parse(render(conv), "s") == conv


def test_an_older_ia_v3_reads_a_file_with_versions_as_its_current_path() -> None:
    conv = branched()
    old = sav_manager_v1.parse(render(conv), "b")
    assert [(m.role, m.content, m.images) for m in old.messages] == [
        ("user", "q2", ["attachments/a.png"]),
        ("assistant", "r2 <!-- ia:end m2 -->", []),
    ]
    assert old.messages[0].versions == []  # the old parser ignores the extra attributes


def test_a_file_written_before_versions_reads_with_one_version_each() -> None:
    conv = Conversation("old", "o", T0, T0, messages=[_msg("user", "q", 1), _msg("assistant", "a", 2)])
    text = sav_manager_v1.render(conv)
    assert "version" not in text
    read = parse(text, "o")
    assert read == conv and all(versions.count(m) == 1 for m in read.messages)
    assert render(read) == text  # a conversation without versions is written exactly as before


BROKEN = {
    "version out of range": ("version=2 versions", "version=7 versions", "is version 7 of only 2"),
    "version not a number": ("version=2 versions", "version=two versions", "malformed version number"),
    "versions not a list": ('versions=[[{"role"', 'versions="text" other=[[{"role"', "malformed versions"),
    "an empty other version": ('versions=[[{"role"', 'versions=[[], [{"role"', "malformed version 1"),
    "other version of another role": (
        'versions=[[{"role": "user"',
        'versions=[[{"role": "system"',
        "a system",
    ),
    "other version without time": ('"created": "2026-12-01T09:00:01+00:00", ', "", "has no created time"),
}


@pytest.mark.parametrize("edit", BROKEN, ids=list(BROKEN))
def test_hand_broken_versions_are_reported_and_the_file_is_left_alone(tmp_path: Path, edit: str) -> None:
    old, new, reason = BROKEN[edit]
    text = render(branched())
    assert old in text
    path = tmp_path / "b" / "conversation.md"
    path.parent.mkdir()
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(ConversationCorrupt, match=reason):
        read_conversation(path)
    assert path.read_bytes() == before


def test_a_version_switch_merges_with_an_edit_made_outside_the_app(env: Env) -> None:
    env.engine.enqueue(Script(["A1"]), Script(["A2"]))
    conv = env.conv()
    list(env.service.send(conv, "q", model=MODEL))
    list(env.service.regenerate(conv, model=MODEL))
    path = env.sessions.session_dir(conv) / "conversation.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("\nq\n", "\nq, edited by hand\n"), encoding="utf-8"
    )
    env.sessions.switch_version(conv, 1, 0)
    saved = env.on_disk(conv)
    assert contents(saved) == ["q, edited by hand", "A1"]
    assert [m.content for m in saved.messages[1].versions[0]] == ["A2"]
