"""The interactive CLI driven through a pseudo-terminal, as a person would: type, read, press Ctrl-C/Ctrl-D."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pexpect
import pytest

from core.devlog import DevLog
from core.embedded.scripted import Delay, Script
from tests.cli.conftest import only_conversation, wait_until

MODEL = "smollm2:135m"


def test_banner_names_backend_model_and_session(terminal_factory, scripted_server) -> None:
    term = terminal_factory("-m", MODEL)
    banner = term.expect("ia>")
    assert f"Using Ollama at {scripted_server.url}." in banner
    assert f"Model: {MODEL}" in banner
    assert "Session: new" in banner
    assert term.leave() == 0


def test_a_prompt_gets_a_streamed_reply_and_the_prompt_comes_back(terminal_factory, ia_home: Path) -> None:
    term = terminal_factory("-m", MODEL)
    term.prompt()
    term.say("Hello there")
    term.expect("Hello from the scripted engine.")
    term.prompt()
    assert term.leave() == 0
    conv = only_conversation(ia_home)
    assert conv.title == "Hello there"
    assert [m.content for m in conv.messages] == ["Hello there", "Hello from the scripted engine."]
    assert "Hello there" in (ia_home / "data" / "cli_history").read_text("utf-8")


def test_plain_flag_streams_plain_text(terminal_factory, scripted_server) -> None:
    scripted_server.engine.enqueue(Script(["**bold** ", "text"]))
    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    term.say("show markdown")
    term.expect("**bold** text")  # left as typed: no Markdown rendering in plain mode
    term.prompt()
    assert term.leave() == 0


@pytest.mark.parametrize("mode", [["--plain"], []], ids=["plain", "rich"])
def test_ctrl_c_stops_a_slow_reply_keeps_it_and_the_next_message_works(
    terminal_factory, scripted_server, ia_home: Path, mode: list[str]
) -> None:
    scripted_server.engine.enqueue(Script(["Once upon ", Delay(30), "never printed"]), Script(["Short one."]))
    term = terminal_factory("-m", MODEL, *mode)
    term.prompt()
    term.say("Tell me a long story")
    term.expect("Once upon")
    term.child.sendintr()
    term.expect("interrupted")
    term.prompt()
    assert scripted_server.engine.wait_generation_end().stopped_by_cancel
    reply = only_conversation(ia_home).messages[-1]
    assert (reply.content, reply.status) == ("Once upon ", "interrupted")
    term.say("And now a short one")
    term.expect("Short one.")
    term.prompt()
    assert term.leave() == 0


def test_the_last_words_before_a_pause_are_on_screen(terminal_factory, scripted_server) -> None:
    # Chunks arriving together and then a pause (a model thinking, a slow CPU): the live display must show
    # all of them, not only those before its last redraw.
    scripted_server.engine.enqueue(Script(["Alpha ", "beta ", "omega", Delay(30), "never"]))
    term = terminal_factory("-m", MODEL)
    term.prompt()
    term.say("go")
    term.expect("omega", timeout=5)
    term.child.sendintr()
    term.expect("[interrupted: the partial reply is kept]")
    term.prompt()


def test_ctrl_c_during_a_rich_reply_is_not_echoed_so_the_live_display_leaves_no_copy(
    terminal_factory, scripted_server
) -> None:
    # A line as wide as the terminal: an echoed ^C after it wrapped onto a new line, so rich's live display
    # erased one line too few and its first line ("Story") stayed on screen above the final reply.
    scripted_server.engine.enqueue(Script(["# Story\n\n", "x" * 150 + "\n", Delay(30), "never"]))
    term = terminal_factory("-m", MODEL)
    term.prompt()
    term.say("story")
    term.expect("xxxx")
    term.child.sendintr()
    shown = term.expect("[interrupted: the partial reply is kept]")
    assert "^C" not in shown
    term.prompt()


def test_keys_typed_during_a_reply_are_not_echoed_into_it_and_reach_the_next_prompt(
    terminal_factory, scripted_server
) -> None:
    scripted_server.engine.enqueue(Script(["Slow ", Delay(1.5), "end."]))
    term = terminal_factory("-m", MODEL)
    term.prompt()
    term.say("go")
    term.expect("Slow")
    term.say("/stats")  # typed ahead while the reply streams
    shown = term.expect("end.")
    assert "/stats" not in shown
    term.expect("tok/s")  # the next prompt read the typed-ahead command and ran it
    term.prompt()


def test_ctrl_c_at_the_prompt_does_not_leave(terminal_factory) -> None:
    term = terminal_factory("-m", MODEL)
    term.prompt()
    term.child.sendintr()
    term.prompt()
    term.say("/quit")
    term.expect("Bye.")


def test_leaving_right_after_the_start_exits_cleanly(terminal_factory) -> None:
    """The official client is built on a background thread while the prompt waits; leaving before it is
    done used to abort the process after "Bye." about one time in five ("FATAL: exception not rethrown",
    status 134, the thread killed inside an extension module as Python finalized). Ten quick exits in a
    row all end with status 0."""
    for _attempt in range(10):
        term = terminal_factory("-m", MODEL, "--plain")
        term.prompt()
        term.say("/quit")
        term.expect("Bye.")
        term.child.expect(pexpect.EOF, timeout=20)
        rest = term.child.before
        term.child.wait()
        term.child.close()
        assert "FATAL" not in rest, rest
        assert (term.child.exitstatus, term.child.signalstatus) == (0, None), rest


def test_multiline_block_is_sent_as_one_message(terminal_factory, scripted_server) -> None:
    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    term.say('"""')
    term.say("first line")
    term.say('second line"""')
    term.expect("Hello from the scripted engine.")
    term.prompt()
    sent = scripted_server.engine.bodies("/api/chat")[0]["messages"][-1]["content"]
    assert sent == "first line\nsecond line"


def _ctrl_d_until(term, text: str) -> None:
    """Press Ctrl-D until ``text`` shows: one pressed while the terminal is between prompts (cooked mode) is
    swallowed by the line discipline, as it would be for a person typing too early."""
    for _ in range(20):
        term.child.sendeof()
        if term.child.expect_exact([text, pexpect.TIMEOUT], timeout=1) == 0:
            return
    pytest.fail(f"Ctrl-D never brought {text!r}")


def test_ctrl_d_in_an_open_block_keeps_the_text_at_the_prompt(terminal_factory, scripted_server) -> None:
    """As in ptpython or IPython, Ctrl-D with text pending does not quit: the block closes unsent and comes
    back at the prompt as one input; Enter then sends it whole."""
    from cli.line_input import BLOCK_CLOSED_NOTE

    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    term.say('"""')
    term.say("first line")
    term.say("second line")
    term.expect("second line")
    term.expect("...")  # the block is still open (its prompt)
    _ctrl_d_until(term, BLOCK_CLOSED_NOTE)
    term.expect("second line")  # redrawn at the prompt, ready to edit
    assert scripted_server.engine.bodies("/api/chat") == []  # nothing sent yet
    assert term.child.isalive()
    term.child.send(" and more\r")
    term.expect("Hello from the scripted engine.")
    sent = scripted_server.engine.bodies("/api/chat")[0]["messages"][-1]["content"]
    assert sent == "first line\nsecond line and more"
    term.prompt()
    term.say('"""')  # an empty block: Ctrl-D closes it, the chat stays; Ctrl-D at the empty prompt leaves
    term.expect("...")
    _ctrl_d_until(term, "ia>")
    term.say("/dev")
    term.expect("DEV mode off.")
    assert term.leave() == 0
    assert len(scripted_server.engine.bodies("/api/chat")) == 1


def test_alt_enter_inserts_a_newline(terminal_factory, scripted_server) -> None:
    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    term.child.send("top")
    term.child.send("\x1b\r")  # Esc, Enter (what Alt+Enter sends)
    term.child.send("bottom\r")
    term.expect("Hello from the scripted engine.")
    sent = scripted_server.engine.bodies("/api/chat")[0]["messages"][-1]["content"]
    assert sent == "top\nbottom"


def test_session_commands(terminal_factory, scripted_server, ia_home: Path, tmp_path: Path) -> None:
    scripted_server.engine.enqueue(Script(["Paris is the capital."]), Script(["Berlin it is."]))
    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    term.say("/new Geography")
    term.expect("New conversation: Geography (geography)")
    term.say("Capital of France?")
    term.expect("Paris is the capital.")
    term.prompt()
    term.say("/rename Capitals of Europe")
    term.expect("Renamed: Capitals of Europe (capitals-of-europe)")
    term.say("/new Other")
    term.expect("New conversation: Other")
    term.say("Capital of Germany?")
    term.expect("Berlin it is.")
    term.say("/sessions")
    listing = term.expect("Open one with /load")
    assert "Capitals of Europe" in listing and "Other (current)" in listing
    term.say("/search Paris")
    hits = term.expect("Open one with /load NUMBER.")
    assert "Capitals of Europe (capitals-of-europe" in hits and "Other (" not in hits
    term.say("/load 1")
    term.expect("Loaded Capitals of Europe (capitals-of-europe): 2 messages, 1 reply.")
    out_md = tmp_path / "export.md"
    out_json = tmp_path / "export.json"
    term.say(f"/export md {out_md}")
    term.expect(f"Exported to {out_md}")
    term.say(f"/export json {out_json}")
    term.expect(f"Exported to {out_json}")
    term.say("/delete other")
    term.expect("[y/N]")
    term.say("y")
    term.expect("Deleted other.")
    term.prompt()
    assert term.leave() == 0
    assert "Paris is the capital." in out_md.read_text("utf-8")
    assert json.loads(out_json.read_text("utf-8"))
    assert "Paris is the capital." in out_json.read_text("utf-8")
    assert sorted(p.name for p in (ia_home / "sav").iterdir() if not p.name.startswith(".")) == [
        "capitals-of-europe"
    ]


def test_delete_needs_a_yes(terminal_factory, ia_home: Path) -> None:
    term = terminal_factory("-m", MODEL)
    term.prompt()
    term.say("/new Keep me")
    term.expect("New conversation")
    term.say("/delete keep-me")
    term.expect("[y/N]")
    term.say("n")
    term.expect("Kept.")
    term.prompt()
    for key in (term.child.sendintr, term.child.sendeof):  # Ctrl-C or Ctrl-D at the question: no
        term.say("/delete keep-me")
        term.expect("[y/N]")
        key()
        term.expect("Kept.")
        term.prompt()
    assert term.child.isalive()
    assert (ia_home / "sav" / "keep-me" / "conversation.md").is_file()


def test_set_validates_values_and_reaches_the_request(terminal_factory, scripted_server) -> None:
    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    term.say("/set temperature hot")
    term.expect("temperature takes a number from 0 to 2; 'hot' is not a number of that kind.")
    term.say("/set temperature 7")
    term.expect("temperature takes a number from 0 to 2; 7 is out of range.")
    term.say("/set keep_alive soon")
    term.expect("keep_alive takes seconds")
    term.say("/set think maybe")
    term.expect("think takes on, off, low, medium or high")
    term.say("/set tempreature 1")
    term.expect("Did you mean temperature?")
    term.say("/set temperature 0.25")
    term.expect("temperature = 0.25")
    term.say("/set num_ctx 2048")
    term.expect("num_ctx = 2048")
    term.say("/set keep_alive 10m")
    term.expect("keep_alive = 10m")
    term.say("Hi")
    term.expect("Hello from the scripted engine.")
    term.prompt()
    body = scripted_server.engine.bodies("/api/chat")[0]
    assert body["options"] == {"temperature": 0.25, "num_ctx": 2048}
    assert body["keep_alive"] == "10m"


def test_every_set_key_reaches_the_request(terminal_factory, scripted_server) -> None:
    term = terminal_factory("-m", "thinker:latest", "--plain")
    term.prompt()
    for text in ("one", "two"):
        term.say(text)
        term.expect("Hello from the scripted engine.")
        term.prompt()
    settings = [
        ("temperature 0.5", "temperature = 0.5"),
        ("top_p 0.9", "top_p = 0.9"),
        ("seed 7", "seed = 7"),
        ("num_ctx 1024", "num_ctx = 1024"),
        ("num_predict 64", "num_predict = 64"),
        ("keep_alive 30", "keep_alive = 30"),
        ("think on", "think = on"),
        ("context 1", "context = 1"),
    ]
    for typed, answer in settings:
        term.say(f"/set {typed}")
        term.expect(answer)
    term.say("/set")
    listing = term.expect("Reset one with /set KEY default.")
    assert "key" in listing and "takes" in listing  # a table with a header
    for key, value in (("temperature", "0.5"), ("think", "on"), ("context", "1"), ("keep_alive", "30")):
        assert any(line.split()[:2] == [key, value] for line in listing.splitlines() if line.strip()), key
    term.say("three")
    term.expect("Hello from the scripted engine.")
    term.prompt()
    body = scripted_server.engine.bodies("/api/chat")[-1]
    assert body["options"] == {
        "temperature": 0.5,
        "top_p": 0.9,
        "seed": 7,
        "num_ctx": 1024,
        "num_predict": 64,
    }
    assert body["keep_alive"] == 30 and body["think"] is True
    assert [m["content"] for m in body["messages"]] == ["two", "Hello from the scripted engine.", "three"]
    term.say("/set temperature default")
    term.expect("temperature = default")
    term.say("/set think off")
    term.expect("think = off")
    term.say("four")
    term.expect("Hello from the scripted engine.")
    term.prompt()
    body = scripted_server.engine.bodies("/api/chat")[-1]
    assert "temperature" not in body["options"] and body["think"] is False


def test_unknown_command_suggests_the_closest(terminal_factory) -> None:
    term = terminal_factory("-m", MODEL)
    term.prompt()
    term.say("/sesions")
    term.expect("Unknown command /sesions. Did you mean /sessions?")
    term.prompt()


def test_help_lists_commands_and_multiline_keys(terminal_factory) -> None:
    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    term.say("/help")
    text = term.expect("Ctrl-D at an empty prompt, or /quit, leaves.")
    from cli.commands import commands

    usages = [c.usage for c in commands()]
    assert (
        len(usages) == 29
    )  # the 25 original commands (/copy code K shares /copy's line), /import, /file, /versions, /lang
    for usage in usages:
        assert usage in text
    assert "Alt+Enter" in text and '"""' in text
    assert "Ctrl-D inside a block closes it without sending" in text


def test_model_commands(terminal_factory) -> None:
    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    term.say("/models")
    term.expect("gemma3:270m")
    term.expect("thinker:latest")
    term.say("/model gemma3:27")
    term.expect("Did you mean gemma3:270m?")
    term.say("/model gemma3:270m")
    term.expect("Model: gemma3:270m")
    term.say("/show")
    shown = term.expect("{{ .Prompt }}")  # the template, as the issue asks of /show
    assert "context length" in shown and "capabilities" in shown and "template" in shown
    term.say("Hi")
    term.expect("Hello from the scripted engine.")
    term.say("/ps")
    term.expect("gemma3:270m")
    term.say("/unload thinker:latest")
    term.expect("thinker:latest is not loaded (loaded now: gemma3:270m); nothing to unload.")
    term.say("/unload")
    term.expect("Unloaded gemma3:270m.")
    term.say("/unload")
    term.expect("gemma3:270m is not loaded (no model is loaded); nothing to unload.")
    term.say("/pull tiny:1b")
    term.expect("There is no model called 'tiny:1b' to pull")  # the registry does not have it
    term.prompt()
    term.say("/rm gemma3:270m")
    term.expect("[y/N]")
    term.say("n")
    term.expect("Kept.")
    assert term.leave() == 0


def test_models_says_whether_each_fits_this_machine(
    terminal_factory, scripted_server, tmp_path: Path
) -> None:
    """/models heads the table with this machine (RAM, cores, GPU memory from nvidia-smi) and judges each
    model from its listed size, without asking the server about each one."""
    import os

    from core.embedded.scripted import scripted_model

    tools = tmp_path / "bin"
    tools.mkdir()
    smi = tools / "nvidia-smi"  # a stand-in: these machines have no NVIDIA GPU
    smi.write_text('#!/bin/sh\nprintf "NVIDIA GeForce RTX 4090, 24564, 1023\\n"\n')
    smi.chmod(0o755)
    scripted_server.engine.set_models(
        scripted_model(MODEL),
        scripted_model("huge:405b", size=64 * 1024**4),  # 64 TiB: no machine has it
    )
    term = terminal_factory("-m", MODEL, "--plain", PATH=f"{tools}{os.pathsep}{os.environ['PATH']}")
    term.prompt()
    term.say("/models")
    term.expect("This machine: ")
    shown = term.expect("ia>")
    header = shown.splitlines()[0].strip()
    assert " RAM (" in header and " free) · " in header and "CPU core" in header
    assert header.endswith("NVIDIA GeForce RTX 4090 24 GiB (23 GiB free)")
    assert "fits here" in shown
    small = next(line for line in shown.splitlines() if MODEL in line)
    huge = next(line for line in shown.splitlines() if "huge:405b" in line)
    assert "fits on GPU" in small
    assert re.search(r"too large for \d+ GiB RAM", huge), huge
    assert scripted_server.engine.bodies("/api/show") == []  # no request per model
    assert term.leave() == 0


def test_regen_and_stats(terminal_factory, scripted_server, ia_home: Path) -> None:
    scripted_server.engine.enqueue(Script(["First try."]), Script(["Second try."]))
    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    term.say("Say something")
    term.expect("First try.")
    term.say("/regen")
    term.expect("Second try.")
    term.say("/stats")
    term.expect("tok/s")
    term.prompt()
    assert [m.content for m in only_conversation(ia_home).messages] == ["Say something", "Second try."]


def test_system_prompt_command(terminal_factory, scripted_server, ia_home: Path) -> None:
    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    term.say("Hi")
    term.expect("Hello from the scripted engine.")
    term.say("/system You are terse.")
    term.expect("System prompt set.")
    term.say("Again")
    term.expect("Hello from the scripted engine.")
    term.prompt()
    assert scripted_server.engine.bodies("/api/chat")[-1]["messages"][0] == {
        "role": "system",
        "content": "You are terse.",
    }
    assert only_conversation(ia_home).system_prompt == "You are terse."


def test_image_is_attached_to_the_next_message(terminal_factory, scripted_server, tmp_path: Path) -> None:
    from PIL import Image

    picture = tmp_path / "red.png"
    Image.new("RGB", (4, 4), "red").save(picture)
    not_image = tmp_path / "notes.png"
    not_image.write_text("not a picture")
    term = terminal_factory("-m", "vision:latest", "--plain")
    term.prompt()
    term.say(f"/image {tmp_path / 'missing.png'}")
    term.expect("No file at")
    term.say(f"/image {not_image}")
    term.expect("cannot be read as an image")
    term.say(f"/image {picture}")
    term.expect("Attached red.png")
    term.say("What colour?")
    term.expect("Hello from the scripted engine.")
    term.say("And now?")
    term.expect("Hello from the scripted engine.")
    term.prompt()
    bodies = scripted_server.engine.bodies("/api/chat")
    assert len(bodies[0]["messages"][-1]["images"]) == 1
    assert "images" not in bodies[1]["messages"][-1]


def test_file_is_sent_as_a_named_block_and_refusals_say_why(
    terminal_factory, scripted_server, tmp_path: Path, ia_home: Path
) -> None:
    from core.attachments import split_attachments

    code = tmp_path / "my script.py"
    code.write_text("def add(a, b):\n    return a + b\n# ```` fence inside\n", encoding="utf-8")
    binary = tmp_path / "blob.py"
    binary.write_bytes(b"\x00\x01\x02")
    big = tmp_path / "big.txt"
    big.write_text("x" * (101 * 1024))
    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    term.say("/file")
    term.expect("Give the path of a text or code file.")
    term.say(f"/file {tmp_path / 'missing.py'}")
    term.expect("Cannot attach missing.py: the file does not exist.")
    term.say(f"/file {binary}")
    term.expect("Cannot attach blob.py: it is a binary file, not text.")
    term.say(f"/file {big}")
    term.expect("Cannot attach big.txt: it is too big (101.0 KB; the limit is 100.0 KB).")
    term.say(f"/file {tmp_path}")
    term.expect("it is a folder")
    term.say(f"/file {code}")
    term.expect("Attached my script.py · 3 lines; it goes with your next message.")
    term.say("/file")
    term.expect("Attached: my script.py · 3 lines")
    term.say("Explain this")
    term.expect("Hello from the scripted engine.")
    term.say("And now?")
    term.expect("Hello from the scripted engine.")
    term.prompt()
    bodies = scripted_server.engine.bodies("/api/chat")
    sent = bodies[0]["messages"][-1]["content"]
    assert sent.startswith('Explain this\n\nFile: my script.py\n`````python file="my script.py"\n')
    assert split_attachments(sent)[1].text == code.read_text(encoding="utf-8")
    assert bodies[1]["messages"][-1]["content"] == "And now?"  # sent once, then cleared
    saved = only_conversation(ia_home).messages[0].content
    assert saved == sent


def only_conversation_dir(home: Path) -> Path:
    return home / "sav" / only_conversation(home).slug


def test_copy_and_copy_code_reach_the_clipboard(
    terminal_factory, scripted_server, x_display: str, ia_home: Path
) -> None:
    reply = "Two blocks:\n\n```python\nprint(1)\n```\n\nand\n\n```bash\necho two\n```\n"
    scripted_server.engine.enqueue(Script([reply]))
    term = terminal_factory("-m", MODEL, "--plain", DISPLAY=x_display)
    term.prompt()
    term.say("/copy")
    term.expect("There is no reply to copy yet.")
    term.say("Show code")
    term.expect("echo two")
    term.prompt()

    def clipboard() -> str:
        return subprocess.run(
            ["xclip", "-selection", "clipboard", "-o"],
            env={"DISPLAY": x_display, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout

    term.say("/copy")
    term.expect("Copied the last reply")
    wait_until(lambda: clipboard() == reply, what="the reply on the clipboard")
    term.say("Another")
    term.expect("Hello from the scripted engine.")
    term.prompt()
    term.say("/copy 2")
    term.expect("Copied the last 2 replies")
    wait_until(
        lambda: clipboard() == reply + "\n\nHello from the scripted engine.",
        what="both replies on the clipboard",
    )
    term.say("/copy")
    term.expect("Copied the last reply")
    wait_until(lambda: clipboard() == "Hello from the scripted engine.", what="the newest reply alone")
    scripted_server.engine.enqueue(Script([reply]))
    term.say("Show code again")
    term.expect("echo two")
    term.prompt()
    term.say("/copy code")
    term.expect("Copied code block 1 of 2")
    wait_until(lambda: clipboard() == "print(1)\n", what="code block 1 on the clipboard")
    term.say("/copy code 2")
    term.expect("Copied code block 2 of 2")
    wait_until(lambda: clipboard() == "echo two\n", what="code block 2 on the clipboard")
    term.say("/copy code 3")
    term.expect("there is no block 3")
    saved = sorted(only_conversation_dir(ia_home).glob("code_*"))
    assert {f.suffix for f in saved} == {".py", ".sh"} and len(saved) == 4  # two blocks of two replies
    term.say("/code")
    for path in saved:
        term.expect(str(path))


def test_copy_without_a_display_says_what_is_missing(terminal_factory, scripted_server) -> None:
    term = terminal_factory("-m", MODEL, "--plain", DISPLAY="")
    term.prompt()
    term.say("Hi")
    term.expect("Hello from the scripted engine.")
    term.say("/copy")
    term.expect("Cannot use the clipboard")
    term.prompt()


def test_dev_mode_picks_a_model_shows_timings_and_records(terminal_factory, scripted_server, ia_home) -> None:
    from config import load_settings

    term = terminal_factory("--dev", "--plain")
    banner = term.expect("This machine: ")  # the banner comes first, then the pick
    assert f"Using Ollama at {scripted_server.url}." in banner
    assert "Session: new" in banner and "DEV mode on" in banner
    listing = term.expect("Pick a model")
    assert "CPU core" in listing and "RAM" in listing and "Installed models:" in listing
    for n, card in enumerate(scripted_server.engine.list_models(), 1):
        assert f"{n:>2}. {card.name}" in listing
    assert listing.count(" fits") >= len(scripted_server.engine.list_models())  # 1 MB models fit anywhere
    term.say("nonsense")
    term.expect("is not in the list")
    term.say("2")
    after = term.expect("ia>")
    chosen = scripted_server.engine.list_models()[1].name
    assert f"Model: {chosen}" in after
    term.say("Hi")
    term.expect("tok/s")
    term.prompt()
    term.say("/dev off")
    term.expect("DEV mode off.")
    term.say("Again")
    term.expect("Hello from the scripted engine.")
    term.prompt()
    records = DevLog(load_settings(env={"IA_HOME": str(ia_home)})).read()
    assert len(records) == 1
    assert records[0].model == chosen
    assert scripted_server.engine.bodies("/api/chat")[0]["model"] == chosen
    readable = (ia_home / "data" / "dev_responses.log").read_text("utf-8").splitlines()
    assert len(readable) == 1 and f"model={chosen}" in readable[0] and "ttft=" in readable[0]


@pytest.mark.parametrize("how", ["config", "environment"])
def test_dev_mode_from_the_settings_picks_a_model_at_start(
    terminal_factory, scripted_server, ia_home: Path, how: str
) -> None:
    extra = {}
    if how == "config":
        (ia_home / "config.toml").write_text("dev_mode = true\n", "utf-8")
    else:
        extra["IA_DEV"] = "1"
    term = terminal_factory("--plain", **extra)
    banner = term.expect("Installed models")
    assert "DEV mode on" in banner and "Session: new" in banner
    term.expect("Pick a model")
    term.say("")  # Enter keeps the default
    assert "Model: smollm2:135m" in term.expect("ia>")


def test_dev_on_during_a_chat_shows_timings_and_records_from_then_on(
    terminal_factory, scripted_server, ia_home: Path
) -> None:
    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    term.say("before")
    shown = term.expect("Hello from the scripted engine.")
    term.prompt()
    assert not (ia_home / "data" / "dev_responses.jsonl").exists()
    term.say("/dev on")
    term.expect(f"DEV mode on: timings after each reply; requests logged in {ia_home / 'data'}")
    term.say("after")
    term.expect("Hello from the scripted engine.")
    shown = term.expect("ia>")
    assert "first token" in shown and "tok/s" in shown and "total" in shown
    rows = (ia_home / "data" / "dev_responses.jsonl").read_text("utf-8").splitlines()
    assert len(rows) == 1 and json.loads(rows[0])["model"] == MODEL
    assert (ia_home / "data" / "dev_responses.log").read_text("utf-8").count("\n") == 1


def test_session_flag_opens_an_existing_conversation(
    terminal_factory, scripted_server, ia_home: Path
) -> None:
    term = terminal_factory("-m", MODEL, "--session", "Daily notes", "--plain")
    banner = term.expect("ia>")
    assert "Session: Daily notes (daily-notes)" in banner
    term.say("note one")
    term.expect("Hello from the scripted engine.")
    assert term.leave() == 0
    again = terminal_factory("-m", MODEL, "--session", "daily-notes", "--plain")
    again.prompt()
    again.say("note two")
    again.expect("Hello from the scripted engine.")
    again.prompt()
    sent = scripted_server.engine.bodies("/api/chat")[-1]["messages"]
    assert [m["content"] for m in sent][0] == "note one"


def test_reply_is_rendered_as_markdown_on_a_terminal(terminal_factory, scripted_server) -> None:
    scripted_server.engine.enqueue(Script(["# Heading\n\n", "Some **bold** words.\n\n", "- item one\n"]))
    term = terminal_factory("-m", MODEL)
    term.prompt()
    term.say("markdown please")
    shown = term.expect("item one")
    assert "**bold**" not in shown and "bold" in shown  # rendered, not echoed as source
    assert not (shown + "item one").endswith("- item one")  # the list marker is drawn as a bullet
    term.prompt()


def test_history_persists_between_runs(terminal_factory, scripted_server) -> None:
    first = terminal_factory("-m", MODEL, "--plain")
    first.prompt()
    first.say("remember this line")
    first.expect("Hello from the scripted engine.")
    assert first.leave() == 0
    second = terminal_factory("-m", MODEL, "--plain")
    second.prompt()
    second.child.send("\x1b[A")  # Up arrow: the previous run's input comes back
    second.child.send("\r")
    second.expect("Hello from the scripted engine.")
    sent = [b["messages"][-1]["content"] for b in scripted_server.engine.bodies("/api/chat")]
    assert sent == ["remember this line", "remember this line"]


def test_a_fault_mid_reply_shows_one_line_and_the_chat_goes_on(
    terminal_factory, scripted_server, ia_home: Path
) -> None:
    from core.embedded.scripted import ErrorLine

    scripted_server.engine.enqueue(Script(["Half ", ErrorLine("the model crashed")]), Script(["Recovered."]))
    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    term.say("first")
    term.expect("The reply was cut off")
    term.prompt()
    term.say("second")
    term.expect("Recovered.")
    term.prompt()
    messages = only_conversation(ia_home).messages
    assert [(m.content, m.status) for m in messages] == [
        ("first", "complete"),
        ("Half ", "interrupted"),
        ("second", "complete"),
        ("Recovered.", "complete"),
    ]


def test_profile_command_applies_a_saved_profile(terminal_factory, scripted_server, ia_home: Path) -> None:
    from config import load_settings
    from core.profiles import Profile, save_profile

    save_profile(load_settings(), Profile("coder", "gemma3:270m", "Write Python.", {"seed": 3}))
    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    term.say("/profile")
    term.expect("Profiles: coder")
    term.say("/profile nosuch")
    term.expect("There is no profile named 'nosuch' (saved ones: coder); create it with")
    term.say("/profile coder")
    term.expect("Profile coder: model gemma3:270m")
    term.say("hi")
    term.expect("Hello from the scripted engine.")
    term.prompt()
    body = scripted_server.engine.bodies("/api/chat")[0]
    assert body["model"] == "gemma3:270m"
    assert body["messages"][0] == {"role": "system", "content": "Write Python."}
    assert body["options"] == {"seed": 3}


def test_stats_of_a_loaded_conversation_come_from_the_saved_reply(terminal_factory, scripted_server) -> None:
    first = terminal_factory("-m", MODEL, "--plain")
    first.prompt()
    first.say("Hi")
    first.expect("Hello from the scripted engine.")
    assert first.leave() == 0
    second = terminal_factory("-m", MODEL, "--plain")
    second.prompt()
    second.say("/stats")
    second.expect("No finished reply yet.")
    second.say("/sessions")
    second.expect("Open one with /load")
    second.say("/load 1")
    second.expect("Loaded Hi (hi)")
    second.say("/stats")
    line = second.expect("tok/s")
    assert f"model {MODEL}" in line and "6 tokens" in line


def test_bad_command_arguments_get_clear_messages(terminal_factory, tmp_path: Path) -> None:
    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    cases = [
        ("/load nosuch", "No conversation named 'nosuch': list them with /sessions."),
        ("/rename New title", "No conversation yet: send a message or use /new TITLE first."),
        (
            f"/export xml {tmp_path / 'x.xml'}",
            "Give the format (md, json or html) and a path. Usage: /export md|json|html PATH",
        ),
        ("/copy code", "There is no reply to copy yet."),
        ("/dev maybe", "Say on or off, not 'maybe'."),
        ("/model", "Current model: smollm2:135m."),
        ("/set", "Reset one with /set KEY default."),
    ]
    for command, message in cases:
        term.say(command)
        term.expect(message)
    term.say("Hi")
    term.expect("Hello from the scripted engine.")
    term.say("/copy code x")
    term.expect("The last reply has no code block.")
    term.say("/copy 0")
    term.expect("N must be a whole number from 1 up, not '0'.")
    term.prompt()
    assert not (tmp_path / "x.xml").exists()


def test_server_gone_mid_session_is_one_message_and_the_prompt_stays(
    terminal_factory, scripted_server, ia_home: Path
) -> None:
    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    term.say("first")
    term.expect("Hello from the scripted engine.")
    term.prompt()
    scripted_server.server.stop()  # Ollama goes away mid-session
    term.say("second")
    term.expect(f"Cannot reach Ollama at {scripted_server.url}")
    term.expect("ollama serve")  # how to start it again
    term.prompt()
    term.say("/quit")
    term.expect("Bye.")
    messages = only_conversation(ia_home).messages
    assert [m.content for m in messages if m.role == "user"] == ["first", "second"]


def test_ctrl_c_during_a_slow_command_stops_it_and_the_chat_goes_on(ia_home: Path) -> None:
    """A server that answers the ping but then hangs on /api/tags: Ctrl-C during /models returns to the prompt."""
    import threading

    from tests.cli.conftest import Terminal, cli_env
    from tests.fixtures.servers import PlainHandler, plain_http_server

    release = threading.Event()
    requests: list[str] = []

    class Hanging(PlainHandler):
        def do_GET(self) -> None:
            if self.path != "/":
                requests.append(self.path)
                release.wait(30)
            self.send(200, b"Ollama is running")

    with plain_http_server(Hanging) as url:
        term = Terminal(["-m", MODEL, "--plain"], cli_env(url, ia_home))
        try:
            term.prompt()
            term.say("/models")
            wait_until(lambda: requests, what="the /api/tags request")
            term.child.sendintr()
            term.expect("Stopped.")
            term.prompt()
            assert term.child.isalive()
            term.say("/quit")
            term.expect("Bye.")
        finally:
            release.set()  # before the server shuts down: its handler thread is waiting on it
            term.close()


def test_with_output_redirected_the_file_gets_the_plain_chat_and_the_prompt_stays_on_screen(
    scripted_server, ia_home: Path, tmp_path: Path
) -> None:
    import sys

    from tests.cli.conftest import MAIN, REPO, cli_env

    scripted_server.engine.enqueue(Script(["**bold** reply"]))
    transcript = tmp_path / "chat.txt"
    child = pexpect.spawn(
        "bash",
        ["-c", f"exec '{sys.executable}' '{MAIN}' -m {MODEL} > '{transcript}'"],
        env=cli_env(scripted_server.url, ia_home),
        cwd=str(REPO),
        encoding="utf-8",
        dimensions=(50, 160),
        timeout=20,
    )
    try:
        child.expect_exact("ia>")  # drawn on stderr, which is the terminal
        child.sendline("hello")
        wait_until(lambda: "**bold** reply" in transcript.read_text("utf-8"), what="the reply in the file")
        child.expect_exact("ia>")
        child.sendline("/quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    text = transcript.read_text("utf-8")
    assert "**bold** reply\n" in text  # plain: the Markdown source, no escape codes
    assert "\x1b" not in text and "ia>" not in text
    assert text.rstrip().endswith("Bye.")


def test_an_unwritable_home_gives_one_sentence_per_failure_and_the_prompt_stays(
    terminal_factory, ia_home: Path
) -> None:
    for name in ("sav", "logs", "data"):  # files where the folders should be: nothing can be written
        (ia_home / name).write_text("not a folder", "utf-8")
    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    term.say("Hello")
    shown = term.expect("fix the folder's permissions (IA_HOME); what was saved before is intact.")
    assert f"Cannot write {ia_home / 'sav'}" in shown and "Traceback" not in shown
    term.prompt()
    term.say("/sessions")
    term.expect("No saved conversation yet.")
    term.prompt()
    assert term.leave() == 0
    assert (ia_home / "sav").read_text("utf-8") == "not a folder"


def test_new_without_a_title_starts_a_conversation_titled_by_its_first_message(
    terminal_factory, scripted_server, ia_home: Path
) -> None:
    from tests.cli.conftest import conversations

    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    term.say("first chat")
    term.expect("Hello from the scripted engine.")
    term.prompt()
    term.say("/new")
    term.expect("New conversation (saved with the first message).")
    banner_less = term.expect("ia>")
    assert "Traceback" not in banner_less
    assert len(conversations(ia_home)) == 1  # nothing saved until the first message
    term.say("second chat")
    term.expect("Hello from the scripted engine.")
    term.prompt()
    assert sorted(c.title for c in conversations(ia_home)) == ["first chat", "second chat"]
    sent = scripted_server.engine.bodies("/api/chat")[-1]["messages"]
    assert [m["content"] for m in sent] == ["second chat"]  # the new conversation starts empty


def test_a_one_shot_reply_on_a_terminal_is_rendered_as_markdown(scripted_server, ia_home: Path) -> None:
    from tests.cli.conftest import Terminal, cli_env

    scripted_server.engine.enqueue(Script(["Some **bold** words.\n\n", "- item one\n"]))
    term = Terminal(["-m", MODEL, "format this"], cli_env(scripted_server.url, ia_home))
    try:
        shown = term.expect("item one")
        term.child.expect(pexpect.EOF)
        term.child.close()
        assert term.child.exitstatus == 0
    finally:
        term.close()
    assert "**bold**" not in shown and "bold" in shown
    assert "•" in shown  # rich draws the list bullet


def test_regen_keeps_versions_and_versions_lists_and_switches_them(
    terminal_factory, scripted_server, ia_home: Path
) -> None:
    scripted_server.engine.enqueue(Script(["First try."]), Script(["Second try."]), Script(["Follow-up."]))
    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    term.say("/versions")
    term.expect("No message here has other versions yet")
    term.say("Say something")
    term.expect("First try.")
    term.say("/regen")
    term.expect("Second try.")
    term.expect("Version 2 of 2 of this reply")
    term.say("/versions")
    term.expect("Message 2 (reply) has 2 versions:")
    term.expect("  1. First try.")
    term.expect("* 2. Second try.")
    term.say("/versions 3")
    term.expect("Give a version number from 1 to 2.")
    term.say("/versions 1")
    term.expect("Version 1 of 2 of message 2 (reply):")
    term.expect("Assistant: First try.")
    term.say("And then?")
    term.expect("Follow-up.")
    term.prompt()
    # only the version shown is context
    assert [m["content"] for m in scripted_server.engine.bodies("/api/chat")[-1]["messages"]] == [
        "Say something",
        "First try.",
        "And then?",
    ]
    saved = only_conversation(ia_home)
    assert [m.content for m in saved.messages] == ["Say something", "First try.", "And then?", "Follow-up."]
    assert (saved.messages[1].version, [v[0].content for v in saved.messages[1].versions]) == (
        0,
        ["Second try."],
    )
    assert term.leave() == 0
