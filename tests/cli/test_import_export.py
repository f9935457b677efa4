"""/export md|json|html and /import through the real interactive CLI (main.py in a pseudo-terminal)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path

import pexpect
import pytest

from core.embedded.scripted import Script, Think
from core.sav_manager import read_conversation
from core.search_index import SearchIndex
from tests.cli.conftest import MAIN, REPO, cli_env, conversations
from tests.fixtures.exports import PNG, chatgpt_conversation, chatgpt_zip, openwebui_chat

REPLY = "Here:\n\n```python\ndef hello():\n    print('ünïcode ✓')\n```\n"


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def _chat_with_code_thinking_and_image(term, scripted_server, tmp_path: Path) -> None:
    from PIL import Image

    picture = tmp_path / "red.png"
    Image.new("RGB", (4, 4), "red").save(picture)
    scripted_server.engine.enqueue(Script([Think("Keep it short — 简单."), REPLY]))
    term.prompt()
    term.say("/set think on")
    term.expect("think = on")
    term.say("Write hello 🐍")
    term.expect("ünïcode ✓")
    term.prompt()
    term.say("/set think off")
    term.expect("think = off")
    term.say("/model vision:latest")
    term.expect("vision:latest")
    term.say(f"/image {picture}")
    term.expect("Attached red.png")
    term.say("And this picture?")
    term.expect("Hello from the scripted engine.")
    term.prompt()


def test_export_md_json_and_html_from_the_cli(
    terminal_factory, scripted_server, tmp_path: Path, ia_home: Path
):
    term = terminal_factory("-m", "thinker:latest", "--plain")
    _chat_with_code_thinking_and_image(term, scripted_server, tmp_path)
    out = tmp_path / "exports"
    out.mkdir()
    term.say(f"/export md {out / 'chat.md'}")
    term.expect(f"Exported to {out / 'chat.md'}")
    term.say(f"/export json {out / 'chat.json'}")
    term.expect(f"Exported to {out / 'chat.json'}")
    term.say(f"/export html {out}")  # a folder: the file is named after the conversation
    [conv] = conversations(ia_home)
    term.expect(f"Exported to {out / (conv.slug + '.html')}")
    term.say(f"/export pdf {out / 'x.pdf'}")
    term.expect("Give the format (md, json or html) and a path. Usage: /export md|json|html PATH")
    term.prompt()
    assert term.leave() == 0
    image = (ia_home / "sav" / conv.slug / conv.messages[2].images[0]).read_bytes()

    md = (out / "chat.md").read_text("utf-8")
    assert (
        "```python\ndef hello():" in md
        and "<details><summary>💭 Thinking</summary>\n\nKeep it short — 简单." in md
    )
    link = md.split("](<", 1)[1].split(">)", 1)[0]
    assert (out / link).read_bytes() == image

    data = json.loads((out / "chat.json").read_text("utf-8"))
    assert data["format"] == "ia-conversation-export/1"
    assert (
        data["messages"][1]["thinking"] == "Keep it short — 简单." and data["messages"][1]["content"] == REPLY
    )
    assert base64.b64decode(data["attachments"][conv.messages[2].images[0]]) == image

    page = (out / f"{conv.slug}.html").read_text("utf-8")
    tags = _Tags()
    tags.feed(page)
    sources = [a["src"] for _, a in tags.tags if "src" in a]
    assert sources == ["data:image/png;base64," + base64.b64encode(image).decode()]
    assert not any(t in ("script", "link") for t, _ in tags.tags)
    assert '<span class="k">def</span>' in page and "Keep it short — 简单." in page and "🐍" in page


def test_import_from_the_cli_then_search_and_load(terminal_factory, tmp_path: Path, ia_home: Path):
    chatgpt = tmp_path / "chatgpt export.zip"
    chatgpt.write_bytes(
        chatgpt_zip(
            [chatgpt_conversation(), chatgpt_conversation("Quokka notes", conv_id="c2", image_id=None)],
            {"file-AbC123xyz-photo.png": PNG},
        )
    )
    owui = tmp_path / "chat-export-1731000100000.json"
    owui.write_text(json.dumps([openwebui_chat()]), encoding="utf-8")
    term = terminal_factory("-m", "smollm2:135m", "--plain")
    term.prompt()
    term.say("/help")
    term.expect("/import PATH")
    term.say(f"/import '{chatgpt}'")
    listing = term.expect("Open one with /load NUMBER.")
    assert f"Imported 2 conversations from {chatgpt} (ChatGPT export):" in listing
    assert "1. Fibonacci, tested (fibonacci-tested, Dec 12, 2024, 4 messages)" in listing
    assert "2. Quokka notes (quokka-notes, Dec 12, 2024, 4 messages)" in listing
    assert "Note: 2 conversations had other branches" in listing
    term.say("/search quokka")
    term.expect("1. Quokka notes (quokka-notes")
    term.say("/load 1")
    term.expect("Loaded Quokka notes (quokka-notes): 4 messages, 2 replies.")
    term.say(f"/import {owui}")
    term.expect(f"Imported 1 conversation from {owui} (Open WebUI export):")
    term.expect("1. Primes in Python 🐍 (primes-in-python, Nov 7, 2024, 4 messages)")
    term.prompt()
    assert term.leave() == 0
    titles = sorted(c.title for c in conversations(ia_home))
    assert titles == ["Fibonacci, tested", "Primes in Python 🐍", "Quokka notes"]
    fib = read_conversation(ia_home / "sav" / "fibonacci-tested" / "conversation.md")
    assert (ia_home / "sav" / "fibonacci-tested" / fib.messages[0].images[0]).read_bytes() == PNG


def test_json_round_trip_through_the_cli(terminal_factory, scripted_server, tmp_path: Path, ia_home: Path):
    term = terminal_factory("-m", "thinker:latest", "--plain")
    _chat_with_code_thinking_and_image(term, scripted_server, tmp_path)
    [before] = conversations(ia_home)
    image = (ia_home / "sav" / before.slug / before.messages[2].images[0]).read_bytes()
    term.say(f"/export json {tmp_path / 'c.json'}")
    term.expect("Exported to")
    term.say(f"/delete {before.slug}")
    term.expect("[y/N]")
    term.say("y")
    term.expect(f"Deleted {before.slug}.")
    term.say(f"/import {tmp_path / 'c.json'}")
    term.expect(f"1. {before.title} ({before.slug},")
    term.prompt()
    assert term.leave() == 0
    [after] = conversations(ia_home)
    assert after == before
    assert (ia_home / "sav" / after.slug / after.messages[2].images[0]).read_bytes() == image


def test_a_bad_file_is_refused_and_nothing_is_imported(terminal_factory, tmp_path: Path, ia_home: Path):
    notes = tmp_path / "notes.txt"
    notes.write_text("Shopping: eggs, milk\n", encoding="utf-8")
    cut = tmp_path / "conversations.json"
    text = json.dumps([chatgpt_conversation(image_id=None)])
    cut.write_text(text[: len(text) - 40], encoding="utf-8")
    term = terminal_factory("-m", "smollm2:135m", "--plain")
    term.prompt()
    term.say("/import")
    term.expect("Give the path of the file to import. Usage: /import PATH")
    term.say(f"/import {notes}")
    term.expect(f"Cannot import {notes}: it is not JSON (it starts with 'Shopping: eggs, milk').")
    term.expect("Nothing was imported; choose an IA_V3 JSON export, an Open WebUI chat export (.json)")
    term.say(f"/import {cut}")
    term.expect("its JSON stops at line 1 before it is complete: the file is cut short. Nothing was imported")
    huge = tmp_path / "huge.json"
    with huge.open("wb") as handle:  # sparse: its size is what is checked, before anything is read
        handle.truncate(300 * 2**20)
    term.say(f"/import {huge}")
    term.expect("it is 300 MB, more than the 256 MB an import reads at once. Nothing was imported")
    term.say(f"/import {tmp_path / 'missing.json'}")
    term.expect("there is no such file. Nothing was imported; check the path.")
    term.say("/sessions")
    term.expect("No saved conversation yet.")
    term.prompt()
    assert term.leave() == 0
    assert not (ia_home / "sav").exists() or list((ia_home / "sav").iterdir()) == []


def test_a_full_disk_during_import_leaves_nothing(scripted_server, tmp_path: Path, ia_home: Path):
    """sav/ is a 100 KB tmpfs (a private mount namespace around the CLI): the import fills it part-way."""
    if not shutil.which("unshare"):
        pytest.skip("unshare (util-linux) is not installed")
    from tests.core.test_import_faults import _mount_works, _noisy_png

    if not _mount_works(tmp_path):
        pytest.skip("this machine cannot mount a tmpfs in a user namespace (unshare -rm)")
    export = tmp_path / "big.zip"
    convs = [
        chatgpt_conversation(f"Zebrafish {n}", conv_id=f"c{n}", image_id=f"file-Img{n}") for n in range(3)
    ]
    export.write_bytes(chatgpt_zip(convs, {f"file-Img{n}-photo.png": _noisy_png(n) for n in range(3)}))
    (ia_home / "sav").mkdir()
    env = cli_env(scripted_server.url, ia_home)
    script = 'mount -t tmpfs -o size=100k tmpfs "$IA_HOME/sav" && exec "$0" "$1" -m smollm2:135m --plain'
    child = pexpect.spawn(
        "unshare",
        ["-rm", "sh", "-c", script, sys.executable, MAIN],
        env=env,
        cwd=str(REPO),
        encoding="utf-8",
        dimensions=(50, 200),
        timeout=30,
    )
    try:
        child.expect_exact("ia>")
        child.sendline(f"/import {export}")
        child.expect_exact("failed (the disk is full). Nothing was imported; free some disk space")
        child.sendline("/sessions")
        child.expect_exact("No saved conversation yet.")
        child.sendline("/search zebrafish")
        child.expect_exact("No conversation contains: zebrafish")
        child.expect_exact("ia>")
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert SearchIndex(ia_home / "data" / "index.sqlite").rows() == []
    assert (
        os.listdir(ia_home / "sav") == []
    )  # the tmpfs is gone with its namespace; the real folder is untouched
