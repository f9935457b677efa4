"""The CLI on an OpenAI-compatible server: `python main.py --host http://127.0.0.1:Q/v1 -m M "hi"` (the issue's
acceptance, `iav3` being the same program) through llama-cpp-python's own server, one-shot and interactive,
and the errors a person meets (unknown model, nothing listening, a server without usage)."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest

from tests.cli.conftest import Terminal, cli_env, conversations, only_conversation, run_cli, wait_until
from tests.conftest import DEAD_HOST

SHORT = "[options]\nnum_predict = 24\ntemperature = 0.0\n"


def _home(ia_home: Path, options: str = SHORT) -> Path:
    (ia_home / "config.toml").write_text(options, encoding="utf-8")
    return ia_home


def _expect_words(term: Terminal, text: str) -> None:
    """Wait for ``text`` on screen, wherever the terminal wrapped its lines."""
    term.child.expect(r"\s+".join(re.escape(word) for word in text.split()), timeout=20)


@pytest.mark.model
@pytest.mark.parametrize("form", ["url", "prefix"])
def test_one_shot_answers_through_llama_cpp_python_openai_server(llama_openai_server, ia_home, form):
    host = llama_openai_server.url if form == "url" else f"openai:http://127.0.0.1:{llama_openai_server.port}"
    home = _home(ia_home)
    done = run_cli(["--host", host, "-m", llama_openai_server.model, "hi"], cli_env(DEAD_HOST, home))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip(), "no reply printed"
    assert f"Using the OpenAI-compatible server at {llama_openai_server.url}." in done.stderr
    conv = only_conversation(home)
    reply = conv.messages[-1]
    assert reply.role == "assistant" and reply.status == "complete" and reply.content.strip()
    assert reply.content.strip() in done.stdout
    assert reply.model == llama_openai_server.model and conv.model == llama_openai_server.model
    assert reply.stats["counts_from"] == "" and reply.stats["ttft_s"] > 0


@pytest.mark.model
def test_json_record_and_dev_stats_say_the_backend_and_what_was_not_reported(llama_openai_server, ia_home):
    home = _home(ia_home)
    done = run_cli(
        ["--host", llama_openai_server.url, "-m", llama_openai_server.model, "--json", "--dev", "hi"],
        cli_env(DEAD_HOST, home),
    )
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["backend"] == "openai" and record["host"] == llama_openai_server.url
    assert record["status"] == "complete" and record["reply"].strip()
    assert record["stats"]["ttft_s"] > 0 and record["stats"]["gen_tps"] is None
    assert "tok/s not reported (the server sent no token counts)" in done.stderr


@pytest.mark.model
def test_an_unknown_model_exits_4_naming_what_the_server_serves(llama_openai_server, ia_home):
    done = run_cli(
        ["--host", llama_openai_server.url, "-m", "smollm2:135m", "hi"], cli_env(DEAD_HOST, ia_home)
    )
    assert done.returncode == 4, done.stderr
    assert "Model 'smollm2:135m' is not served by the OpenAI-compatible server" in done.stderr
    assert f"it serves {llama_openai_server.model}" in done.stderr


def test_nothing_listening_at_an_openai_host_exits_3(ia_home):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = run_cli(["--host", f"http://127.0.0.1:{port}/v1", "-m", "m", "hi"], cli_env(DEAD_HOST, ia_home))
    assert done.returncode == 3
    assert (
        f"Cannot reach the OpenAI-compatible server at http://127.0.0.1:{port}/v1: is it running?"
        in done.stderr
    )


def test_tokens_per_second_from_usage_in_the_dev_line(openai_stand_in, ia_home):
    openai_stand_in.delay_s = 0.02
    done = run_cli(
        ["--host", openai_stand_in.url, "-m", "stand-in-model", "--dev", "hi"],
        cli_env(DEAD_HOST, _home(ia_home)),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "Hello from the stand-in."
    assert " tok/s · " in done.stderr and "5 tokens · prompt 11 tokens" in done.stderr
    body = openai_stand_in.bodies("/v1/chat/completions")[0]
    assert body["max_tokens"] == 24 and body["temperature"] == 0.0  # config.toml's options, translated


def test_a_server_without_a_model_list_needs_a_model_name_and_says_so(openai_stand_in, ia_home):
    openai_stand_in.models = None
    done = run_cli(["--host", openai_stand_in.url, "hi"], cli_env(DEAD_HOST, ia_home))
    assert done.returncode == 5
    assert "cannot list its models" in done.stderr and "-m NAME" in done.stderr
    named = run_cli(["--host", openai_stand_in.url, "-m", "whatever", "hi"], cli_env(DEAD_HOST, ia_home))
    assert named.returncode == 0 and named.stdout.strip() == "Hello from the stand-in."


@pytest.mark.model
def test_interactive_chat_models_and_ctrl_c_mid_reply(llama_openai_server, ia_home):
    home = _home(ia_home)
    model = llama_openai_server.model
    term = Terminal(["--host", llama_openai_server.url, "-m", model, "--plain"], cli_env(DEAD_HOST, home))
    try:
        banner = term.expect("ia>", timeout=30)
        assert f"Using the OpenAI-compatible server at {llama_openai_server.url}." in banner
        term.say("hi")

        def replied() -> object:
            convs = conversations(home)
            last = convs[0].messages[-1] if convs and convs[0].messages else None
            return last is not None and last.role == "assistant" and last.status == "complete" and last

        reply = wait_until(replied, 60, "the reply to be saved")
        assert reply.content.strip()
        term.expect(reply.content.strip().split()[-1])  # its last word on screen, then the prompt
        term.prompt()

        term.say("/models")
        term.expect(model)
        term.say("/show")
        term.expect("name")
        term.say("/ps")
        _expect_words(term, "cannot say which models are loaded in memory: the OpenAI API has no such call.")
        term.say("/unload")
        _expect_words(term, "cannot unload a model")
        term.say("/pull qwen3:0.6b")
        _expect_words(term, "cannot pull models")
        term.prompt()

        before = llama_openai_server.log_text().count("disconnected")
        term.say("/set num_predict 1500")
        term.prompt()
        term.say("Write a very long story about a lighthouse keeper.")

        def streaming() -> object:
            last = conversations(home)[0].messages[-1]
            return last.role == "assistant" and last.status == "streaming" and last.content.strip()

        wait_until(streaming, 60, "the reply to be streaming")  # saved as it comes, every half second
        term.child.sendintr()
        term.expect("[interrupted: the partial reply is kept]", timeout=30)
        term.prompt()
        stopped = wait_until(
            lambda: (
                only_conversation(home).messages[-1].status == "interrupted"
                and only_conversation(home).messages[-1]
            ),
            10,
            "the partial reply to be saved",
        )
        assert stopped.status == "interrupted" and stopped.content.strip()
        wait_until(
            lambda: llama_openai_server.log_text().count("disconnected") > before,
            30,
            "llama_cpp.server to log that the client left the stream",
        )
        assert term.leave() == 0
    finally:
        term.close()
