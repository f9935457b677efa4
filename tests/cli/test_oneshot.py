"""One-shot use of main.py: the reply on stdout, stdin piped, --json, every exit code, faults, a 5 MB paste."""

from __future__ import annotations

import json
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from core.embedded.scripted import Delay, Drop, ErrorBefore, ErrorLine, MalformedLine, Script, Stall
from tests.cli.conftest import MAIN, REPO, cli_env, conversations, only_conversation, run_cli, wait_until

MODEL = "smollm2:135m"


@pytest.fixture
def env(scripted_server, ia_home: Path) -> dict[str, str]:
    return cli_env(scripted_server.url, ia_home)


def test_prompt_prints_the_reply_and_saves_the_conversation(scripted_server, env, ia_home: Path) -> None:
    scripted_server.engine.enqueue(Script(["The answer", " is 42."]))
    result = run_cli(["-m", MODEL, "What is the answer?"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "The answer is 42.\n"
    conv = only_conversation(ia_home)
    assert conv.title == "What is the answer?"
    assert [(m.role, m.content, m.status) for m in conv.messages] == [
        ("user", "What is the answer?", "complete"),
        ("assistant", "The answer is 42.", "complete"),
    ]
    assert (ia_home / "sav" / conv.slug / "conversation.md").is_file()


def test_backend_note_goes_to_stderr_not_stdout(scripted_server, env) -> None:
    result = run_cli(["-m", MODEL, "hi"], env)
    assert f"Using Ollama at {scripted_server.url}." in result.stderr
    assert "Using" not in result.stdout


def test_our_embedded_server_at_ollama_host_answers_with_its_chat_model_by_default(
    scripted_embedded_server, env, ia_home: Path
) -> None:
    """`python -m core.embedded` given as OLLAMA_HOST: without -m the chat model answers, not the base model
    listed first (gemma3:270m is for raw completion)."""
    from core.embedded.scripted import scripted_model

    scripted_embedded_server.engine.set_models(scripted_model("gemma3:270m"), scripted_model("smollm2:135m"))
    result = run_cli(["--json", "hi"], dict(env, OLLAMA_HOST=scripted_embedded_server.url))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["model"] == "smollm2:135m"
    assert json.loads(result.stdout)["backend"] == "embedded"
    assert scripted_embedded_server.engine.bodies("/api/chat")[0]["model"] == "smollm2:135m"


def test_a_real_ollama_is_named_ollama(ia_home: Path) -> None:
    """A server without our x-ia-backend header is Ollama (here a stand-in that answers only GET /)."""
    from tests.fixtures.servers import PlainHandler, plain_http_server

    class Handler(PlainHandler):
        def do_GET(self) -> None:
            ok = self.path == "/"
            self.send(200 if ok else 500, b"Ollama is running" if ok else b'{"error": "not here"}')

        do_POST = do_GET

    with plain_http_server(Handler) as url:
        result = run_cli(["-m", MODEL, "hi"], cli_env(url, ia_home))
    assert result.stderr.startswith(f"Using Ollama at {url}.\n")
    assert result.returncode == 5 and "HTTP 500" in result.stderr


def test_text_piped_on_stdin_is_added_to_the_prompt(scripted_server, env, ia_home: Path) -> None:
    result = run_cli(["-m", MODEL, "Summarise this:"], env, stdin="line one\nline two\n")
    assert result.returncode == 0, result.stderr
    sent = scripted_server.engine.bodies("/api/chat")[0]["messages"][-1]["content"]
    assert sent == "Summarise this:\n\nline one\nline two\n"
    assert only_conversation(ia_home).messages[0].content == sent


def test_stdin_alone_is_the_prompt(scripted_server, env) -> None:
    result = run_cli(["-m", MODEL], env, stdin="only from stdin")
    assert result.returncode == 0, result.stderr
    assert scripted_server.engine.bodies("/api/chat")[0]["messages"][-1]["content"] == "only from stdin"


def test_json_prints_one_record(scripted_server, env, ia_home: Path) -> None:
    scripted_server.engine.enqueue(Script(["json ", "reply"]))
    result = run_cli(["-m", MODEL, "--json", "give json"], env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    record = json.loads(lines[0])
    conv = only_conversation(ia_home)
    assert record["reply"] == "json reply"
    assert record["model"] == MODEL
    assert record["session"] == conv.slug
    assert record["status"] == "complete" and record["error"] is None
    assert record["stats"]["eval_count"] == 2 and record["stats"]["total_s"] > 0
    assert Path(record["path"]).is_file()


def test_session_flag_continues_a_conversation_with_its_context(scripted_server, env, ia_home: Path) -> None:
    scripted_server.engine.enqueue(Script(["Nice to meet you, Ada."]), Script(["You are Ada."]))
    assert run_cli(["-m", MODEL, "--session", "Intro", "My name is Ada."], env).returncode == 0
    result = run_cli(["-m", MODEL, "--session", "Intro", "What is my name?"], env)
    assert result.returncode == 0, result.stderr
    conv = only_conversation(ia_home)
    assert conv.title == "Intro" and len(conv.messages) == 4
    sent = scripted_server.engine.bodies("/api/chat")[-1]["messages"]
    assert [m["content"] for m in sent] == ["My name is Ada.", "Nice to meet you, Ada.", "What is my name?"]


def test_system_flag_is_sent_and_saved(scripted_server, env, ia_home: Path) -> None:
    assert run_cli(["-m", MODEL, "--system", "Answer in French.", "Hello"], env).returncode == 0
    sent = scripted_server.engine.bodies("/api/chat")[0]["messages"]
    assert sent[0] == {"role": "system", "content": "Answer in French."}
    assert only_conversation(ia_home).system_prompt == "Answer in French."


def test_exit_3_when_nothing_answers_and_embedded_is_refused(ia_home: Path) -> None:
    env = cli_env("http://127.0.0.1:9", ia_home, IA_EMBEDDED="auto")
    result = run_cli(["--no-embedded", "hello"], env)
    assert result.returncode == 3
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Cannot reach Ollama at http://127.0.0.1:9" in result.stderr


def test_exit_4_for_an_unknown_model(env, ia_home: Path) -> None:
    result = run_cli(["-m", "nosuch:7b", "hello"], env)
    assert result.returncode == 4
    assert "Model 'nosuch:7b' is not installed" in result.stderr
    conv = only_conversation(ia_home)
    assert conv.messages[0].content == "hello"  # the prompt is not lost


def test_exit_5_for_a_server_error(scripted_server, env) -> None:
    scripted_server.engine.enqueue(Script([ErrorBefore(500, "the model runner crashed")]))
    result = run_cli(["-m", MODEL, "hello"], env)
    assert result.returncode == 5
    assert "HTTP 500" in result.stderr and "the model runner crashed" in result.stderr


@pytest.mark.parametrize(
    "args",
    [["--bogus-flag", "hi"], ["--embedded", "--no-embedded", "hi"], []],
    ids=["unknown-flag", "conflicting-flags", "nothing-to-send"],
)
def test_exit_2_for_bad_usage(env, args: list[str], ia_home: Path) -> None:
    result = run_cli(args, env)
    assert result.returncode == 2
    assert "error:" in result.stderr
    assert conversations(ia_home) == []


def test_exit_130_when_interrupted_keeps_the_partial_reply(scripted_server, env, ia_home: Path) -> None:
    scripted_server.engine.enqueue(Script(["partial ", Delay(30), "never"]))
    proc = subprocess.Popen(
        [sys.executable, MAIN, "-m", MODEL, "tell me a long story"],
        env=env,
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until(lambda: scripted_server.engine.generations, what="the request to start")
        wait_until(
            lambda: any(
                m.content for c in conversations(ia_home) for m in c.messages if m.role == "assistant"
            ),
            what="the partial reply on disk",
        )
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert b"partial" in out
    assert b"interrupted" in err
    assert scripted_server.engine.wait_generation_end().stopped_by_cancel
    reply = only_conversation(ia_home).messages[-1]
    assert (reply.content, reply.status) == ("partial ", "interrupted")


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([ErrorBefore(500, "out of luck")], "HTTP 500"),
        (["Half an ans", ErrorLine("an error was encountered while running the model")], "cut off"),
        (["Half an ans", MalformedLine("{this is not json")], "not JSON"),
        (["Half an ans", Stall(30)], "sent nothing for 1 s"),
        (["Half an ans", Drop()], "dropped"),
    ],
    ids=["500-before-output", "error-line", "malformed-line", "stall", "dropped-connection"],
)
def test_faults_give_one_clear_line_keep_the_session_and_the_next_request_works(
    scripted_server, env, ia_home: Path, steps, expected: str
) -> None:
    (ia_home / "config.toml").write_text("stall_timeout = 1.0\n", "utf-8")
    scripted_server.engine.enqueue(Script(steps))
    result = run_cli(["-m", MODEL, "--session", "faults", "first question"], env)
    assert result.returncode == 5
    message = result.stderr.strip().splitlines()[-1]
    assert expected in message
    assert "Traceback" not in result.stderr
    conv = only_conversation(ia_home)
    assert conv.messages[0].content == "first question"
    if isinstance(steps[0], str):
        assert (conv.messages[1].content, conv.messages[1].status) == ("Half an ans", "interrupted")
        assert result.stdout.startswith("Half an ans")
    scripted_server.engine.enqueue(Script(["All good now."]))
    again = run_cli(["-m", MODEL, "--session", "faults", "second question"], env)
    assert again.returncode == 0, again.stderr
    assert again.stdout == "All good now.\n"
    messages = only_conversation(ia_home).messages
    assert [m.content for m in messages][0] == "first question"
    assert [(m.content, m.status) for m in messages][-1] == ("All good now.", "complete")


def test_a_5_mb_paste_through_stdin(scripted_server, env, ia_home: Path) -> None:
    line = "0123456789 abcdefghij ABCDEFGHIJ Ωμέγα ✓ the quick brown fox\n"
    paste = line * (5 * 1024 * 1024 // len(line.encode()) + 1)
    assert len(paste.encode()) >= 5 * 1024 * 1024
    scripted_server.engine.enqueue(Script(["Received."]))
    result = run_cli(["-m", MODEL, "--json", "Count the lines:"], env, stdin=paste, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["reply"] == "Received."
    sent = scripted_server.engine.bodies("/api/chat")[0]["messages"][-1]["content"]
    assert sent == "Count the lines:\n\n" + paste
    assert only_conversation(ia_home).messages[0].content == sent


def test_version_flag(env) -> None:
    result = run_cli(["--version"], env)
    assert result.returncode == 0
    assert result.stdout.startswith("IA_V3 3.")


def test_profile_flag_sets_model_system_prompt_and_options(scripted_server, env, ia_home: Path) -> None:
    from config import load_settings
    from core.profiles import Profile, save_profile

    settings = load_settings()
    save_profile(settings, Profile("terse", "gemma3:270m", "Be terse.", {"temperature": 0.1}))
    assert run_cli(["--profile", "terse", "hi"], env).returncode == 0
    assert run_cli(["--profile", "terse", "-m", MODEL, "hi again"], env).returncode == 0
    first, second = scripted_server.engine.bodies("/api/chat")
    assert first["model"] == "gemma3:270m" and second["model"] == MODEL  # -m wins over the profile
    assert first["messages"][0] == {"role": "system", "content": "Be terse."}
    assert first["options"] == {"temperature": 0.1}


def test_unknown_profile_is_bad_usage(env) -> None:
    result = run_cli(["--profile", "nosuch", "hi"], env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"There is no profile named 'nosuch' (none is saved in {Path(env['IA_HOME']) / 'profiles'} yet); "
        'create it with python tools/update_system_prompt.py set nosuch "SYSTEM PROMPT" --model MODEL.'
    ]


def test_host_flag_beats_ollama_host(scripted_server, ia_home: Path) -> None:
    env = cli_env("http://127.0.0.1:9", ia_home)
    result = run_cli(["--host", scripted_server.url, "-m", MODEL, "hi"], env)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello from the scripted engine.\n"


def test_home_flag_puts_the_conversation_there(scripted_server, env, ia_home: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    result = run_cli(["--home", str(other), "-m", MODEL, "hi"], env)
    assert result.returncode == 0, result.stderr
    assert len(conversations(other)) == 1
    assert conversations(ia_home) == []


def test_a_reply_cut_by_the_length_limit_says_so(scripted_server, env) -> None:
    scripted_server.engine.enqueue(Script(["cut"], done_reason="length"))
    result = run_cli(["-m", MODEL, "hi"], env)
    assert result.returncode == 0
    assert "length limit" in result.stderr


def test_bad_config_file_is_reported_in_one_sentence(env, ia_home: Path) -> None:
    (ia_home / "config.toml").write_text("temperature = [unclosed\n", "utf-8")
    result = run_cli(["-m", MODEL, "hi"], env)
    assert result.returncode == 1  # a problem on this machine (settings), not of the server
    assert "config.toml" in result.stderr and "not valid TOML" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_damaged_conversation_is_reported_and_left_untouched(env, ia_home: Path) -> None:
    folder = ia_home / "sav" / "notes"
    folder.mkdir(parents=True)
    damaged = "---\nformat: ia-conversation/1\ntitle: broken\n<!-- ia:message id=m1 role=user\nno end\n"
    (folder / "conversation.md").write_text(damaged, "utf-8")
    result = run_cli(["-m", MODEL, "--session", "notes", "hello"], env)
    assert result.returncode == 1  # a damaged file on this machine
    assert "Cannot read" in result.stderr and "left untouched" in result.stderr
    assert (folder / "conversation.md").read_text("utf-8") == damaged


def test_the_cli_path_imports_no_heavy_module(env) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", MAIN, "-m", MODEL, "hi"],
        input=b"",
        capture_output=True,
        env=env,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    imported = {
        line.rsplit("|", 1)[-1].strip() for line in result.stderr.decode().splitlines() if "|" in line
    }
    assert "ollama" in imported and "cli.oneshot" in imported  # the listing is real
    heavy = {"kivy", "matplotlib", "uvicorn", "starlette", "llama_cpp", "openpyxl"}
    assert not heavy & imported


def test_a_bad_host_flag_is_bad_usage_in_one_sentence(env) -> None:
    result = run_cli(["--host", "http://[bad", "hi"], env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "main.py: error: argument --host: 'http://[bad' is not a server address (Invalid IPv6 URL); "
        "write it like 127.0.0.1:11434"
    )


def test_a_bad_ollama_host_is_one_sentence(ia_home: Path) -> None:
    result = run_cli(["hi"], cli_env("http://[bad", ia_home))
    assert result.returncode == 1  # a bad setting (the environment's), not a server error
    assert result.stderr.strip().splitlines() == [
        "Bad setting in the environment: 'http://[bad' is not a server address (Invalid IPv6 URL); "
        "write it like 127.0.0.1:11434."
    ]


def test_an_unwritable_home_is_reported_in_sentences_without_log_noise(env, ia_home: Path) -> None:
    for name in ("sav", "logs", "data"):  # files where the folders should be: nothing can be written
        (ia_home / name).write_text("not a folder", "utf-8")
    result = run_cli(["-m", MODEL, "hello"], env)
    assert result.returncode == 1  # a problem on this machine: its files
    assert "Traceback" not in result.stderr and "WARNING" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(f"Cannot write {ia_home / 'sav'}")
    assert "fix the folder's permissions (IA_HOME)" in lines[-1]
    assert all(not line[:4].isdigit() for line in lines)  # no timestamped log records
    assert (ia_home / "sav").read_text("utf-8") == "not a folder"


def _namespace_mounts_work() -> bool:
    """True when `unshare -rm` lets us mount a tmpfs or a read-only bind (a user + mount namespace)."""
    if not shutil.which("unshare"):
        return False
    probe = subprocess.run(["unshare", "-rm", "mount", "-t", "tmpfs", "tmpfs", "/mnt"], capture_output=True)
    return probe.returncode == 0


# Fill the tiny file system for real (dd stops at ENOSPC), or make the folder read-only for real.
_FILL = (
    "mount -t tmpfs -o size=256k tmpfs {home} && (dd if=/dev/zero of={home}/filler bs=4k 2>/dev/null; true)"
)
_READ_ONLY = "mount --bind {home} {home} && mount -o remount,ro,bind {home}"


@pytest.mark.skipif(
    not _namespace_mounts_work(), reason="needs `unshare -rm` to mount a tmpfs or a read-only bind"
)
@pytest.mark.parametrize(
    ("mounts", "reason"),
    [(_FILL, "the disk is full"), (_READ_ONLY, "the file system is read-only")],
    ids=["full-disk", "read-only-home"],
)
def test_a_full_disk_or_a_read_only_home_exits_1_in_one_sentence(
    scripted_server, tmp_path: Path, mounts: str, reason: str
) -> None:
    """The real file system answers ENOSPC or EROFS (a private mount namespace, nothing injected): exit 1, the
    code for a problem on this machine, not 5 (a server error)."""
    home = tmp_path / "home"
    home.mkdir()
    script = f"{mounts.format(home=shlex.quote(str(home)))} && exec {shlex.quote(sys.executable)} {MAIN} -m {MODEL} hello"
    env = cli_env(scripted_server.url, home)
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, env=env, cwd=REPO, timeout=60
    )
    assert done.returncode == 1, done.stderr
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith(f"Cannot write {home}") and reason in lines[-1], lines
    assert "Traceback" not in done.stderr
    assert (
        scripted_server.engine.bodies("/api/chat") == []
    )  # nothing sent: the prompt could not be saved first
