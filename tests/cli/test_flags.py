"""The one-shot flags people know from `ollama run` and `llm`, end to end through main.py against the scripted
Ollama-protocol server, which records every request: -o, -s, -a, -c, --format, --think/--no-think,
--keepalive, -n (and /set format in the chat)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pexpect
import pytest

from cli.oneshot import NOTHING_TO_CONTINUE
from core.embedded.scripted import ErrorBefore, Script, Think
from tests.cli.conftest import cli_env, conversations, only_conversation, run_cli

MODEL = "smollm2:135m"
SCHEMA = {
    "type": "object",
    "properties": {"capital": {"type": "string"}, "population": {"type": "integer"}},
    "required": ["capital"],
}


@pytest.fixture
def env(scripted_server, ia_home: Path) -> dict[str, str]:
    return cli_env(scripted_server.url, ia_home)


def _chat_bodies(server) -> list[dict]:
    return server.engine.bodies("/api/chat")


def _picture(path: Path, colour: str = "red") -> Path:
    from PIL import Image

    Image.new("RGB", (4, 4), colour).save(path)
    return path


def _files(home: Path) -> dict[str, bytes]:
    """Every file under a home with its bytes: what a run wrote, changed or left alone."""
    return {str(p.relative_to(home)): p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file()}


def _usage_error(result, text: str) -> None:
    assert result.returncode == 2, result.stderr
    assert text in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


# ------------------------------------------------------------------------------------------------ -o


def test_option_values_are_typed_as_ollama_types_them(scripted_server, env, ia_home: Path) -> None:
    args = ["-m", MODEL, "-o", "temperature", "0.2", "-o", "num_ctx", "8192", "-o", "top_k", "20"]
    args += ["-o", "use_mmap", "false", "-o", "min_p", "0.05", "-o", "seed", "-1"]
    args += ["-o", "stop", '["\\n\\n", "User:"]', "--option", "stop", "END", "hello"]
    result = run_cli(args, env)
    assert result.returncode == 0, result.stderr
    options = _chat_bodies(scripted_server)[0]["options"]
    assert options == {
        "temperature": 0.2,
        "num_ctx": 8192,
        "top_k": 20,
        "use_mmap": False,
        "min_p": 0.05,
        "seed": -1,
        "stop": ["\n\n", "User:", "END"],  # a repeated stop adds up; a JSON list brings its escapes
    }
    assert only_conversation(ia_home).options == options  # kept with the conversation, as /set does


@pytest.mark.parametrize(
    ("pair", "message"),
    [
        (["temprature", "0.2"], "Unknown option 'temprature'. Did you mean temperature?"),
        (["colour", "red"], "Unknown option 'colour'. Options: draft_num_predict"),
        (
            ["temperature", "hot"],
            "temperature takes a number from 0 to 2; 'hot' is not a number of that kind.",
        ),
        (["temperature", "7"], "temperature takes a number from 0 to 2; 7 is out of range."),
        (["num_ctx", "4096.5"], "num_ctx takes a whole number from 256 to 1048576"),
        (["top_k", "many"], "top_k takes a whole number; not 'many'."),
        (["min_p", "nan"], "min_p takes a number; not 'nan'."),
        (["use_mmap", "perhaps"], "use_mmap takes true or false; not 'perhaps'."),
        (["stop", "[1, 2]"], "stop takes a string, or a JSON list of strings"),
        (
            ["stop", '["unclosed'],
            'stop takes a string, or a JSON list of strings like \'["\\n\\n", "User:"]\'; that list is '
            "not valid JSON (Unterminated string starting at: column 2).",
        ),
    ],
    ids=[
        "typo",
        "unknown",
        "not-a-number",
        "out-of-range",
        "not-whole",
        "int",
        "nan",
        "bool",
        "list",
        "json",
    ],
)
def test_bad_options_are_bad_usage_and_nothing_is_sent(
    scripted_server, env, ia_home: Path, pair: list[str], message: str
) -> None:
    result = run_cli(["-m", MODEL, "-o", *pair, "hello"], env)
    _usage_error(result, "argument -o/--option: " + message)
    assert _chat_bodies(scripted_server) == []
    assert conversations(ia_home) == []


def test_options_win_over_config_toml_and_the_profile(scripted_server, env, ia_home: Path) -> None:
    from config import load_settings
    from core.profiles import Profile, save_profile

    (ia_home / "config.toml").write_text("[options]\ntemperature = 0.9\ntop_p = 0.5\n", "utf-8")
    save_profile(load_settings(), Profile("warm", MODEL, "", {"temperature": 1.2, "seed": 3}))
    result = run_cli(["--profile", "warm", "-o", "temperature", "0.1", "hello"], env)
    assert result.returncode == 0, result.stderr
    assert _chat_bodies(scripted_server)[0]["options"] == {"temperature": 0.1, "top_p": 0.5, "seed": 3}


# ------------------------------------------------------------------------------------------------ -s


def test_short_system_flag_is_sent_and_replaces_the_continued_conversations(
    scripted_server, env, ia_home: Path
) -> None:
    assert run_cli(["-m", MODEL, "-s", "Answer in French.", "Hello"], env).returncode == 0
    assert _chat_bodies(scripted_server)[0]["messages"][0] == {
        "role": "system",
        "content": "Answer in French.",
    }
    assert run_cli(["-c", "And now?"], env).returncode == 0  # without -s the conversation keeps its own
    assert _chat_bodies(scripted_server)[1]["messages"][0]["content"] == "Answer in French."
    assert run_cli(["-c", "-s", "Answer in German.", "Again"], env).returncode == 0
    assert _chat_bodies(scripted_server)[2]["messages"][0] == {
        "role": "system",
        "content": "Answer in German.",
    }
    assert only_conversation(ia_home).system_prompt == "Answer in German."


# ------------------------------------------------------------------------------------------------ -a


def test_attached_images_are_sent_with_the_prompt_and_saved(
    scripted_server, env, ia_home: Path, tmp_path: Path
) -> None:
    red = _picture(tmp_path / "red.png")
    blue = _picture(tmp_path / "blue.jpg", "blue")
    result = run_cli(["-m", "vision:latest", "-a", str(red), "--attach", str(blue), "What colours?"], env)
    assert result.returncode == 0, result.stderr
    sent = _chat_bodies(scripted_server)[0]["messages"][-1]
    assert sent["content"] == "What colours?"
    assert [base64.b64decode(i) for i in sent["images"]] == [red.read_bytes(), blue.read_bytes()]
    conv = only_conversation(ia_home)
    assert conv.messages[0].images == ["attachments/red.png", "attachments/blue.jpg"]
    assert (ia_home / "sav" / conv.slug / "attachments" / "blue.jpg").read_bytes() == blue.read_bytes()


def test_the_llm_spelling_attachment_works_too(scripted_server, env, tmp_path: Path) -> None:
    red = _picture(tmp_path / "red.png")
    assert run_cli(["-m", "vision:latest", "--attachment", str(red), "What?"], env).returncode == 0
    assert len(_chat_bodies(scripted_server)[0]["messages"][-1]["images"]) == 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.png", None, "No file at"),
        ("notes.txt", b"just text", "notes.txt is not an image (.png, .jpg"),
        ("fake.png", b"not a picture at all", "fake.png cannot be read as an image"),
    ],
    ids=["missing", "not-an-image-type", "unreadable-image"],
)
def test_a_bad_attachment_is_bad_usage_and_nothing_is_sent(
    scripted_server, env, ia_home: Path, tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = run_cli(["-m", "vision:latest", "-a", str(path), "What is it?"], env)
    _usage_error(result, f"argument -a/--attach/--attachment: {message}")
    assert _chat_bodies(scripted_server) == []
    assert conversations(ia_home) == []


def test_an_image_for_a_model_without_vision_gets_the_capability_error(
    scripted_server, env, ia_home: Path, tmp_path: Path
) -> None:
    red = _picture(tmp_path / "red.png")
    result = run_cli(["-m", MODEL, "-a", str(red), "What colour?"], env)
    assert result.returncode == 5
    assert result.stderr.strip().splitlines()[-1] == (
        f"Model '{MODEL}' does not support images: remove the image, or choose a model with vision."
    )
    assert only_conversation(ia_home).messages[0].content == "What colour?"  # the prompt is not lost


# ------------------------------------------------------------------------------------------------ -c


def test_continue_picks_up_the_last_conversation_with_its_context(
    scripted_server, env, ia_home: Path
) -> None:
    scripted_server.engine.enqueue(
        Script(["Nice to meet you, Ada."]), Script(["Rust."]), Script(["You are Ada."]), Script(["Paris."])
    )
    assert run_cli(["-m", MODEL, "My name is Ada."], env).returncode == 0
    assert run_cli(["-m", MODEL, "A language?"], env).returncode == 0
    assert run_cli(["-m", MODEL, "--session", "my-name-is-ada", "Who am I?"], env).returncode == 0
    result = run_cli(["--continue", "--json", "And a city?"], env)  # the last touched: Ada's again
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["session"] == "my-name-is-ada" and record["saved"] is True
    sent = [m["content"] for m in _chat_bodies(scripted_server)[-1]["messages"]]
    assert sent == ["My name is Ada.", "Nice to meet you, Ada.", "Who am I?", "You are Ada.", "And a city?"]
    assert len(conversations(ia_home)) == 2
    assert len(next(c for c in conversations(ia_home) if c.slug == "my-name-is-ada").messages) == 6


def test_continue_keeps_the_conversations_model_unless_one_is_asked_for(scripted_server, env) -> None:
    assert run_cli(["-m", "vision:latest", "first"], env).returncode == 0
    assert run_cli(["-c", "second"], env).returncode == 0
    env_model = dict(env, IA_MODEL=MODEL)  # a default model does not replace the conversation's
    assert run_cli(["-c", "third"], env_model).returncode == 0
    assert run_cli(["-c", "-m", "gemma3:270m", "fourth"], env).returncode == 0
    assert [b["model"] for b in _chat_bodies(scripted_server)] == [
        "vision:latest",
        "vision:latest",
        "vision:latest",
        "gemma3:270m",
    ]


def test_continue_with_nothing_saved_says_so_and_starts_a_new_conversation(
    scripted_server, env, ia_home: Path
) -> None:
    result = run_cli(["-m", MODEL, "-c", "Hello?"], env)
    assert result.returncode == 0, result.stderr
    assert NOTHING_TO_CONTINUE in result.stderr
    assert result.stdout == "Hello from the scripted engine.\n"
    assert only_conversation(ia_home).title == "Hello?"


def test_continue_and_session_together_are_bad_usage(env, ia_home: Path) -> None:
    result = run_cli(["-c", "--session", "notes", "hi"], env)
    _usage_error(result, "argument --session: not allowed with argument -c/--continue")
    assert conversations(ia_home) == []


def test_continue_of_a_damaged_last_conversation_says_so_and_leaves_it(env, ia_home: Path) -> None:
    folder = ia_home / "sav" / "notes"
    folder.mkdir(parents=True)
    damaged = "---\nformat: ia-conversation/1\ntitle: broken\n<!-- ia:message id=m1 role=user\nno end\n"
    (folder / "conversation.md").write_text(damaged, "utf-8")
    result = run_cli(["-m", MODEL, "-c", "hello"], env)
    assert result.returncode == 1
    assert "Cannot read" in result.stderr and "left untouched" in result.stderr
    assert (folder / "conversation.md").read_text("utf-8") == damaged


# ------------------------------------------------------------------------------------------------ --format


def test_format_json_is_sent(scripted_server, env) -> None:
    scripted_server.engine.enqueue(Script(['{"colours": ', '["red", "green"]}']))
    result = run_cli(["-m", MODEL, "--format", "json", "Two colours as JSON"], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"colours": ["red", "green"]}
    assert _chat_bodies(scripted_server)[0]["format"] == "json"


def test_format_schema_from_a_file_or_inline_is_sent_as_an_object(
    scripted_server, env, tmp_path: Path
) -> None:
    schema_file = tmp_path / "capital.schema.json"
    schema_file.write_text(json.dumps(SCHEMA, indent=2), "utf-8")
    assert run_cli(["-m", MODEL, "--format", str(schema_file), "Capital of France?"], env).returncode == 0
    assert run_cli(["-m", MODEL, "--format", json.dumps(SCHEMA), "Capital of Peru?"], env).returncode == 0
    first, second = _chat_bodies(scripted_server)
    assert first["format"] == SCHEMA and second["format"] == SCHEMA


def test_no_format_flag_sends_no_format(scripted_server, env) -> None:
    assert run_cli(["-m", MODEL, "hi"], env).returncode == 0
    assert "format" not in _chat_bodies(scripted_server)[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "format takes json, off, or a JSON schema file; there is no file at"),
        ('{"type": "object",\n "properties": }', "is not valid JSON (line 2, column 16: Expecting value)."),
        ('["not", "a", "schema"]', 'holds an array, not a JSON schema object like {"type": "object"'),
        (b"\xff\xfe{}", "is not UTF-8 text."),
    ],
    ids=["missing", "not-json", "array", "not-utf8"],
)
def test_a_bad_schema_file_is_bad_usage_and_nothing_is_sent(
    scripted_server, env, ia_home: Path, tmp_path: Path, content: str | bytes | None, message: str
) -> None:
    path = tmp_path / "schema.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, "utf-8")
    result = run_cli(["-m", MODEL, "--format", str(path), "hello"], env)
    _usage_error(result, "argument --format: ")
    assert message in result.stderr
    assert _chat_bodies(scripted_server) == []
    assert conversations(ia_home) == []


# ------------------------------------------------------------------------------------------------ --think


def test_think_and_no_think_reach_a_thinking_model(scripted_server, env, ia_home: Path) -> None:
    thought = Script([Think("Let me see. "), "Four."])
    scripted_server.engine.enqueue(thought, thought, thought)
    on = run_cli(["-m", "thinker:latest", "--think", "--json", "2+2?"], env)
    level = run_cli(["-m", "thinker:latest", "--think=high", "2+2?"], env)
    off = run_cli(["-m", "thinker:latest", "--no-think", "--json", "2+2?"], env)
    assert [r.returncode for r in (on, level, off)] == [0, 0, 0], off.stderr
    assert [b["think"] for b in _chat_bodies(scripted_server)] == [True, "high", False]
    assert json.loads(on.stdout)["thinking"] == "Let me see. "
    assert json.loads(off.stdout)["thinking"] == ""  # the server dropped the thinking
    assert json.loads(off.stdout)["reply"] == "Four."


def test_a_bare_think_before_the_prompt_does_not_take_the_prompt_for_a_level(scripted_server, env) -> None:
    result = run_cli(["-m", "thinker:latest", "--think", "What is 2+2?"], env)
    assert result.returncode == 0, result.stderr
    body = _chat_bodies(scripted_server)[0]
    assert body["think"] is True and body["messages"][-1]["content"] == "What is 2+2?"


def test_no_think_flag_leaves_think_unset(scripted_server, env) -> None:
    assert run_cli(["-m", "thinker:latest", "2+2?"], env).returncode == 0
    assert "think" not in _chat_bodies(scripted_server)[0]


def test_think_for_a_model_that_cannot_think_is_refused_and_no_think_is_fine(
    scripted_server, env, ia_home: Path
) -> None:
    refused = run_cli(["-m", MODEL, "--think", "2+2?"], env)
    assert refused.returncode == 5
    assert refused.stderr.strip().splitlines()[-1] == (
        f"Model '{MODEL}' does not support thinking: turn thinking off (/set think off in a chat, --no-think "
        "for one prompt), or choose a model that thinks."
    )
    fine = run_cli(["-m", MODEL, "--no-think", "2+2?"], env)
    assert fine.returncode == 0, fine.stderr
    assert fine.stdout == "Hello from the scripted engine.\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--think=maybe"], "argument --think: think takes on, off, low, medium or high; not 'maybe'."),
        (["--think", "--no-think"], "argument --no-think: not allowed with argument --think"),
    ],
    ids=["bad-level", "both"],
)
def test_bad_think_flags_are_bad_usage(scripted_server, env, args: list[str], message: str) -> None:
    _usage_error(run_cli(["-m", "thinker:latest", *args, "hi"], env), message)
    assert _chat_bodies(scripted_server) == []


# ------------------------------------------------------------------------------------------------ --keepalive


@pytest.mark.parametrize(
    ("value", "sent"),
    [("5m", "5m"), ("1h30m", "1h30m"), ("300", 300), ("0", 0), ("-1", -1), ("-1m", "-1m")],
    ids=["5m", "1h30m", "seconds", "unload-now", "forever", "negative-duration"],
)
def test_keepalive_values_reach_the_request_and_the_server_takes_them(
    scripted_server, env, value: str, sent: str | int
) -> None:
    result = run_cli(["-m", MODEL, f"--keepalive={value}", "hi"], env)
    assert result.returncode == 0, result.stderr
    assert _chat_bodies(scripted_server)[0]["keep_alive"] == sent


def test_keepalive_takes_a_negative_number_as_its_value(scripted_server, env) -> None:
    assert run_cli(["-m", MODEL, "--keepalive", "-1", "hi"], env).returncode == 0
    assert _chat_bodies(scripted_server)[0]["keep_alive"] == -1


@pytest.mark.parametrize("value", ["5 minutes", "soon", "1.5", "5M"])
def test_a_bad_keepalive_is_bad_usage(scripted_server, env, value: str) -> None:
    result = run_cli(["-m", MODEL, "--keepalive", value, "hi"], env)
    _usage_error(result, "argument --keepalive: keep_alive takes seconds (e.g. 300, 0, -1) or a duration")
    assert _chat_bodies(scripted_server) == []


# ------------------------------------------------------------------------------------------------ -n


def test_no_log_prints_the_reply_and_writes_nothing(scripted_server, env, ia_home: Path) -> None:
    (ia_home / "config.toml").write_text("dev_mode = true\n", "utf-8")  # not even DEV records
    scripted_server.engine.enqueue(Script(["Here is code:\n\n```python\nprint(1)\n```\n"]))
    result = run_cli(["-m", MODEL, "-n", "A private question"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Here is code:\n\n```python\nprint(1)\n```\n"
    assert "tok/s" in result.stderr  # DEV mode still shows the timings
    assert _files(ia_home) == {"config.toml": b"dev_mode = true\n"}
    assert sorted(p.name for p in ia_home.iterdir()) == ["config.toml"]  # no sav/, logs/ or data/ folder


def test_no_log_json_record_says_it_was_not_saved(scripted_server, env, ia_home: Path) -> None:
    result = run_cli(["-m", MODEL, "--no-log", "--json", "A private question"], env)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["saved"] is False and record["path"] is None and record["session"] is None
    assert record["reply"] == "Hello from the scripted engine." and record["status"] == "complete"
    assert record["code_files"] == []
    assert list(ia_home.iterdir()) == []


def test_no_log_with_continue_uses_the_context_and_changes_no_file(
    scripted_server, env, ia_home: Path
) -> None:
    scripted_server.engine.enqueue(Script(["Nice to meet you, Ada."]), Script(["You are Ada."]))
    assert run_cli(["-m", MODEL, "My name is Ada."], env).returncode == 0
    before = _files(ia_home)
    assert any(name.endswith("conversation.md") for name in before)
    assert "data/index.sqlite" in before and any(name.startswith("logs/") for name in before)
    result = run_cli(["-c", "-n", "-s", "Be brief.", "-o", "seed", "4", "--json", "Who am I?"], env)
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["saved"] is False and record["session"] == "my-name-is-ada" and record["path"] is None
    assert record["reply"] == "You are Ada."
    body = _chat_bodies(scripted_server)[-1]
    assert [m["content"] for m in body["messages"]] == [
        "Be brief.",
        "My name is Ada.",
        "Nice to meet you, Ada.",
        "Who am I?",
    ]
    assert body["options"] == {"seed": 4}
    assert _files(ia_home) == before  # not a byte changed: conversation, logs, search index


def test_no_log_with_an_image_copies_nothing(scripted_server, env, ia_home: Path, tmp_path: Path) -> None:
    red = _picture(tmp_path / "red.png")
    result = run_cli(["-m", "vision:latest", "-n", "-a", str(red), "What colour?"], env)
    assert result.returncode == 0, result.stderr
    images = _chat_bodies(scripted_server)[0]["messages"][-1]["images"]
    assert [base64.b64decode(i) for i in images] == [red.read_bytes()]
    assert list(ia_home.iterdir()) == []


def test_no_log_with_a_failed_request_reports_it_and_writes_nothing(
    scripted_server, env, ia_home: Path
) -> None:
    scripted_server.engine.enqueue(Script([ErrorBefore(500, "the model runner crashed")]))
    result = run_cli(["-m", MODEL, "-n", "hello"], env)
    assert result.returncode == 5
    assert "HTTP 500" in result.stderr and "the model runner crashed" in result.stderr
    assert list(ia_home.iterdir()) == []


def test_no_log_with_a_session_not_saved_yet_creates_nothing(scripted_server, env, ia_home: Path) -> None:
    result = run_cli(["-m", MODEL, "-n", "--session", "ideas", "--json", "hello"], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["title"] == "ideas"
    assert list(ia_home.iterdir()) == []


def test_no_log_with_a_session_named_by_its_title_reads_it_without_the_index(
    scripted_server, env, ia_home: Path
) -> None:
    scripted_server.engine.enqueue(Script(["Noted."]))
    assert run_cli(["-m", MODEL, "--session", "Garden Ideas", "Plant tomatoes."], env).returncode == 0
    assert run_cli(["-m", MODEL, "Another topic"], env).returncode == 0
    (ia_home / "data" / "index.sqlite").unlink()  # a title look-up through the index would rebuild it
    before = _files(ia_home)
    result = run_cli(["-n", "--session", "Garden Ideas", "What did I plan?"], env)
    assert result.returncode == 0, result.stderr
    sent = [m["content"] for m in _chat_bodies(scripted_server)[-1]["messages"]]
    assert sent == ["Plant tomatoes.", "Noted.", "What did I plan?"]
    assert _files(ia_home) == before


# ------------------------------------------------------------------------------------------------ interactive


def test_no_log_needs_a_prompt(terminal_factory, ia_home: Path) -> None:
    term = terminal_factory("-m", MODEL, "-n")
    term.expect("-n/--no-log needs a PROMPT (it is for one-shot use)")
    term.child.expect(pexpect.EOF)
    term.child.close()
    assert term.child.exitstatus == 2
    assert list(ia_home.iterdir()) == []


def test_set_format_in_the_chat(terminal_factory, scripted_server, tmp_path: Path) -> None:
    schema_file = tmp_path / "capital.json"
    schema_file.write_text(json.dumps(SCHEMA), "utf-8")
    broken = tmp_path / "broken.json"
    broken.write_text("{nope", "utf-8")
    term = terminal_factory("-m", MODEL, "--plain")
    term.prompt()
    term.say("/set format json")
    term.expect("format = json")
    term.say("one")
    term.expect("Hello from the scripted engine.")
    term.prompt()
    term.say(f"/set format {schema_file}")
    term.expect('format = schema {"type":"object"')
    term.say("two")
    term.expect("Hello from the scripted engine.")
    term.prompt()
    term.say(f"/set format {broken}")
    term.expect("is not valid JSON (line 1, column 2")
    term.say(f"/set format {tmp_path / 'missing.json'}")
    term.expect("there is no file at")
    term.say("/set")
    listing = term.expect("Reset one with /set KEY default.")
    assert any(line.split()[:2] == ["format", "schema"] for line in listing.splitlines()), listing
    term.say("/set format off")
    term.expect("format = off")
    term.say("three")
    term.expect("Hello from the scripted engine.")
    term.prompt()
    assert term.leave() == 0
    first, second, third = _chat_bodies(scripted_server)
    assert first["format"] == "json" and second["format"] == SCHEMA and "format" not in third


def test_flags_in_the_interactive_chat(
    terminal_factory, scripted_server, ia_home: Path, tmp_path: Path
) -> None:
    """-c opens the last conversation, -s and -o change it, -a goes with the first message, --format,
    --think and --keepalive reach every request."""
    assert (
        run_cli(["-m", "vision:latest", "First question"], cli_env(scripted_server.url, ia_home)).returncode
        == 0
    )
    red = _picture(tmp_path / "red.png")
    term = terminal_factory(
        "-c", "-s", "Be terse.", "-o", "temperature", "0.3", "-a", str(red), "--format", "json",
        "--no-think", "--keepalive", "10m", "--plain",
    )  # fmt: skip
    banner = term.expect("ia>")
    assert "Session: First question (first-question)" in banner and "Model: vision:latest" in banner
    assert "Attached red.png; it goes with your first message." in banner
    term.say("What colour?")
    term.expect("Hello from the scripted engine.")
    term.prompt()
    term.say("And now?")
    term.expect("Hello from the scripted engine.")
    term.prompt()
    assert term.leave() == 0
    _, first, second = _chat_bodies(scripted_server)
    for body in (first, second):
        assert body["model"] == "vision:latest" and body["format"] == "json"
        assert body["think"] is False and body["keep_alive"] == "10m"
        assert body["options"] == {"temperature": 0.3}
        assert body["messages"][0] == {"role": "system", "content": "Be terse."}
    assert [base64.b64decode(i) for i in first["messages"][-1]["images"]] == [red.read_bytes()]
    assert "images" not in second["messages"][-1]
    conv = only_conversation(ia_home)
    assert conv.system_prompt == "Be terse." and conv.options == {"temperature": 0.3}
    assert len(conv.messages) == 6


def test_continue_in_the_chat_with_nothing_saved_says_so(terminal_factory, ia_home: Path) -> None:
    term = terminal_factory("-m", MODEL, "-c", "--plain")
    banner = term.expect("ia>")
    assert NOTHING_TO_CONTINUE in banner and "Session: new" in banner
    assert term.leave() == 0


# ------------------------------------------------------------------------------------------------ real model


@pytest.mark.model
def test_format_json_and_a_schema_with_the_real_model_give_parseable_json(
    embedded_server, ia_home: Path, tmp_path: Path
) -> None:
    """smollm2:135m through llama.cpp: the grammar built from `format` makes even a tiny model answer JSON."""
    env = cli_env(embedded_server.url, ia_home)
    short = ["-m", "smollm2:135m", "-o", "num_predict", "200", "-o", "temperature", "0"]
    result = run_cli(
        [*short, "--format", "json", "Give the capital of France as a JSON object with the key capital."],
        env,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    assert "length limit" not in result.stderr  # the reply ended by itself: complete JSON
    assert isinstance(json.loads(result.stdout), dict), result.stdout
    schema = {
        "type": "object",
        "properties": {
            "capital": {"type": "string", "maxLength": 30},
            "country": {"type": "string", "maxLength": 30},
        },
        "required": ["capital", "country"],
    }
    schema_file = tmp_path / "capital.json"
    schema_file.write_text(json.dumps(schema), "utf-8")
    result = run_cli(
        [*short, "--format", str(schema_file), "-n", "What is the capital of France?"], env, timeout=240
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) == {"capital", "country"}
    assert all(isinstance(v, str) and len(v) <= 30 for v in answer.values())
