"""SessionManager: names, listing, search, damaged files, failed writes, crash-safe replies, context window."""

from __future__ import annotations

import errno
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings as settings_h
from hypothesis import strategies as st

from config import Settings
from core.errors import ConversationCorrupt, SessionNotFound, StorageError, StorageWriteError
from core.logs import SessionLog
from core.sav_manager import read_conversation
from core.session_manager import INTERRUPTED_NOTE, SessionManager
from core.slugs import MAX_SLUG_BYTES, is_safe_slug, slugify, unique_slug

REPO = Path(__file__).resolve().parents[2]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def wait_until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


@pytest.fixture
def settings(ia_home: Path) -> Settings:
    return Settings(home=ia_home, save_throttle_s=0.05)


@pytest.fixture
def sm(settings: Settings) -> SessionManager:
    manager = SessionManager(settings)
    manager.revalidate_s = 0.0  # every search sees hand edits at once
    yield manager
    manager.close()


@dataclass
class Stats:
    eval_count: int

    def to_dict(self) -> dict:
        return {"eval_count": self.eval_count}


# ---------------------------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("title", "shown"),
    [
        ("a/b", "a/b"),
        ("a\\b", "a\\b"),
        ("..", ".."),
        ("../../etc/passwd", "../../etc/passwd"),
        ("nul\x00byte", "nul byte"),
        ("CON", "CON"),
        ("con.txt", "con.txt"),
        ("LPT1", "LPT1"),
        ("x" * 300, "x" * 300),
        ("🎉🎉🎉", "🎉🎉🎉"),
        ("   ", None),
        ("", None),
        (" .hidden. ", ".hidden."),
        ('what? <a|b> "c" *d*: e', 'what? <a|b> "c" *d*: e'),
    ],
)
def test_any_title_gives_a_safe_folder_and_keeps_the_display_title(
    sm: SessionManager, settings: Settings, title: str, shown: str | None
) -> None:
    conv = sm.create(title)
    assert is_safe_slug(conv.slug) and len(conv.slug.encode()) <= MAX_SLUG_BYTES
    assert (settings.sav_dir / conv.slug).parent == settings.sav_dir
    assert (settings.sav_dir / conv.slug / "conversation.md").is_file()
    if shown is None:
        assert conv.title.startswith("Chat ") and conv.slug.startswith("chat-")
    else:
        assert conv.title == shown
        assert sm.load(shown).slug == conv.slug
    assert sm.load(conv.slug).title == conv.title


def test_duplicate_titles_get_numbered_slugs(sm: SessionManager) -> None:
    slugs = [sm.create("Same title").slug for _ in range(3)]
    assert slugs == ["same-title", "same-title-2", "same-title-3"]
    assert [s.slug for s in sm.list()].count("same-title-2") == 1


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Café déjà vu", "cafe-deja-vu"),
        ("Straße & Œuvre", "strasse-oeuvre"),
        ("你好，世界", "你好-世界"),
        ("COM1", "com1-chat"),
        ("com²", "com2-chat"),
        ("LPT9.txt", "lpt9-txt"),
        ("  --Hello---World--  ", "hello-world"),
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug


@settings_h(max_examples=500, deadline=None)
@given(st.text())
def test_every_title_gives_a_portable_slug(title: str) -> None:
    slug = slugify(title)
    assert is_safe_slug(slug)
    assert len(slug.encode("utf-8")) <= MAX_SLUG_BYTES
    assert slug == slug.strip("-") and "--" not in slug
    assert all(ch == "-" or ch.isalnum() for ch in slug)
    assert slug.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL"} | {f"COM{i}" for i in range(10)}


def test_slug_of_only_emoji_uses_the_time() -> None:
    from datetime import UTC, datetime

    assert slugify("🎉🚀", now=datetime(2026, 11, 24, 8, 12, 3, tzinfo=UTC)) == "chat-20261124-081203"


def test_long_multibyte_slug_is_cut_on_a_character_boundary() -> None:
    slug = slugify("日本語" * 100)
    assert len(slug.encode("utf-8")) <= MAX_SLUG_BYTES
    assert set(slug) <= set("日本語")
    assert unique_slug(slug, {slug}).endswith("-2")
    assert len(unique_slug(slug, {slug}).encode()) <= MAX_SLUG_BYTES


def test_unique_slug_ignores_case_like_macos_and_windows() -> None:
    assert unique_slug("notes", {"Notes", "NOTES-2"}) == "notes-3"


# ---------------------------------------------------------------------------------------------- list, load


def test_list_is_by_last_activity(sm: SessionManager) -> None:
    first, second = sm.create("First"), sm.create("Second")
    assert [s.slug for s in sm.list()] == [second.slug, first.slug]
    sm.add_user_message(first, "bump")
    listed = sm.list()
    assert [s.slug for s in listed] == [first.slug, second.slug]
    assert listed[0].message_count == 1 and listed[0].preview == "bump"


def test_load_by_title_ignores_case_when_no_exact_match(sm: SessionManager) -> None:
    conv = sm.create("Weekly Notes")
    assert sm.load("weekly notes").slug == conv.slug
    exact = sm.create("weekly notes")
    assert sm.load("weekly notes").slug == exact.slug


def test_load_removes_temp_files_left_by_a_crash(sm: SessionManager, settings: Settings) -> None:
    conv = sm.create("Leftovers")
    folder = settings.sav_dir / conv.slug
    old, fresh = folder / ".conversation.md.123.abcd.tmp", folder / ".conversation.md.456.ef01.tmp"
    old.write_text("half a file")
    fresh.write_text("a write in progress")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    sm.load(conv.slug)
    assert not old.exists() and fresh.exists()


@pytest.mark.parametrize("folder", ["con", "My Notes", "x:y", "trailing."])
def test_a_session_folder_made_by_hand_with_any_name_is_listed_loaded_and_renamed(
    sm: SessionManager, settings: Settings, folder: str
) -> None:
    original = sm.create("Original")
    sm.add_user_message(original, "hello")
    shutil.copytree(settings.sav_dir / original.slug, settings.sav_dir / folder)  # e.g. on Linux, by hand
    assert folder in [s.slug for s in sm.list()]
    conv = sm.load(folder)  # by the folder name the list shows
    assert conv.slug == folder
    sm.add_user_message(conv, "more")
    SessionLog(settings, folder).write("user", "more")
    assert [m.content for m in sm.load(folder).messages] == ["hello", "more"]
    renamed = sm.rename(conv, "Tidy name")
    assert renamed.slug == "tidy-name" and not (settings.sav_dir / folder).exists()
    assert (settings.logs_dir / "tidy-name.log").is_file()
    sm.delete("tidy-name")
    assert [s.slug for s in sm.list()] == [original.slug]


def test_load_unknown_session_raises(sm: SessionManager, settings: Settings) -> None:
    with pytest.raises(SessionNotFound, match="nothing-here"):
        sm.load("nothing-here")
    with pytest.raises(SessionNotFound):
        sm.load("../../etc")
    kept = sm.create("Kept")
    for sneaky in ("..", ".", "../sav", "/etc", "a\x00b", ".deleted-x", "x" * 300, "é" * 200):
        with pytest.raises(SessionNotFound):
            sm.load(sneaky)
        with pytest.raises(SessionNotFound):
            sm.delete(sneaky)
    assert [s.slug for s in sm.list()] == [kept.slug] and settings.sav_dir.is_dir()


def test_five_megabyte_paste_is_saved_and_loaded_intact(sm: SessionManager) -> None:
    paste = "".join(f"{i:08d} some pasted text ```x``` <!-- ia:end m1 -->\n" for i in range(110_000))
    assert len(paste) > 5_000_000
    conv = sm.create("Big paste")
    sm.add_user_message(conv, paste)
    assert sm.load("big-paste").messages[0].content == paste
    assert sm.search("00109999")[0].slug == "big-paste"


def test_hand_edited_conversation_loads_and_is_reindexed(sm: SessionManager, settings: Settings) -> None:
    conv = sm.create("Editable")
    sm.add_user_message(conv, "original words")
    path = settings.sav_dir / conv.slug / "conversation.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("original words", "rewritten by hand").replace('"Editable"', '"Edited"'))
    assert sm.load(conv.slug).messages[0].content == "rewritten by hand"
    assert [s.title for s in sm.list()] == ["Edited"]
    assert [h.slug for h in sm.search("rewritten")] == [conv.slug]
    assert sm.search("original") == []


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_edits_made_outside_while_a_session_is_open_are_kept(sm: SessionManager, settings: Settings) -> None:
    conv = _chat(sm, 2)  # the app holds this conversation while the file is edited in an editor
    path = settings.sav_dir / conv.slug / "conversation.md"
    _edit(path, "\na0\n", "\na0 corrected by hand\n")
    _edit(path, 'title: "Context"', 'title: "Retitled by hand"')
    _edit(path, 'system_prompt: "Be brief."', 'system_prompt: "Be very brief."')
    sm.add_user_message(conv, "q2")
    on_disk = read_conversation(path)
    assert [m.content for m in on_disk.messages] == ["q0", "a0 corrected by hand", "q1", "a1", "q2"]
    assert (on_disk.title, on_disk.system_prompt) == ("Retitled by hand", "Be very brief.")
    assert [m.content for m in conv.messages] == [m.content for m in on_disk.messages]  # the app sees them
    assert conv.title == "Retitled by hand"
    sm.rename(conv, "Renamed in the app")  # the app's own change wins over the file's older value
    assert read_conversation(settings.sav_dir / conv.slug / "conversation.md").title == "Renamed in the app"


def test_a_message_deleted_by_hand_during_a_reply_stays_deleted(
    sm: SessionManager, settings: Settings
) -> None:
    settings.save_throttle_s = 0.0
    conv = _chat(sm, 1, system="")
    sm.add_user_message(conv, "q1")
    writer = sm.start_reply(conv, "m")
    writer.append("a1 so far")
    path = settings.sav_dir / conv.slug / "conversation.md"
    text = path.read_text(encoding="utf-8")
    start, end = text.index("## 🧑 User"), text.index("<!-- ia:end m2 -->\n") + len("<!-- ia:end m2 -->\n")
    path.write_text(text[:start] + text[end:], encoding="utf-8")  # the first exchange, deleted in an editor
    writer.append(" and the rest")
    assert writer.save_error is None
    writer.finish(None)
    assert [(m.content, m.status) for m in sm.load(conv.slug).messages] == [
        ("q1", "complete"),
        ("a1 so far and the rest", "complete"),
    ]


def test_two_copies_of_the_app_adding_to_one_session_keep_both_messages(
    sm: SessionManager, settings: Settings
) -> None:
    conv = sm.create("Shared")
    sm.add_user_message(conv, "from the first app")
    other = SessionManager(settings)
    theirs = other.load(conv.slug)
    other.add_user_message(theirs, "from the second app")
    sm.add_user_message(conv, "first app again")
    assert [m.content for m in sm.load(conv.slug).messages] == [
        "from the first app",
        "from the second app",
        "first app again",
    ]
    other.close()


def test_regenerate_after_a_hand_edit_keeps_the_edited_question(
    sm: SessionManager, settings: Settings
) -> None:
    conv = _chat(sm, 1, system="")
    _edit(settings.sav_dir / conv.slug / "conversation.md", "\nq0\n", "\nq0, reworded by hand\n")
    assert sm.drop_last_reply(conv) is not None
    assert [m.content for m in sm.load(conv.slug).messages] == ["q0, reworded by hand"]
    assert sm.context_messages(conv)[-1]["content"] == "q0, reworded by hand"


@pytest.mark.parametrize(
    "spoil",
    [
        lambda data: data[: len(data) // 2],
        lambda data: data.replace(b"second message", b"second \xff\xfe message"),
        lambda data: data.replace(b"<!-- ia:end m2 -->", b"<!-- ia:nd m2 -->"),
    ],
    ids=["truncated", "invalid-utf8", "broken-delimiter"],
)
def test_damaged_file_is_reported_listed_and_never_overwritten(
    sm: SessionManager, settings: Settings, spoil
) -> None:
    good = sm.create("Good one")
    sm.add_user_message(good, "fine")
    conv = sm.create("Will break")
    sm.add_user_message(conv, "first message")
    sm.add_user_message(conv, "second message")
    path = settings.sav_dir / conv.slug / "conversation.md"
    damaged = spoil(path.read_bytes())
    path.write_bytes(damaged)

    with pytest.raises(ConversationCorrupt) as info:
        sm.load(conv.slug)
    assert str(path) in str(info.value) and "left untouched" in str(info.value)
    listed = {s.slug: s for s in sm.list()}
    assert listed[good.slug].damaged is None and listed[conv.slug].damaged
    with pytest.raises(ConversationCorrupt):  # the app still holds the old version: it must not save it
        sm.add_user_message(conv, "third message")
    with pytest.raises(ConversationCorrupt):
        sm.rename(conv, "Another name")
    assert path.read_bytes() == damaged
    assert sm.load(good.slug).messages[0].content == "fine"
    sm.delete(conv.slug)  # a damaged session can still be removed on purpose
    assert [s.slug for s in sm.list()] == [good.slug]


# ---------------------------------------------------------------------------------------------- failed writes


def test_home_under_a_file_gives_a_clear_write_error(tmp_path: Path) -> None:
    # Tests run as root, where chmod 0o500 does not stop writes; a home below a regular file always fails.
    blocker = tmp_path / "home-is-a-file"
    blocker.write_text("x")
    sm = SessionManager(Settings(home=blocker / "ia"))
    with pytest.raises(StorageWriteError) as info:
        sm.create("Anything")
    assert "not a folder" in str(info.value) and "home-is-a-file" in str(info.value)
    assert sm.list() == []


def test_disk_full_keeps_the_previous_file_and_the_message_list(
    sm: SessionManager, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    conv = sm.create("Full disk")
    sm.add_user_message(conv, "saved before the disk filled up")
    path = settings.sav_dir / conv.slug / "conversation.md"
    before = path.read_bytes()

    # A full disk cannot be produced here (no tiny tmpfs can be mounted); ENOSPC is injected at os.write.
    def no_space(fd: int, data) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", no_space)
    with pytest.raises(StorageWriteError, match="disk is full"):
        sm.add_user_message(conv, "this one cannot be saved")
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [m.content for m in conv.messages] == ["saved before the disk filled up"]
    sm.add_user_message(conv, "space is back")
    assert [m.content for m in sm.load(conv.slug).messages] == [
        "saved before the disk filled up",
        "space is back",
    ]


def _namespace_mounts_work() -> bool:
    """True when this machine lets us mount a tmpfs or a read-only bind in a user + mount namespace."""
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-rm", "mount", "-t", "tmpfs", "tmpfs", "/mnt"], capture_output=True)
    return probe.returncode == 0


needs_mounts = pytest.mark.skipif(
    not _namespace_mounts_work(),
    reason="needs `unshare -rm` (user namespaces) to mount a tiny tmpfs or a read-only folder; "
    "the same failures are injected at os.write by the tests above",
)


def _run_in_namespace(mounts: str, child: str, home: Path) -> dict:
    """Run ``child`` (Python, home as argv[1], prints one JSON line) after ``mounts`` (sh) in a private
    mount namespace: the real file system answers ENOSPC or EROFS, nothing is injected."""
    script = (
        f"{mounts} && exec {shlex.quote(sys.executable)} -c {shlex.quote(child)} {shlex.quote(str(home))}"
    )
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


FULL_DISK_CHILD = """
import json, sys
from pathlib import Path
sys.path.insert(0, ".")
from config import Settings
from core.errors import StorageWriteError
from core.session_manager import SessionManager
home = Path(sys.argv[1])
sm = SessionManager(Settings(home=home, save_throttle_s=0.0))
conv = sm.create("Full disk")
sm.add_user_message(conv, "saved before the disk filled up")
writer = sm.start_reply(conv, "m")
writer.append("partial reply saved ")
path = home / "sav" / conv.slug / "conversation.md"
before = path.read_bytes()
with open(home / "filler", "wb", buffering=0) as fh:  # fill the file system for real
    try:
        while True:
            fh.write(b"f" * 4096)
            fh.flush()
    except OSError:
        pass
out = {}
writer.append("x" * 20000)  # the stream goes on; the failed save is remembered
out["stream_error"] = str(writer.save_error)
try:
    writer.finish(None)
except StorageWriteError as exc:
    out["finish_error"] = str(exc)
try:
    sm.add_user_message(conv, "y" * 20000)
except StorageWriteError as exc:
    out["send_error"] = str(exc)
out["unchanged"] = path.read_bytes() == before
out["left_over"] = sorted(p.name for p in path.parent.iterdir())
(home / "filler").unlink()
sm.add_user_message(conv, "space is back")
out["after"] = [(m.content, m.status) for m in sm.load(conv.slug).messages]
print(json.dumps(out))
"""


@needs_mounts
def test_a_really_full_disk_keeps_every_saved_byte(tmp_path: Path) -> None:
    home = tmp_path / "small"
    home.mkdir()
    out = _run_in_namespace(
        f"mount -t tmpfs -o size=512k tmpfs {shlex.quote(str(home))}", FULL_DISK_CHILD, home
    )
    assert "disk is full" in out["stream_error"]
    assert "disk is full" in out["finish_error"] and "disk is full" in out["send_error"]
    assert out["unchanged"] and out["left_over"] == ["conversation.md"]  # no temp file, old file intact
    # the reply finished in memory while the disk was full; the first save once space is back holds all of it
    assert out["after"] == [
        ["saved before the disk filled up", "complete"],
        ["partial reply saved " + "x" * 20000, "complete"],
        ["space is back", "complete"],
    ]


READ_ONLY_CHILD = """
import json, sys
from pathlib import Path
sys.path.insert(0, ".")
from config import Settings
from core.devlog import DevLog, DevRecord
from core.errors import IAError
from core.logs import SessionLog
from core.session_manager import SessionManager
home = Path(sys.argv[1])
settings = Settings(home=home)
sm = SessionManager(settings)
out = {"listed": [s.slug for s in sm.list()], "found": [h.slug for h in sm.search("kept")]}
conv = sm.load("Existing")
out["loaded"] = [m.content for m in conv.messages]
for name, action in [
    ("create", lambda: sm.create("New")),
    ("send", lambda: sm.add_user_message(conv, "cannot be saved")),
    ("log", lambda: SessionLog(settings, conv.slug).write("user", "x")),
    ("dev", lambda: DevLog(settings).record(DevRecord.from_stats(session="s", model="m", host="h", options={},
                                                                   prompt_chars=1, reply_chars=1))),
]:
    try:
        action()
        out[name] = "no error"
    except IAError as exc:
        out[name] = str(exc)
out["memory"] = [m.content for m in conv.messages]
print(json.dumps(out))
"""


@needs_mounts
def test_a_read_only_home_reads_everything_and_refuses_writes_clearly(
    sm: SessionManager, settings: Settings
) -> None:
    conv = sm.create("Existing")
    sm.add_user_message(conv, "kept words")
    sm.close()
    files = {p: p.read_bytes() for p in settings.home.rglob("*") if p.is_file()}
    home = shlex.quote(str(settings.home))
    out = _run_in_namespace(
        f"mount --bind {home} {home} && mount -o remount,bind,ro {home}", READ_ONLY_CHILD, settings.home
    )
    assert out["listed"] == [conv.slug] and out["found"] == [conv.slug] and out["loaded"] == ["kept words"]
    for action in ("create", "send", "log", "dev"):
        assert "read-only" in out[action], (action, out[action])
    assert out["memory"] == ["kept words"]  # the refused message is not left in the conversation
    assert {p: p.read_bytes() for p in settings.home.rglob("*") if p.is_file()} == files


# ---------------------------------------------------------------------------------------------- replies


def test_user_message_is_on_disk_before_add_returns(sm: SessionManager, settings: Settings) -> None:
    conv = sm.create("Order")
    sm.add_user_message(conv, "Hello?")
    on_disk = read_conversation(settings.sav_dir / conv.slug / "conversation.md")
    assert [(m.role, m.content) for m in on_disk.messages] == [("user", "Hello?")]


def test_partial_reply_reaches_disk_within_the_throttle(sm: SessionManager, settings: Settings) -> None:
    conv = sm.create("Streaming")
    sm.add_user_message(conv, "Go")
    writer = sm.start_reply(conv, "smollm2:135m")
    path = settings.sav_dir / conv.slug / "conversation.md"
    writer.append("Hel")
    writer.append("lo")
    # No further delta arrives: the pending text is still written within save_throttle_s.
    wait_until(lambda: read_conversation(path).messages[-1].content == "Hello")
    assert read_conversation(path).messages[-1].status == "streaming"
    assert sm.load(conv.slug).messages[-1].status == "interrupted"


def test_saves_are_throttled(settings: Settings) -> None:
    settings.save_throttle_s = 60.0
    sm = SessionManager(settings)
    conv = sm.create("Throttle")
    writer = sm.start_reply(conv, "m")
    path = settings.sav_dir / conv.slug / "conversation.md"
    mtime = path.stat().st_mtime_ns
    for _ in range(200):
        writer.append("x")
    assert path.stat().st_mtime_ns == mtime
    writer.finish(None)
    assert read_conversation(path).messages[-1].content == "x" * 200


def test_finish_saves_stats_and_numbers_code_files_across_replies(sm: SessionManager) -> None:
    conv = sm.create("Code")
    sm.add_user_message(conv, "two snippets")
    writer = sm.start_reply(conv, "smollm2:135m")
    writer.append_thinking("plan")
    writer.append("```python\nprint(1)\n```\nand\n```js\nconsole.log(2)\n```\n")
    first = writer.finish(Stats(eval_count=12))
    sm.add_user_message(conv, "more")
    second = sm.start_reply(conv, "smollm2:135m")
    second.append("```\nplain text\n```\n~~~rust\nfn main() {}\n~~~\n")
    files = first + second.finish(None)
    assert [p.name for p in files] == ["code_1.py", "code_2.js", "code_3.txt", "code_4.rs"]
    assert files[0].read_text() == "print(1)\n" and files[3].read_text() == "fn main() {}\n"
    assert sm.code_files(conv) == files
    loaded = sm.load(conv.slug).messages
    assert loaded[1].stats == {"eval_count": 12} and loaded[1].thinking == "plan"
    assert loaded[1].status == "complete" and loaded[3].stats is None


def test_fail_keeps_the_partial_reply(sm: SessionManager) -> None:
    conv = sm.create("Broken")
    sm.add_user_message(conv, "question")
    writer = sm.start_reply(conv, "m")
    writer.append("half an ans")
    writer.fail("The reply was cut off: connection dropped.")
    msg = sm.load(conv.slug).messages[-1]
    assert (msg.content, msg.status, msg.error) == (
        "half an ans",
        "interrupted",
        "The reply was cut off: connection dropped.",
    )
    writer2 = sm.start_reply(conv, "m")
    writer2.fail("HTTP 500", interrupted=False)
    assert sm.load(conv.slug).messages[-1].status == "error"


def test_reply_never_overwrites_a_file_damaged_while_streaming(
    sm: SessionManager, settings: Settings
) -> None:
    settings.save_throttle_s = 0.0
    conv = sm.create("Damaged mid reply")
    sm.add_user_message(conv, "question")
    writer = sm.start_reply(conv, "m")
    path = settings.sav_dir / conv.slug / "conversation.md"
    damaged = path.read_bytes()[:-20]
    path.write_bytes(damaged)
    writer.append("more text")  # streaming goes on; the save is refused and remembered
    assert isinstance(writer.save_error, ConversationCorrupt)
    with pytest.raises(ConversationCorrupt):
        writer.finish(None)
    assert path.read_bytes() == damaged


CHILD = """
import sys, time
from pathlib import Path
sys.path.insert(0, {repo!r})
from config import Settings
from core.session_manager import SessionManager
sm = SessionManager(Settings(home=Path(sys.argv[1]), save_throttle_s=0.05))
conv = sm.create("Killed mid stream")
sm.add_user_message(conv, "Tell me a long story")
writer = sm.start_reply(conv, "smollm2:135m")
i = 0
while True:
    writer.append(f"word{{i}} ")
    i += 1
    if i == 100:
        print("streaming", flush=True)
    time.sleep(0.002)
"""


def test_sigkill_mid_stream_leaves_prompt_and_partial_reply(sm: SessionManager, settings: Settings) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD.format(repo=str(REPO)), str(settings.home)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "streaming"
        path = settings.sav_dir / "killed-mid-stream" / "conversation.md"
        wait_until(lambda: "word99 " in path.read_text(encoding="utf-8"))
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    on_disk = read_conversation(path)  # parses: never a half-written file
    assert on_disk.messages[-1].status == "streaming"
    conv = sm.load("Killed mid stream")
    user, reply = conv.messages
    assert user.content == "Tell me a long story"
    assert reply.status == "interrupted" and reply.error == INTERRUPTED_NOTE
    words = reply.content.split()
    assert words[:100] == [f"word{i}" for i in range(100)]
    assert words == [f"word{i}" for i in range(len(words))]


def test_streaming_from_a_worker_thread_while_listing_and_searching(sm: SessionManager) -> None:
    import threading

    conv = sm.create("Concurrent")
    sm.add_user_message(conv, "start")
    writer = sm.start_reply(conv, "m")
    errors: list[BaseException] = []

    def stream() -> None:
        try:
            for i in range(300):
                writer.append(f"tok{i} ")
            writer.finish(None)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    worker = threading.Thread(target=stream)
    worker.start()
    while worker.is_alive():
        assert [s.slug for s in sm.list()] == [conv.slug]
        sm.search("tok1")
    worker.join()
    assert errors == []
    assert sm.load(conv.slug).messages[-1].content == "".join(f"tok{i} " for i in range(300))
    assert [h.slug for h in sm.search("tok299")] == [conv.slug]


# ---------------------------------------------------------------------------------------------- context


def _chat(sm: SessionManager, exchanges: int, system: str = "Be brief.") -> object:
    conv = sm.create("Context", system_prompt=system)
    for i in range(exchanges):
        sm.add_user_message(conv, f"q{i}")
        writer = sm.start_reply(conv, "m")
        writer.append(f"a{i}")
        writer.finish(None)
    return conv


def test_context_is_system_plus_last_exchanges_plus_pending(sm: SessionManager) -> None:
    conv = _chat(sm, 8)
    sm.add_user_message(conv, "now")
    msgs = sm.context_messages(conv)  # settings.context_exchanges = 5
    assert msgs[0] == {"role": "system", "content": "Be brief."}
    assert [m["content"] for m in msgs[1:]] == [x for i in range(3, 8) for x in (f"q{i}", f"a{i}")] + ["now"]
    assert [m["content"] for m in sm.context_messages(conv, 1)] == ["Be brief.", "q7", "a7", "now"]
    assert [m["content"] for m in sm.context_messages(conv, 0)] == ["Be brief.", "now"]
    writer = sm.start_reply(conv, "m")  # the reply being streamed is not part of its own context
    writer.append("partial")
    assert sm.context_messages(conv, 1)[-1]["content"] == "now"


def test_context_budget_drops_oldest_exchanges_first(sm: SessionManager) -> None:
    conv = sm.create("Budget")
    for i in range(4):
        sm.add_user_message(conv, f"{i}" * 400)  # about 100 tokens each
        writer = sm.start_reply(conv, "m")
        writer.append(f"{i}" * 400)
        writer.finish(None)
    sm.add_user_message(conv, "last")
    msgs = sm.context_messages(conv, 10, max_tokens=450)
    assert [m["content"][0] for m in msgs] == ["2", "2", "3", "3", "l"]
    assert [m["content"] for m in sm.context_messages(conv, 10, max_tokens=1)] == ["last"]


def test_images_are_copied_in_and_sent_as_absolute_paths(
    sm: SessionManager, settings: Settings, tmp_path: Path
) -> None:
    photo = tmp_path / "My Photo.PNG"
    photo.write_bytes(PNG)
    conv = sm.create("Pictures")
    msg = sm.add_user_message(conv, "what is this?", images=[photo, PNG])
    assert msg.images == ["attachments/my-photo.png", "attachments/image.png"]
    folder = settings.sav_dir / conv.slug
    assert (folder / msg.images[0]).read_bytes() == PNG
    assert sm.load(conv.slug).messages[0].images == msg.images
    sent = sm.context_messages(conv)[-1]["images"]
    assert sent == [str((folder / p).resolve()) for p in msg.images] and all(
        Path(p).is_absolute() for p in sent
    )
    again = sm.add_user_message(conv, "and this?", images=[photo])
    assert again.images == ["attachments/my-photo-2.png"]
    odd = tmp_path / "🎉.P*N:G"
    odd.write_bytes(PNG)
    assert sm.add_user_message(conv, "odd name", images=[odd]).images == ["attachments/image-2.png"]


def test_missing_image_is_refused_and_nothing_is_saved(sm: SessionManager, tmp_path: Path) -> None:
    conv = sm.create("No image")
    with pytest.raises(StorageError, match="no such file"):
        sm.add_user_message(conv, "look", images=[tmp_path / "absent.png"])
    assert conv.messages == [] and sm.load(conv.slug).messages == []


def test_drop_last_reply_for_regenerate(sm: SessionManager) -> None:
    conv = _chat(sm, 2)
    dropped = sm.drop_last_reply(conv)
    assert dropped is not None and dropped.content == "a1"
    assert [m.content for m in sm.load(conv.slug).messages] == ["q0", "a0", "q1"]
    assert sm.drop_last_reply(conv) is None


# ---------------------------------------------------------------------------------------------- rename, delete


def test_rename_moves_the_folder_and_its_log(sm: SessionManager, settings: Settings) -> None:
    conv = sm.create("Old name")
    sm.add_user_message(conv, "keep me")
    settings.logs_dir.mkdir(parents=True, exist_ok=True)
    (settings.logs_dir / "old-name.log").write_text("log line\n")
    sm.create("Taken name")
    renamed = sm.rename("old-name", "Taken name")
    assert renamed.slug == "taken-name-2" and renamed.title == "Taken name"
    assert not (settings.sav_dir / "old-name").exists()
    assert (settings.logs_dir / "taken-name-2.log").read_text() == "log line\n"
    assert sm.load("taken-name-2").messages[0].content == "keep me"
    assert sorted(s.slug for s in sm.list()) == ["taken-name", "taken-name-2"]
    assert [h.slug for h in sm.search("keep")] == ["taken-name-2"]
    assert sm.rename(renamed, "Taken  name").slug == "taken-name-2"  # same slug: only the title changes


def test_delete_removes_everything(sm: SessionManager, settings: Settings) -> None:
    conv = sm.create("Doomed")
    sm.add_user_message(conv, "bye")
    SessionLog(settings, conv.slug).write("user", "bye")
    sm.create("Other")
    SessionLog(settings, "other").write("user", "stays")
    sm.delete("Doomed")
    assert not (settings.sav_dir / "doomed").exists()
    assert sorted(p.name for p in settings.logs_dir.iterdir()) == ["other.log"]
    sm.delete("other")
    assert sm.list() == [] and sm.search("bye") == []
    assert not [p for p in settings.sav_dir.iterdir()]
    with pytest.raises(SessionNotFound):
        sm.delete("doomed")


# ---------------------------------------------------------------------------------------------- index, export


def test_deleted_index_is_rebuilt(sm: SessionManager, settings: Settings) -> None:
    conv = sm.create("Indexed")
    sm.add_user_message(conv, "findable needle")
    sm.close()
    for path in settings.data_dir.glob("index.sqlite*"):
        path.unlink()
    fresh = SessionManager(settings)
    assert [h.slug for h in fresh.search("needle")] == [conv.slug]
    assert [s.slug for s in fresh.list()] == [conv.slug]


def test_index_deleted_or_filled_with_garbage_while_the_app_runs_heals(
    sm: SessionManager, settings: Settings
) -> None:
    import sqlite3

    conv = sm.create("Indexed")
    sm.add_user_message(conv, "findable needle")
    index = settings.data_dir / "index.sqlite"
    for path in settings.data_dir.glob("index.sqlite*"):
        path.unlink()
    assert [h.slug for h in sm.search("needle")] == [conv.slug]
    assert index.is_file()  # recreated at once, not kept as a deleted file only this process sees
    other = sqlite3.connect(index, isolation_level=None)  # another process writes, then the file is spoiled
    other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    other.execute("UPDATE sessions SET preview = preview")
    index.write_bytes(b"\xde\xad\xbe\xef" * (index.stat().st_size // 4))
    other.close()
    assert [h.slug for h in sm.search("needle")] == [conv.slug]
    assert [s.slug for s in sm.list()] == [conv.slug]
    sm.add_user_message(conv, "added after the repair")
    assert [h.slug for h in SessionManager(settings).search("repair")] == [conv.slug]


def test_sessions_removed_or_copied_in_by_another_process_are_seen(
    sm: SessionManager, settings: Settings
) -> None:
    import shutil

    keep, gone = sm.create("Keep"), sm.create("Gone")
    sm.add_user_message(keep, "shared word")
    sm.add_user_message(gone, "shared word")
    assert len(sm.search("shared")) == 2
    shutil.rmtree(settings.sav_dir / gone.slug)
    shutil.copytree(settings.sav_dir / keep.slug, settings.sav_dir / "copied-in")
    assert sorted(h.slug for h in sm.search("shared")) == ["copied-in", keep.slug]
    assert sorted(s.slug for s in sm.list()) == ["copied-in", keep.slug]
    with pytest.raises(SessionNotFound):
        sm.load("Gone")


def test_index_write_failure_does_not_fail_the_save(sm: SessionManager, caplog) -> None:
    conv = sm.create("Index trouble")
    sm.index._db.execute("PRAGMA query_only = ON")  # fault injection: every index write now fails
    sm.add_user_message(conv, "kept in the file anyway")
    assert "search index not updated" in caplog.text
    sm.index._db.execute("PRAGMA query_only = OFF")
    assert sm.load(conv.slug).messages[0].content == "kept in the file anyway"
    assert [s.message_count for s in sm.list()] == [1]  # re-read from sav/ once the index works again
    assert [h.slug for h in sm.search("kept")] == [conv.slug]


def test_sessions_made_by_another_process_are_seen(sm: SessionManager, settings: Settings) -> None:
    assert sm.list() == []
    other = SessionManager(settings)
    other.add_user_message(other.create("From elsewhere"), "hello there")
    assert [s.slug for s in sm.list()] == ["from-elsewhere"]
    assert [h.slug for h in sm.search("hello")] == ["from-elsewhere"]


def test_export_markdown_and_json(sm: SessionManager, tmp_path: Path) -> None:
    conv = _chat(sm, 1)
    md = sm.export(conv.slug, "md", tmp_path)
    text = md.read_text(encoding="utf-8")
    assert md.name == f"{conv.slug}.md" and "# Context" in text and "q0" in text and "ia:message" not in text
    data = json.loads(sm.export(conv.slug, "json", tmp_path / "out.json").read_text(encoding="utf-8"))
    assert data["system_prompt"] == "Be brief." and [m["content"] for m in data["messages"]] == ["q0", "a0"]
    with pytest.raises(StorageError, match="md, json"):
        sm.export(conv.slug, "pdf", tmp_path)
